from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_sla_schedule(**kwargs: object) -> None:
    """With the embedded django-q2 worker, check SLAs and hand out tickets that waited for an
    agent every minute. Safe to repeat."""
    from supportdesk.queue import schedule_every

    schedule_every(name="sla_check", task="triage.tasks.sla_check", minutes=1)
    schedule_every(name="assign_waiting", task="triage.tasks.assign_waiting", minutes=1)


class TriageConfig(AppConfig):
    name = "triage"

    def ready(self) -> None:
        from django.conf import settings

        if "django_q" in settings.INSTALLED_APPS:
            post_migrate.connect(ensure_sla_schedule, dispatch_uid="triage.ensure_sla_schedule")
