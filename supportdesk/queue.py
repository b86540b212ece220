"""Hand work to the configured background worker.

TASK_BACKEND=q2 (embedded default, django-q2 ORM broker), celery (Redis broker) or sync
(run in the caller's process; used by management commands and some tests).
Call `enqueue_on_commit` from services: a task must never see a row that is not committed yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# Every task the worker may run, by dotted path. Celery registers the same names.
TASKS = (
    "supportdesk.tasks.process_message",
    "supportdesk.tasks.deliver_message",
    "supportdesk.tasks.send_automatic_mail",
    "triage.tasks.retrain_models",
    "supportdesk.imap.imap_poll_task",
    "triage.tasks.sla_check",
    "triage.tasks.escalation_notify",
    "triage.tasks.assign_waiting",
    "supportdesk.tasks.attachment_sweep",
)


class EnqueueFailed(RuntimeError):
    """The task could not be handed to the broker (it is down or refused the task)."""


def enqueue(task: str, *args: object) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    backend = settings.TASK_BACKEND
    if backend == "sync":
        import_string(task)(*args)
    elif backend == "celery":
        from supportdesk.celery import app

        app.send_task(task, args=list(args))
    else:
        from django_q.tasks import async_task

        async_task(task, *args)


def enqueue_now(task: str, *args: object) -> None:
    """`enqueue`, with any broker failure raised as `EnqueueFailed` (sweepers stop on it)."""
    if settings.TASK_BACKEND == "sync":
        enqueue(task, *args)  # runs here: its own errors are the task's, not the broker's
        return
    try:
        enqueue(task, *args)
    except Exception as exc:
        raise EnqueueFailed(f"{task}: {exc!r}") from exc


def _enqueue_or_leave_to_sweeper(task: str, *args: object) -> None:
    # After commit the work is saved; a broker that is down must not turn the customer's
    # request into an error. The sweepers (`manage.py sweep`) enqueue it again later.
    try:
        enqueue_now(task, *args)
    except EnqueueFailed:
        logger.exception("could not enqueue %s%r; the sweeper will pick it up", task, args)


@dataclass(frozen=True)
class PeriodicTask:
    """`task` runs every `minutes` while `enabled`."""

    name: str
    task: str
    minutes: int
    enabled: bool = True
    # Celery drops a run still queued when the next one is due instead of running both.
    expires: bool = False

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}")


def periodic_tasks() -> tuple[PeriodicTask, ...]:
    """The one table of work that runs on a clock, read from the current settings. Celery beat's
    schedule (supportdesk/celery.py) and django-q2's Schedule rows (`periodic_schedules_sync`)
    are both built from it; a task that is off stays listed, so its row can be removed."""
    return (
        PeriodicTask(name="sla_check", task="triage.tasks.sla_check", minutes=1),
        PeriodicTask(name="assign_waiting", task="triage.tasks.assign_waiting", minutes=1),
        PeriodicTask(
            name="attachment_sweep", task="supportdesk.tasks.attachment_sweep", minutes=24 * 60
        ),
        PeriodicTask(
            name="imap_poll",
            task="supportdesk.imap.imap_poll_task",
            minutes=settings.IMAP_POLL_MINUTES,
            enabled=bool(settings.IMAP_URL or settings.IMAP_HOST),
            expires=True,  # polls held up behind a slow mailbox must not run back to back
        ),
    )


@transaction.atomic
def periodic_schedules_sync(**_signal: object) -> list[str]:
    """Bring django-q2's Schedule rows in step with `periodic_tasks()`: one row per enabled task
    while tasks run on django-q2, none otherwise (Celery beat keeps its own clock, and the sync
    backend has no worker). Rows that run one of the table's tasks under any other name are
    removed too, so a task switched off (IMAP no longer configured) or renamed stops running.
    Runs after every ``migrate``; safe to repeat. Returns the names scheduled now."""
    from django_q.models import Schedule

    table = periodic_tasks()
    wanted = [p for p in table if p.enabled] if settings.TASK_BACKEND == "q2" else []
    for periodic in wanted:
        Schedule.objects.update_or_create(
            name=periodic.name,
            defaults={
                "func": periodic.task,
                "schedule_type": Schedule.MINUTES,
                "minutes": periodic.minutes,
                "repeats": -1,
            },
        )
    Schedule.objects.filter(func__in=[p.task for p in table]).exclude(
        name__in=[p.name for p in wanted]
    ).delete()
    return [p.name for p in wanted]


def enqueue_on_commit(task: str, *args: object) -> None:
    """Enqueue once the caller's transaction commits. A broker failure then is logged, never
    raised: what was committed stays, and a sweeper enqueues it again (see
    supportdesk/pipeline.py and supportdesk/outbox.py)."""
    transaction.on_commit(lambda: _enqueue_or_leave_to_sweeper(task, *args))
