from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.http import HttpRequest


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
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from supportdesk.intake.inbound import on_inbound
        from supportdesk.preferences import remember_preferences
        from supportdesk.queue import periodic_schedules_sync
        from supportdesk.roles import ensure_roles

        # After the last app migrated, every permission the roles name exists.
        post_migrate.connect(ensure_roles, dispatch_uid="supportdesk.ensure_roles")
        # django-q2's schedules follow the periodic table in supportdesk/queue.py; once per
        # migrate, after every app's tables exist.
        post_migrate.connect(
            periodic_schedules_sync, sender=self, dispatch_uid="supportdesk.periodic_schedules"
        )
        # Mail providers' inbound webhooks hand each message to the e-mail intake.
        inbound.connect(on_inbound, dispatch_uid="supportdesk.inbound_email")
        # A desk socket must not outlive the sign-in it was opened with.
        user_logged_out.connect(end_desk_sockets_on_logout, dispatch_uid="supportdesk.logout")
        # Signing in writes the session anyway: the time zone and language go in with it, so
        # no later request has to read them or save the session for them.
        user_logged_in.connect(remember_preferences, dispatch_uid="supportdesk.preferences")
