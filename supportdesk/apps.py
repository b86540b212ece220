from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SupportDeskConfig(AppConfig):
    name = "supportdesk"
    verbose_name = "Support desk"

    def ready(self) -> None:
        from anymail.signals import inbound

        from supportdesk.inbound import on_inbound
        from supportdesk.roles import ensure_roles

        # After the last app migrated, every permission the roles name exists.
        post_migrate.connect(ensure_roles, dispatch_uid="supportdesk.ensure_roles")
        # Mail providers' inbound webhooks hand each message to the e-mail intake.
        inbound.connect(on_inbound, dispatch_uid="supportdesk.inbound_email")
