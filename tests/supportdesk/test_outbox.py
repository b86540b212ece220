"""The outbox sweeper: what it does with each state a crash or a lost enqueue leaves behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from supportdesk.models import Message
from supportdesk.outbox import outbox_claim, outbox_entry_fields, outbox_handover, outbox_sweep
from tests.factories import MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

BODY = "Your parcel arrives on Friday."


def _reply(**fields) -> Message:
    return MessageFactory(
        ticket=TicketFactory(), direction=Message.Direction.OUTBOUND, body_text=BODY,
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
    assert sent.body == BODY and sent.extra_headers["Message-ID"] == reply.external_id
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
    assert [m.body for m in mail.outbox] == [BODY]
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.delivery_attempts == 2


def test_a_dead_workers_claim_after_handover_is_never_sent_again(settings, agent_client):
    reply = _reply()
    outbox_claim(message_id=reply.pk)
    outbox_handover(message_id=reply.pk)  # ... and the worker died during DATA

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
