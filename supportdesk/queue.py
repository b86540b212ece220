"""Hand work to the configured background worker.

TASK_BACKEND=q2 (embedded default, django-q2 ORM broker), celery (Redis broker) or sync
(run in the caller's process; used by management commands and some tests).
Call `enqueue_on_commit` from services: a task must never see a row that is not committed yet.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from supportdesk.task_table import TASKS, periodic_tasks

logger = logging.getLogger(__name__)


class EnqueueFailed(RuntimeError):
    """The task could not be handed to the broker (it is down or refused the task)."""


def enqueue(task: str, *args: object) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    backend = settings.TASK_BACKEND
    if backend == "sync":
        import_string(task)(*args)
    elif backend == "celery":
        # Loaded when first used: only installations that run Celery import it.
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
    supportdesk/pipeline.py and supportdesk/outbox/delivery.py)."""
    transaction.on_commit(lambda: _enqueue_or_leave_to_sweeper(task, *args))
