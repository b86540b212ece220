"""Background tasks. They take ids and call services; nothing else lives here."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from supportdesk import realtime, zendesk
from supportdesk.automail import automatic_mail_deliver
from supportdesk.mail import send_reply
from supportdesk.models import Message, Ticket
from supportdesk.services import ticket_flag_ai_failure

logger = logging.getLogger(__name__)


def process_message(message_id: int) -> None:
    """The AI pipeline for one inbound message: triage → routing → draft.

    A failing step never loses the ticket: it is flagged for manual triage and stays in the inbox.
    """
    from replies.services import draft_create
    from triage.services import triage_message

    ticket_id = Message.objects.values_list("ticket_id", flat=True).get(pk=message_id)
    for step, run in (("triage", triage_message), ("draft", draft_create)):
        try:
            run(message_id=message_id)
        except Exception as exc:
            logger.exception("%s failed for message %s", step, message_id)
            ticket_flag_ai_failure(ticket_id=ticket_id, step=step, error=repr(exc))
            return


def deliver_message(message_id: int) -> None:
    """Send a queued outbound message once. A second run finds it already claimed."""
    claimed = Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.QUEUED).update(
        delivery_status=Message.Delivery.SENDING
    )
    if not claimed:
        return
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    try:
        message_id_header = reply_sender(message.ticket)(message)
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


def reply_sender(ticket: Ticket) -> Callable[[Message], str]:
    """Replies go back the way the ticket came: Zendesk tickets through Zendesk's API."""
    if ticket.channel == Ticket.Channel.ZENDESK and ticket.zendesk_ticket_id:
        return zendesk.send_reply
    return send_reply


def send_automatic_mail(automatic_mail_id: int) -> None:
    """Send one queued acknowledgement or other automatic mail."""
    automatic_mail_deliver(automatic_mail_id=automatic_mail_id)
