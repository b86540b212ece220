"""At-least-once for the AI pipeline: every inbound message is triaged, or a person is told.

The pipeline task (`supportdesk.tasks.process_message`) is enqueued after the message commits.
That enqueue can be lost (the broker is down, the process dies right after the commit) and a
worker can be killed part-way. Each step is idempotent per message (one triage result, one draft
per message), so running a message again is always safe; this module finds the messages that
need it. The task counts each start on a message (`message_pipeline_start`) and marks it done
when it finished or flagged the ticket (`message_pipeline_done`).

`pipeline_sweep` runs beside the outbox sweeper (`manage.py sweep`, which `serve` starts): an
inbound message not done PIPELINE_GRACE_SECONDS after it was stored, after its last re-enqueue or
after a task last started on it is enqueued again. A message still waiting in a long queue is
enqueued again too (the copies find it done and return at once), but only tasks that *started*
count as tries: after PIPELINE_MAX_ATTEMPTS starts that never finished (a message that kills its
worker every time) the ticket is flagged "Needs manual triage" with the reason, and stays in the
inbox for a person.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from supportdesk.models import AutomaticMail, Message
from supportdesk.queue import EnqueueFailed, enqueue_now
from supportdesk.services import ticket_flag_ai_failure

logger = logging.getLogger(__name__)

PIPELINE_TASK = "supportdesk.tasks.process_message"
AUTOMATIC_MAIL_TASK = "supportdesk.tasks.send_automatic_mail"
BATCH = 500


def pipeline_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Enqueue again what the pipeline has not finished; flag what keeps dying.

    Safe to run from several processes at once: rows are claimed with SKIP LOCKED on PostgreSQL
    (SQLite serialises writers anyway), and a duplicate task finds the work already done."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.PIPELINE_GRACE_SECONDS)
    counts = {"enqueued": 0, "flagged": 0, "broker_down": 0, "automatic_mail": 0}
    pending = (
        Message.objects.filter(direction=Message.Direction.INBOUND, pipeline_done_at__isnull=True)
        .filter(_quiet_since(grace))
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    for message_id in list(pending):
        outcome = _sweep_one(message_id=message_id, now=now, grace=grace)
        if outcome == "broker_down":
            counts["broker_down"] += 1
            break  # the rest would fail the same way; the next sweep tries again
        if outcome:
            counts[outcome] += 1
    if not counts["broker_down"]:
        counts["automatic_mail"] = _sweep_automatic_mail(grace=grace, now=now)
    return counts


def _quiet_since(moment: datetime) -> Q:
    """Nothing happened to the message since `moment`: not created, enqueued or started."""
    return Q(pipeline_queued_at__isnull=True, created_at__lt=moment) | Q(
        pipeline_queued_at__lt=moment
    )


def _sweep_one(*, message_id: int, now: datetime, grace: datetime) -> str:
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, pipeline_done_at__isnull=True)
            .filter(_quiet_since(grace))
            .first()
        )
        if message is None:  # finished meanwhile, or another sweeper has it
            return ""
        if message.pipeline_attempts >= settings.PIPELINE_MAX_ATTEMPTS:
            ticket_flag_ai_failure(
                ticket_id=message.ticket_id,
                step="pipeline",
                error=(
                    f"The AI pipeline started {message.pipeline_attempts} times on this message "
                    "and never finished (its worker stopped each time). Triage this ticket by "
                    "hand, or press Retry AI once the worker is healthy."
                ),
            )
            message.pipeline_done_at = now
            message.save(update_fields=["pipeline_done_at"])
            return "flagged"
        try:
            enqueue_now(PIPELINE_TASK, message.pk)
        except EnqueueFailed:
            return "broker_down"
        message.pipeline_queued_at = now
        message.save(update_fields=["pipeline_queued_at"])
    logger.warning(
        "message %s is not through the AI pipeline after %ss; enqueued it again",
        message_id,
        settings.PIPELINE_GRACE_SECONDS,
    )
    return "enqueued"


def _sweep_automatic_mail(*, grace: datetime, now: datetime) -> int:
    """Acknowledgements whose enqueue was lost. Sending claims the row (queued → sending), so
    a second task for the same mail sends nothing; after a day an acknowledgement is pointless
    and is left as it is."""
    waiting = AutomaticMail.objects.filter(
        status=AutomaticMail.Status.QUEUED,
        created_at__lt=grace,
        created_at__gte=now - timedelta(days=1),
    ).values_list("pk", flat=True)[:BATCH]
    enqueued = 0
    for mail_id in list(waiting):
        try:
            enqueue_now(AUTOMATIC_MAIL_TASK, mail_id)
        except EnqueueFailed:
            break
        enqueued += 1
    return enqueued
