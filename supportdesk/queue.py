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


def schedule_every(*, name: str, task: str, minutes: int) -> None:
    """The django-q2 schedule that runs `task` every `minutes`; safe to repeat (apps call it
    after ``migrate``). Celery beat reads ``CELERY_BEAT_SCHEDULE`` in settings instead."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": task,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )


def enqueue_on_commit(task: str, *args: object) -> None:
    """Enqueue once the caller's transaction commits. A broker failure then is logged, never
    raised: what was committed stays, and a sweeper enqueues it again (see
    supportdesk/pipeline.py and supportdesk/outbox.py)."""
    transaction.on_commit(lambda: _enqueue_or_leave_to_sweeper(task, *args))
