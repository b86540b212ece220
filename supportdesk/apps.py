from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SupportDeskConfig(AppConfig):
    name = "supportdesk"
    verbose_name = "Support desk"

    def ready(self) -> None:
        from anymail.signals import inbound

        from supportdesk.imap import imap_schedule_sync
        from supportdesk.inbound import on_inbound
        from supportdesk.roles import ensure_roles

        # After the last app migrated, every permission the roles name exists.
        post_migrate.connect(ensure_roles, dispatch_uid="supportdesk.ensure_roles")
        post_migrate.connect(imap_schedule_sync, dispatch_uid="supportdesk.imap_schedule")
        # Mail providers' inbound webhooks hand each message to the e-mail intake.
        inbound.connect(on_inbound, dispatch_uid="supportdesk.inbound_email")
