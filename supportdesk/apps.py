from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SupportDeskConfig(AppConfig):
    name = "supportdesk"
    verbose_name = "Support desk"

    def ready(self) -> None:
        from supportdesk.roles import ensure_roles

        # After the last app migrated, every permission the roles name exists.
        post_migrate.connect(ensure_roles, dispatch_uid="supportdesk.ensure_roles")
