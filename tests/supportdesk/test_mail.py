"""Outbound replies by e-mail: safe subjects, threaded headers, delivered once."""

from __future__ import annotations

import pytest
from django.core import mail

from supportdesk import realtime
from supportdesk.mail import reply_subject
from supportdesk.models import Message
from supportdesk.tasks import deliver_message
from tests.factories import MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _queued_reply(ticket, body: str = "Your parcel arrives on Friday.") -> Message:
    return MessageFactory(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text=body,
        delivery_status=Message.Delivery.QUEUED,
    )


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Where is my parcel?", "Re: Where is my parcel? [#7]"),
        ("RE: Where is my parcel?", "RE: Where is my parcel? [#7]"),
        ("Re: Where is my parcel? [#7]", "Re: Where is my parcel? [#7]"),
        ("Help\r\nBcc: victim@example.com", "Re: Help Bcc: victim@example.com [#7]"),
        ("Help\nX-Spam: no\r\n\r\nbody", "Re: Help X-Spam: no body [#7]"),
    ],
)
def test_reply_subject(subject, expected):
    assert reply_subject(subject, 7) == expected


def test_reply_to_a_subject_with_line_breaks_cannot_inject_headers():
    ticket = TicketFactory(
        subject="Help\r\nBcc: victim@example.com", customer__email="m@example.com"
    )
    reply = _queued_reply(ticket)

    deliver_message(reply.pk)

    (sent,) = mail.outbox
    assert "\r" not in sent.subject and "\n" not in sent.subject
    assert sent.subject == f"Re: Help Bcc: victim@example.com [#{ticket.pk}]"
    assert sent.bcc == []
    assert sent.recipients() == ["m@example.com"]
    assert sent.message().get_all("Bcc") is None


def test_reply_threads_under_the_customers_own_messages():
    ticket = TicketFactory()
    MessageFactory(ticket=ticket, external_id="<first@mail.example>")
    MessageFactory(ticket=ticket, external_id="zendesk-123")  # not an e-mail Message-ID
    MessageFactory(ticket=ticket, external_id="<second@mail.example>")
    reply = _queued_reply(ticket)

    deliver_message(reply.pk)

    headers = mail.outbox[0].extra_headers
    assert headers["In-Reply-To"] == "<second@mail.example>"
    assert headers["References"] == "<first@mail.example> <second@mail.example>"
    assert headers["Auto-Submitted"] == "no"


def test_reply_to_a_web_form_ticket_has_no_threading_headers():
    ticket = TicketFactory()
    MessageFactory(ticket=ticket)
    reply = _queued_reply(ticket)

    deliver_message(reply.pk)

    headers = mail.outbox[0].extra_headers
    assert "In-Reply-To" not in headers
    assert "References" not in headers


def test_delivered_reply_is_marked_sent_with_its_message_id(
    sent_events, django_capture_on_commit_callbacks
):
    ticket = TicketFactory()
    reply = _queued_reply(ticket)

    with django_capture_on_commit_callbacks(execute=True):
        deliver_message(reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.sent_at is not None
    assert reply.external_id == mail.outbox[0].extra_headers["Message-ID"]
    assert reply.external_id.startswith("<") and reply.external_id.endswith("@supportdesk.local>")
    assert (realtime.TICKET_UPDATED, ticket.pk) in sent_events


def test_a_second_delivery_run_sends_nothing():
    reply = _queued_reply(TicketFactory())

    deliver_message(reply.pk)
    deliver_message(reply.pk)

    assert len(mail.outbox) == 1


def test_failed_delivery_is_recorded_and_shown_on_the_ticket(
    monkeypatch, agent_client, sent_events, django_capture_on_commit_callbacks
):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    ticket = TicketFactory()
    reply = _queued_reply(ticket)

    with django_capture_on_commit_callbacks(execute=True):
        deliver_message(reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "smtp down" in reply.delivery_error
    assert (realtime.TICKET_UPDATED, ticket.pk) in sent_events
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Delivery failed: ConnectionRefusedError(&#x27;smtp down&#x27;)" in page
