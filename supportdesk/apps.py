from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.http import HttpRequest


def ensure_attachment_sweep_schedule(**kwargs: object) -> None:
    """With the embedded django-q2 worker, sweep unreferenced attachment files daily."""
    from supportdesk.queue import schedule_every

    schedule_every(name="attachment_sweep", task="supportdesk.tasks.attachment_sweep", minutes=1440)


def end_desk_sockets_on_logout(*, request: HttpRequest | None, **kwargs: object) -> None:
    """Logout fires this before it flushes the session, so the key is still known here."""
    from supportdesk.services import auth_session_end

    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        auth_session_end(session_key=session.session_key)


class SupportDeskConfig(AppConfig):
    name = "supportdesk"
    verbose_name = "Support desk"

    def ready(self) -> None:
        from anymail.signals import inbound
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_out

        from supportdesk.imap import imap_schedule_sync
        from supportdesk.inbound import on_inbound
        from supportdesk.roles import ensure_roles

        # After the last app migrated, every permission the roles name exists.
        post_migrate.connect(ensure_roles, dispatch_uid="supportdesk.ensure_roles")
        post_migrate.connect(imap_schedule_sync, dispatch_uid="supportdesk.imap_schedule")
        if "django_q" in settings.INSTALLED_APPS:
            post_migrate.connect(
                ensure_attachment_sweep_schedule,
                dispatch_uid="supportdesk.attachment_sweep_schedule",
            )
        # Mail providers' inbound webhooks hand each message to the e-mail intake.
        inbound.connect(on_inbound, dispatch_uid="supportdesk.inbound_email")
        # A desk socket must not outlive the sign-in it was opened with.
        user_logged_out.connect(end_desk_sockets_on_logout, dispatch_uid="supportdesk.logout")
