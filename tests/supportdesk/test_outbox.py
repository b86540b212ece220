"""The outbox sweeper: what it does with each state a crash or a lost enqueue leaves behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from supportdesk.models import Message
from supportdesk.outbox.delivery import (
    ClaimLost,
    customer_outbound_block,
    outbound_auto_send_allowed,
    outbox_claim,
    outbox_entry_fields,
    outbox_handover,
    outbox_mark_sent,
    outbox_sweep,
)
from supportdesk.outbox.mail import send_reply
from supportdesk.tasks import deliver_message
from tests.factories import MessageFactory, TicketFactory
from tests.mailbox import written

pytestmark = pytest.mark.django_db

BODY = "Your parcel arrives on Friday."


def _reply(**fields) -> Message:
    fields.setdefault("ticket", TicketFactory())
    return MessageFactory(
        direction=Message.Direction.OUTBOUND, body_text=BODY,
        **{**outbox_entry_fields(), **fields},
    )  # fmt: skip


def _later(seconds: int):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_reply_whose_task_was_lost_is_sent_by_the_sweeper(settings):
    reply = _reply()  # queued, and no task ever ran

    assert outbox_sweep()["enqueued"] == 0  # too young: its task may still be on its way
    counts = outbox_sweep(now=_later(settings.OUTBOX_QUEUED_GRACE_SECONDS + 1))

    assert counts["enqueued"] == 1
    (sent,) = mail.outbox
    assert written(sent) == BODY and sent.extra_headers["Message-ID"] == reply.external_id
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    outbox_sweep(now=_later(settings.OUTBOX_QUEUED_GRACE_SECONDS + 1))
    assert len(mail.outbox) == 1


def test_a_dead_workers_claim_before_handover_is_sent_again(settings):
    reply = _reply()
    outbox_claim(message_id=reply.pk)  # ... and the worker died while connecting

    assert outbox_sweep()["requeued"] == 0  # a live worker may still be on it
    counts = outbox_sweep(now=_later(settings.OUTBOX_STALE_SECONDS + 1))

    assert counts == {"unconfirmed": 0, "requeued": 1, "enqueued": 1}
    assert [written(m) for m in mail.outbox] == [BODY]
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.delivery_attempts == 2


def test_a_dead_workers_claim_after_handover_is_never_sent_again(settings, agent_client):
    reply = _reply()
    outbox_handover(message=outbox_claim(message_id=reply.pk))  # ... then died during DATA

    counts = outbox_sweep(now=_later(settings.OUTBOX_STALE_SECONDS + 1))

    assert counts == {"unconfirmed": 1, "requeued": 0, "enqueued": 0}
    assert mail.outbox == []
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.UNCONFIRMED
    assert reply.external_id in reply.delivery_error
    page = agent_client.get(f"/tickets/{reply.ticket_id}/").content.decode()
    assert "may not have been delivered" in page
    assert "Delivery unconfirmed: The worker stopped after handing this reply" in page


def test_sent_and_failed_replies_are_left_alone(settings):
    _reply(delivery_status=Message.Delivery.SENT, claimed_at=timezone.now())
    _reply(delivery_status=Message.Delivery.FAILED, claimed_at=timezone.now())

    counts = outbox_sweep(now=_later(settings.OUTBOX_STALE_SECONDS + 1))

    assert counts == {"unconfirmed": 0, "requeued": 0, "enqueued": 0}
    assert mail.outbox == []


def test_each_approved_reply_gets_its_own_key_and_message_id():
    first, second = outbox_entry_fields(), outbox_entry_fields()

    assert first["idempotency_key"] != second["idempotency_key"]
    assert first["external_id"] == f"<{first['idempotency_key'].hex}@supportdesk.local>"


def _unconfirmed_reply() -> Message:
    reply = _reply()
    outbox_handover(message=outbox_claim(message_id=reply.pk))
    outbox_sweep(now=_later(3600))
    return reply


def test_agent_sends_an_unconfirmed_reply_again_with_the_same_message_id(
    agent_client, django_capture_on_commit_callbacks
):
    reply = _unconfirmed_reply()

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            f"/messages/{reply.pk}/delivery/", {"action": "resend"}, HTTP_HX_REQUEST="true"
        )

    assert response.status_code == 200
    (sent,) = mail.outbox
    assert sent.extra_headers["Message-ID"] == reply.external_id
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT


def test_agent_confirms_an_unconfirmed_reply_from_the_mail_log(agent_client):
    reply = _unconfirmed_reply()

    agent_client.post(f"/messages/{reply.pk}/delivery/", {"action": "delivered"})

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert mail.outbox == []


def test_a_sent_reply_cannot_be_sent_again(agent_client):
    reply = _reply()
    deliver_message(reply.pk)

    response = agent_client.post(
        f"/messages/{reply.pk}/delivery/", {"action": "resend"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 409
    assert "This reply is sent; only a failed or unconfirmed reply can be sent again." in (
        response.content.decode()
    )
    assert len(mail.outbox) == 1


def test_allowing_sends_again_clears_the_banner(agent_client):
    reply = _reply()
    customer_outbound_block(customer_id=reply.ticket.customer_id, reason="bounce: 5.1.1 unknown")
    page = agent_client.get(f"/tickets/{reply.ticket_id}/").content.decode()
    assert "are stopped since" in page and "bounce: 5.1.1 unknown" in page

    agent_client.post(f"/tickets/{reply.ticket_id}/allow-sending/")

    reply.ticket.customer.refresh_from_db()
    assert outbound_auto_send_allowed(reply.ticket.customer)
    assert (
        "are stopped since" not in agent_client.get(f"/tickets/{reply.ticket_id}/").content.decode()
    )


def test_a_sending_reply_from_before_the_outbox_is_marked_unconfirmed_not_resent():
    reply = _reply(delivery_status=Message.Delivery.SENDING, claimed_at=None)

    counts = outbox_sweep()

    assert counts["unconfirmed"] == 1
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.UNCONFIRMED
    assert mail.outbox == []


def test_a_slow_worker_whose_claim_was_requeued_sends_nothing(settings):
    reply = _reply()
    slow = outbox_claim(message_id=reply.pk)  # ... then stalls while connecting
    outbox_sweep(now=_later(settings.OUTBOX_STALE_SECONDS + 1))  # re-queued and sent again
    assert len(mail.outbox) == 1

    with pytest.raises(ClaimLost):
        send_reply(slow)  # the stalled worker wakes up

    assert len(mail.outbox) == 1


def test_a_slow_worker_that_was_marked_unconfirmed_still_records_the_delivery(settings):
    reply = _reply()
    slow = outbox_claim(message_id=reply.pk)
    outbox_handover(message=slow)
    outbox_sweep(now=_later(settings.OUTBOX_STALE_SECONDS + 1))  # thought dead: unconfirmed

    outbox_mark_sent(
        message_id=reply.pk, attempt=slow.delivery_attempts, provider_id=reply.external_id
    )

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT


def test_an_automatic_reply_to_a_customer_whose_mail_bounces_is_not_sent(agent):
    automatic = _reply(author_user=None)
    customer_outbound_block(customer_id=automatic.ticket.customer_id, reason="bounce: 5.1.1")
    by_hand = _reply(ticket=automatic.ticket, author_user=agent)

    deliver_message(automatic.pk)
    deliver_message(by_hand.pk)

    automatic.refresh_from_db()
    assert automatic.delivery_status == Message.Delivery.FAILED
    assert "automatic replies to" in automatic.delivery_error
    assert [written(m) for m in mail.outbox] == [BODY]  # the agent's own reply still goes out


def test_a_waiting_reply_is_enqueued_once_per_grace_period_not_on_every_sweep(
    settings, monkeypatch
):
    settings.TASK_BACKEND = "q2"  # the broker takes the task; no worker runs it here
    enqueued: list[int] = []
    monkeypatch.setattr("supportdesk.outbox.delivery.enqueue", lambda task, pk: enqueued.append(pk))
    reply = _reply()
    grace = settings.OUTBOX_QUEUED_GRACE_SECONDS

    outbox_sweep(now=_later(grace + 1))
    outbox_sweep(now=_later(grace + 2))
    assert enqueued == [reply.pk]

    outbox_sweep(now=_later(2 * grace + 3))
    assert enqueued == [reply.pk, reply.pk]
