"""Background tasks. They take ids and call services; nothing else lives here."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from supportdesk import realtime
from supportdesk.mail import send_reply
from supportdesk.models import Message
from supportdesk.services import ticket_flag_ai_failure

logger = logging.getLogger(__name__)


def process_message(message_id: int) -> None:
    """The AI pipeline for one inbound message: triage → routing → draft → auto-send check.

    A failing step never loses the ticket: it is flagged for manual triage and stays in the inbox.
    """
    from replies.services import draft_create
    from triage.services import draft_auto_send, triage_message

    ticket_id = Message.objects.values_list("ticket_id", flat=True).get(pk=message_id)
    for step, run in (("triage", triage_message), ("draft", draft_create)):
        try:
            run(message_id=message_id)
        except Exception as exc:
            logger.exception("%s failed for message %s", step, message_id)
            ticket_flag_ai_failure(ticket_id=ticket_id, step=step, error=repr(exc))
            return
    try:
        draft_auto_send(message_id=message_id)
    except Exception:  # the draft stays proposed: a person sends it
        logger.exception("auto-send check failed for message %s", message_id)


def deliver_message(message_id: int) -> None:
    """Send a queued outbound message once. A second run finds it already claimed."""
    claimed = Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.QUEUED).update(
        delivery_status=Message.Delivery.SENDING
    )
    if not claimed:
        return
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    try:
        message_id_header = send_reply(message)
    except Exception as exc:
        logger.exception("delivery of message %s failed", message_id)
        with transaction.atomic():
            Message.objects.filter(pk=message_id).update(
                delivery_status=Message.Delivery.FAILED, delivery_error=repr(exc)[:2000]
            )
            realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)
        return
    with transaction.atomic():
        Message.objects.filter(pk=message_id).update(
            delivery_status=Message.Delivery.SENT,
            sent_at=timezone.now(),
            external_id=message_id_header,
        )
        realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)
