"""The transactional outbox: every write that moves an outbound message towards "sent".

A reply is written as a `queued` Message in the same transaction as the ticket's new state,
with an idempotency key and the Message-ID derived from it (`outbox_entry_fields`). After
commit a task runs `supportdesk.tasks.deliver_message`, which goes through these states:

    queued ──claim──▶ sending ──handover──▶ sending (handed over) ──250──▶ sent
                         │                          │
          refused/error ─┴─▶ queued (retry) / failed └─ no answer, worker died ─▶ unconfirmed

Every transition is a conditional UPDATE on the row, and the handover and the marks also
check the run's attempt number, so two runs never both believe they own a message.

What a crash at each point does (the sweeper, `outbox_sweep`, finds the leftovers):

* before commit: nothing was written; the agent sees the error and the draft is still open.
* after commit, before the task runs (enqueue lost, broker down): the message stays `queued`;
  the sweeper enqueues it again after OUTBOX_QUEUED_GRACE_SECONDS. The claim is a conditional
  UPDATE, so a duplicate task finds nothing to do.
* after the claim, before the handover (connecting, EHLO, MAIL FROM, RCPT TO): the mail server
  has not been given the message, so it cannot have been delivered. After
  OUTBOX_STALE_SECONDS the claim is put back to `queued` and sent again, with the same
  Message-ID. If the first worker was only slow, its handover finds the claim gone and it
  stops (`ClaimLost`) before DATA.
* after the handover (during DATA, or after the server's 250 but before `sent` is written),
  or the connection dropped during DATA: the server may have accepted it. SMTP has no
  idempotency, so a retry could deliver it twice; the message becomes `unconfirmed` and is
  never re-sent on its own. The ticket shows it with the stored Message-ID to look up in the
  mail server's log; an agent then marks it delivered or sends it again.
* an error answer from the server (4xx/5xx to MAIL, RCPT or DATA): it does not have the
  message. 4xx and connection errors are retried by the sweeper up to OUTBOX_MAX_ATTEMPTS;
  a 5xx fails the reply and stops automatic sends to the customer.

So the system never sends a reply twice on its own; it sends it exactly once unless the
worker dies (or the network fails) inside the DATA exchange, in which case it is sent at most
once and a person is told.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from supportdesk import realtime
from supportdesk.models import Customer, Message
from supportdesk.queue import enqueue, enqueue_on_commit

DELIVER_TASK = "supportdesk.tasks.deliver_message"


def outbox_entry_fields() -> dict:
    """The outbox columns of a new outbound message: a fresh idempotency key, the Message-ID
    derived from it, and `queued`. Written in the caller's transaction."""
    key = uuid.uuid4()
    return {
        "idempotency_key": key,
        "external_id": f"<{key.hex}@{settings.OUTBOX_MESSAGE_ID_DOMAIN}>",
        "delivery_status": Message.Delivery.QUEUED,
    }


def outbox_enqueue_on_commit(message: Message) -> None:
    enqueue_on_commit(DELIVER_TASK, message.pk)


def outbox_claim(*, message_id: int) -> Message | None:
    """Take a queued message for sending. Returns None if another run has it or it is done,
    or if it is an automatic reply to a customer whose sends are stopped (it fails instead)."""
    claimed = Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.QUEUED).update(
        delivery_status=Message.Delivery.SENDING,
        claimed_at=timezone.now(),
        handed_over_at=None,
        delivery_attempts=F("delivery_attempts") + 1,
    )
    if not claimed:
        return None
    message = Message.objects.select_related("ticket__customer").get(pk=message_id)
    customer = message.ticket.customer
    if message.author_user_id is None and not outbound_auto_send_allowed(customer):
        # Written by no person (an automatic reply) to a customer whose mail bounces.
        _fail_blocked(message=message)
        return None
    return message


@transaction.atomic
def _fail_blocked(*, message: Message) -> None:
    customer = message.ticket.customer
    Message.objects.filter(pk=message.pk).update(
        delivery_status=Message.Delivery.FAILED,
        delivery_error="Not sent: automatic replies to "
        f"{customer.email} are stopped ({customer.outbound_blocked_reason[:300]}).",
    )
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)


class ClaimLost(Exception):
    """This run's claim was taken back (the sweeper thought its worker dead): stop, send nothing."""


def outbox_handover(*, message: Message) -> None:
    """Record, in its own committed write, that the message is about to be given to the
    provider. From here on a dead worker's claim is never re-sent automatically.

    Conditional on this run's claim (status and attempt number): if the sweeper re-queued it
    meanwhile, raises ClaimLost, so a slow worker never sends next to its replacement."""
    with transaction.atomic():
        held = Message.objects.filter(
            pk=message.pk,
            delivery_status=Message.Delivery.SENDING,
            delivery_attempts=message.delivery_attempts,
        ).update(handed_over_at=timezone.now())
    if not held:
        raise ClaimLost(f"message {message.pk}: attempt {message.delivery_attempts} lost its claim")


@transaction.atomic
def outbox_mark_sent(*, message_id: int, attempt: int, provider_id: str) -> None:
    """The provider accepted the message. Also applies to a claim the sweeper marked
    unconfirmed while this worker was merely slow: it was delivered."""
    message = Message.objects.select_for_update().get(pk=message_id)
    in_flight = (Message.Delivery.SENDING, Message.Delivery.UNCONFIRMED)
    if message.delivery_status not in in_flight or message.delivery_attempts != attempt:
        return
    message.delivery_status = Message.Delivery.SENT
    message.sent_at = timezone.now()
    message.delivery_error = ""
    update = ["delivery_status", "sent_at", "delivery_error"]
    if provider_id:
        message.external_id = provider_id
        update.append("external_id")
    message.save(update_fields=update)
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)


@transaction.atomic
def outbox_mark_failed(
    *, message_id: int, attempt: int, error: str, refused: bool, permanent: bool
) -> None:
    """A send raised. ``refused``: the provider answered no (an SMTP error reply), so it does
    not have the message; ``permanent``: that answer was a 5xx.

    Refused, or failed before the handover: transient errors go back to the queue for the
    sweeper until OUTBOX_MAX_ATTEMPTS; permanent ones fail the message and stop automatic
    sends to the customer. Failed after the handover without an answer (the connection
    dropped during DATA): the provider may have it, so it becomes unconfirmed, not retried."""
    message = Message.objects.select_for_update().select_related("ticket").get(pk=message_id)
    if message.delivery_status != Message.Delivery.SENDING or message.delivery_attempts != attempt:
        return  # the claim was taken back: the run that holds it now decides
    if message.handed_over_at is not None and not refused:
        message.delivery_status = Message.Delivery.UNCONFIRMED
        message.delivery_error = (
            f"The connection failed while handing this reply over ({error[:500]}), so it may "
            "or may not have been delivered. It was not re-sent, to avoid a duplicate. "
            f"Message-ID for the mail server's log: {message.external_id}"
        )
        message.save(update_fields=["delivery_status", "delivery_error"])
        realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)
        return
    retry = not permanent and message.delivery_attempts < settings.OUTBOX_MAX_ATTEMPTS
    message.delivery_status = Message.Delivery.QUEUED if retry else Message.Delivery.FAILED
    message.delivery_error = error[:2000]
    message.handed_over_at = None
    message.save(update_fields=["delivery_status", "delivery_error", "handed_over_at"])
    if permanent:
        customer_outbound_block(customer_id=message.ticket.customer_id, reason=error)
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)


def outbound_auto_send_allowed(customer: Customer) -> bool:
    """Whether anything may be sent to this customer without a person deciding it."""
    return customer.outbound_blocked_at is None


@transaction.atomic
def customer_outbound_block(*, customer_id: int, reason: str) -> None:
    """Stop automatic sends to a customer whose mail bounced or was refused for good.
    Keeps the first reason: it is the one an agent needs to see."""
    Customer.objects.filter(pk=customer_id, outbound_blocked_at__isnull=True).update(
        outbound_blocked_at=timezone.now(), outbound_blocked_reason=reason[:1000]
    )


@transaction.atomic
def customer_outbound_unblock(*, customer_id: int) -> None:
    """An agent fixed the address (or the customer asked again): automatic sends resume."""
    Customer.objects.filter(pk=customer_id).update(
        outbound_blocked_at=None, outbound_blocked_reason=""
    )
    for ticket_id in Customer.objects.get(pk=customer_id).tickets.values_list("pk", flat=True)[:50]:
        realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=ticket_id)


class NotResendable(ValueError):
    """The reply is not in a state a person may resend or confirm; the message says why."""


@transaction.atomic
def outbox_resend(*, message_id: int) -> Message:
    """An agent sends a failed or unconfirmed reply again (for an unconfirmed one, after
    checking the mail server's log). It keeps its Message-ID, so clients that saw the first
    copy can tell the two apart."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.delivery_status not in (Message.Delivery.FAILED, Message.Delivery.UNCONFIRMED):
        raise NotResendable(
            f"This reply is {message.get_delivery_status_display().lower()}; "
            "only a failed or unconfirmed reply can be sent again."
        )
    message.delivery_status = Message.Delivery.QUEUED
    message.delivery_error = ""
    message.claimed_at = message.handed_over_at = None
    message.save(
        update_fields=["delivery_status", "delivery_error", "claimed_at", "handed_over_at"]
    )
    outbox_enqueue_on_commit(message)
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)
    return message


@transaction.atomic
def outbox_confirm_delivered(*, message_id: int) -> Message:
    """An agent found an unconfirmed reply in the mail server's log: it was delivered."""
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.delivery_status != Message.Delivery.UNCONFIRMED:
        raise NotResendable(
            f"This reply is {message.get_delivery_status_display().lower()}, not unconfirmed."
        )
    message.delivery_status = Message.Delivery.SENT
    message.sent_at = message.handed_over_at
    message.delivery_error = ""
    message.save(update_fields=["delivery_status", "sent_at", "delivery_error"])
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)
    return message


def outbox_sweep(*, now=None) -> dict[str, int]:
    """Find outbound messages a crash or a lost enqueue left behind and move them on.

    Run it periodically (`manage.py sweep --every 60`; `serve` starts it). Safe to run
    concurrently with workers and with itself: every transition is a conditional UPDATE."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.OUTBOX_STALE_SECONDS)
    grace = now - timedelta(seconds=settings.OUTBOX_QUEUED_GRACE_SECONDS)
    in_flight = Message.objects.filter(direction=Message.Direction.OUTBOUND)

    # A dead worker that had handed the message over: it may have been delivered. (A claim
    # without a time predates the outbox columns: nothing says how far it got.)
    unconfirmed_ids = list(
        in_flight.filter(delivery_status=Message.Delivery.SENDING)
        .filter(Q(claimed_at__lt=stale, handed_over_at__isnull=False) | Q(claimed_at__isnull=True))
        .values_list("pk", flat=True)[:500]
    )
    unconfirmed = 0
    for pk in unconfirmed_ids:
        unconfirmed += _mark_unconfirmed(message_id=pk)

    # A dead worker that had not: the mail server never had it, so send it again.
    requeued = in_flight.filter(
        delivery_status=Message.Delivery.SENDING, claimed_at__lt=stale, handed_over_at__isnull=True
    ).update(delivery_status=Message.Delivery.QUEUED)

    # Queued and waiting too long (lost enqueue, a requeued claim, a transient failure).
    waiting = list(
        in_flight.filter(delivery_status=Message.Delivery.QUEUED)
        .filter(Q(claimed_at__isnull=True, created_at__lt=grace) | Q(claimed_at__lt=grace))
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    # Stamped, so a broker that is down for a while gets one task per message per grace
    # period, not one per sweep.
    Message.objects.filter(pk__in=waiting, delivery_status=Message.Delivery.QUEUED).update(
        claimed_at=now
    )
    for pk in waiting:
        enqueue(DELIVER_TASK, pk)
    return {"unconfirmed": unconfirmed, "requeued": requeued, "enqueued": len(waiting)}


@transaction.atomic
def _mark_unconfirmed(*, message_id: int) -> int:
    message = Message.objects.select_for_update().get(pk=message_id)
    handed_over = message.handed_over_at is not None or message.claimed_at is None
    if message.delivery_status != Message.Delivery.SENDING or not handed_over:
        return 0
    message.delivery_status = Message.Delivery.UNCONFIRMED
    message.delivery_error = (
        "The worker stopped after handing this reply to the mail server and before hearing "
        "back, so it may or may not have been delivered. It was not re-sent, to avoid a "
        f"duplicate. Message-ID for the mail server's log: {message.external_id}"
    )
    message.save(update_fields=["delivery_status", "delivery_error"])
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=message.ticket_id)
    return 1
