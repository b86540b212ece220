"""Background tasks. They take ids and call services; nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import Callable

from feedback.services import follow_up_record
from replies.autosend import draft_auto_send
from replies.services import draft_create
from supportdesk.intake.attachments import attachment_files_sweep
from supportdesk.models import Message, Ticket
from supportdesk.outbox import zendesk
from supportdesk.outbox.automail import automatic_mail_deliver
from supportdesk.outbox.delivery import (
    ClaimLost,
    outbox_claim,
    outbox_mark_failed,
    outbox_mark_sent,
)
from supportdesk.outbox.mail import is_permanent_failure, is_refusal, send_reply
from supportdesk.services import (
    message_pipeline_done,
    message_pipeline_start,
    ticket_flag_ai_failure,
)
from triage.services import triage_message

logger = logging.getLogger(__name__)


def process_message(message_id: int) -> None:
    """The AI pipeline for one inbound message: the follow-up count (a reopened ticket), then
    triage → routing → draft → auto-send check.

    A failing step never loses the ticket: it is flagged for manual triage and stays in the inbox.
    """
    ticket_id = message_pipeline_start(message_id=message_id)
    if ticket_id is None:  # already through the pipeline: a duplicate delivery of the task
        return
    try:
        follow_up_record(message_id=message_id)
    except Exception:  # a lost count never holds up the customer's answer
        logger.exception("follow-up check failed for message %s", message_id)
    for step, run in (("triage", triage_message), ("draft", draft_create)):
        try:
            run(message_id=message_id)
        except Exception as exc:
            logger.exception("%s failed for message %s", step, message_id)
            ticket_flag_ai_failure(ticket_id=ticket_id, step=step, error=repr(exc))
            message_pipeline_done(message_id=message_id)
            return
    try:
        draft_auto_send(message_id=message_id)
    except Exception:  # the draft stays proposed: a person sends it
        logger.exception("auto-send check failed for message %s", message_id)
    message_pipeline_done(message_id=message_id)


def deliver_message(message_id: int) -> None:
    """Send a queued outbound message once. A second run finds it already claimed; a crash
    part-way is picked up by the sweeper (supportdesk/outbox/delivery.py: each crash point)."""
    message = outbox_claim(message_id=message_id)
    if message is None:
        return
    attempt = message.delivery_attempts
    sender = reply_sender(message.ticket)
    try:
        provider_id = sender(message)
    except ClaimLost:
        logger.warning("delivery of message %s stopped: its claim was re-queued", message_id)
        return
    except Exception as exc:
        logger.exception("delivery of message %s failed", message_id)
        outbox_mark_failed(
            message_id=message_id,
            attempt=attempt,
            error=repr(exc),
            refused=is_refusal(exc) or zendesk.is_refusal(exc),
            permanent=is_permanent_failure(exc) or zendesk.is_permanent_failure(exc),
        )
        return
    outbox_mark_sent(message_id=message_id, attempt=attempt, provider_id=provider_id)


def reply_sender(ticket: Ticket) -> Callable[[Message], str]:
    """Replies go back the way the ticket came: Zendesk tickets through Zendesk's API."""
    if ticket.channel == Ticket.Channel.ZENDESK and ticket.zendesk_ticket_id:
        return zendesk.send_reply
    return send_reply


def send_automatic_mail(automatic_mail_id: int) -> None:
    """Send one queued acknowledgement or other automatic mail."""
    automatic_mail_deliver(automatic_mail_id=automatic_mail_id)


def attachment_sweep() -> None:
    """Daily: remove attachment files that no message refers to any more."""
    attachment_files_sweep()
