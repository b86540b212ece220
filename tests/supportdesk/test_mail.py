"""Outbound replies by e-mail: safe subjects, threaded headers, delivered once."""

from __future__ import annotations

import pytest
from django.core import mail

from supportdesk import realtime
from supportdesk.models import Message
from supportdesk.outbox.delivery import (
    outbound_auto_send_allowed,
    outbox_entry_fields,
    outbox_sweep,
)
from supportdesk.outbox.mail import reply_subject
from supportdesk.tasks import deliver_message
from tests.e2e.livedesk import free_port
from tests.factories import MessageFactory, TicketFactory
from tests.mailbox import before_footer
from tests.smtp_server import SMTPServer

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


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, and the desk configured to send through it."""
    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield server


def _approved_reply(ticket, body: str) -> Message:
    return MessageFactory(
        ticket=ticket, direction=Message.Direction.OUTBOUND, body_text=body, **outbox_entry_fields()
    )


def test_reply_goes_out_over_smtp_with_the_message_id_stored_when_it_was_queued(smtp):
    ticket = TicketFactory(customer__email="mia@example.com")
    body = "Hola Mía:\n\nTu pedido llega el viernes. ¡Saludos!"
    reply = _approved_reply(ticket, body)
    queued_id = reply.external_id

    deliver_message(reply.pk)

    (received,) = smtp.received
    assert received["Message-ID"] == queued_id
    assert received["To"] == "mia@example.com"
    assert before_footer(received.get_content()) == body
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.external_id == queued_id and reply.handed_over_at is not None


def test_refused_address_fails_the_reply_and_stops_sends_to_the_customer(
    smtp, agent_client, sent_events, django_capture_on_commit_callbacks
):
    smtp.recorder.refuse.add("gone@example.com")
    ticket = TicketFactory(customer__email="gone@example.com")
    reply = _approved_reply(ticket, "Your parcel arrives on Friday.")

    with django_capture_on_commit_callbacks(execute=True):
        deliver_message(reply.pk)

    assert smtp.received == []
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "User unknown" in reply.delivery_error
    assert reply.handed_over_at is None  # the server never had the message
    ticket.customer.refresh_from_db()
    assert not outbound_auto_send_allowed(ticket.customer)
    assert (realtime.TICKET_UPDATED, ticket.pk) in sent_events
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Replies to gone@example.com are stopped since" in page
    assert "was not delivered" in page
    assert "Delivery failed: SMTPRecipientsRefused" in page


def test_connection_lost_during_data_is_unconfirmed_and_never_retried(settings, smtp):
    settings.OUTBOX_STALE_SECONDS = settings.OUTBOX_QUEUED_GRACE_SECONDS = 0
    smtp.recorder.drop_after_data = True
    reply = _approved_reply(TicketFactory(), "Your parcel arrives on Friday.")

    deliver_message(reply.pk)
    outbox_sweep()
    outbox_sweep()

    assert len(smtp.received) == 1  # the server kept it; the worker never heard back
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.UNCONFIRMED
    assert "SMTPServerDisconnected" in reply.delivery_error
    assert reply.external_id in reply.delivery_error


def test_unreachable_server_is_retried_then_failed_without_blocking_the_customer(
    settings, agent_client
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    settings.OUTBOX_MAX_ATTEMPTS = 2
    ticket = TicketFactory()
    reply = _approved_reply(ticket, "Your parcel arrives on Friday.")

    deliver_message(reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.QUEUED  # the sweeper will try again
    assert "ConnectionRefusedError" in reply.delivery_error
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Sending failed, retrying (1 attempt so far)" in page

    deliver_message(reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert reply.delivery_attempts == 2
    ticket.customer.refresh_from_db()
    assert outbound_auto_send_allowed(ticket.customer)  # the address is not to blame
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "was not delivered" in page
