"""The work a worker may run: every task by dotted path, and the one table of what runs on a
clock. Plain data: the task queue (supportdesk/queue.py) and the Celery app
(supportdesk/celery.py) both read it, and neither imports the other at module level.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

# Every task the worker may run, by dotted path. Celery registers the same names.
TASKS = (
    "supportdesk.tasks.process_message",
    "supportdesk.tasks.deliver_message",
    "supportdesk.tasks.send_automatic_mail",
    "triage.tasks.retrain_models",
    "triage.tasks.answers_refresh",
    "supportdesk.intake.imap.imap_poll_task",
    "triage.tasks.sla_check",
    "triage.tasks.escalation_notify",
    "triage.tasks.assign_waiting",
    "supportdesk.tasks.attachment_sweep",
    "feedback.tasks.metrics_sweep",
    "feedback.tasks.satisfaction_estimate",
    "feedback.tasks.satisfaction_refit",
    "feedback.tasks.edit_suggestions_refresh",
    "triage.tasks.threshold_suggestions_refresh",
    "knowledge.tasks.suggestion_refresh",
    "replies.tasks.gap_from_agent",
    "replies.tasks.suggestion_published",
    "knowledge.tasks.translations_propose",
    "knowledge.tasks.kb_sync",
)


# How often the suggestions page's suggestions are recomputed (a 30-day window moves slowly).
SUGGESTIONS_MINUTES = 10


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
        PeriodicTask(name="answers_refresh", task="triage.tasks.answers_refresh", minutes=5),
        PeriodicTask(
            name="metrics_sweep", task="feedback.tasks.metrics_sweep", minutes=1, expires=True
        ),
        # The suggestions page reads what these stored; it says how long ago.
        PeriodicTask(
            name="threshold_suggestions",
            task="triage.tasks.threshold_suggestions_refresh",
            minutes=SUGGESTIONS_MINUTES,
            expires=True,
        ),
        PeriodicTask(
            name="edit_suggestions",
            task="feedback.tasks.edit_suggestions_refresh",
            minutes=SUGGESTIONS_MINUTES,
            expires=True,
        ),
        PeriodicTask(
            name="attachment_sweep", task="supportdesk.tasks.attachment_sweep", minutes=24 * 60
        ),
        PeriodicTask(
            name="satisfaction_refit", task="feedback.tasks.satisfaction_refit", minutes=24 * 60
        ),
        PeriodicTask(
            name="imap_poll",
            task="supportdesk.intake.imap.imap_poll_task",
            minutes=settings.IMAP_POLL_MINUTES,
            enabled=bool(settings.IMAP_URL or settings.IMAP_HOST),
            expires=True,  # polls held up behind a slow mailbox must not run back to back
        ),
        PeriodicTask(
            name="kb_sync",
            task="knowledge.tasks.kb_sync",
            minutes=max(settings.KB_SYNC_MINUTES, 1),
            enabled=settings.KB_SYNC_MINUTES > 0 and _kb_sync_source_configured(),
            expires=True,  # a slow source must not make imports pile up
        ),
    )


def _kb_sync_source_configured() -> bool:
    """Plain settings check (the knowledge room is above this module): the same rule as
    knowledge.sync.services.configured_sources."""
    return any(
        (
            settings.ZENDESK_URL and settings.ZENDESK_EMAIL and settings.ZENDESK_API_TOKEN,
            settings.NOTION_TOKEN and settings.NOTION_DATABASE_ID,
            settings.CONFLUENCE_URL
            and settings.CONFLUENCE_SPACE
            and settings.CONFLUENCE_USER
            and settings.CONFLUENCE_TOKEN,
        )
    )
