"""Automatic mail: marked as automatic, never an answer to automatic mail, and at most
AUTO_MAIL_LIMIT per recipient per ticket per window, so a mail loop stops."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from supportdesk.intake.ingest import email_ingest
from supportdesk.models import AutomaticMail, Ticket
from supportdesk.outbox.automail import automatic_mail_allowed, automatic_mail_claim
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_tasks(monkeypatch) -> None:
    """Send automatic mails when their transaction commits; leave the AI pipeline out."""
    from supportdesk import queue, tasks

    def enqueue(task: str, *args: object) -> None:
        if task == "supportdesk.tasks.send_automatic_mail":
            tasks.send_automatic_mail(*args)

    monkeypatch.setattr(queue, "enqueue", enqueue)


def raw_mail(
    *,
    sender: str = "Maria Lopez <maria@example.com>",
    subject: str = "Parcel not delivered",
    message_id: str = "<m1@example.com>",
    in_reply_to: str = "",
    extra: tuple[str, ...] = (),
    body: str = "My parcel did not arrive yet. Where is it?",
) -> bytes:
    headers = [
        f"From: {sender}",
        "To: support@example.com",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        *([f"In-Reply-To: {in_reply_to}"] if in_reply_to else []),
        *extra,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def ingest(raw: bytes, capture):
    with capture(execute=True):
        return email_ingest(raw=raw)


def test_a_new_ticket_by_mail_is_acknowledged_in_its_thread(
    run_tasks, django_capture_on_commit_callbacks
):
    result = ingest(raw_mail(), django_capture_on_commit_callbacks)

    (ack,) = mail.outbox
    headers = message_from_bytes(ack.message().as_bytes())
    assert ack.to == ["maria@example.com"]
    assert ack.subject == f"Re: Parcel not delivered [#{result.ticket.pk}]"
    assert headers["In-Reply-To"] == "<m1@example.com>"
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"


@pytest.mark.parametrize(
    ("subject", "body", "language", "says"),
    [
        ("Parcel not delivered", "My parcel did not arrive yet. Where is it?", "en", "Thank you"),
        ("荷物が届きません", "先週注文した商品がまだ届いていません。", "ja", "誠に"),
        ("No llegó mi pedido", "Hola, mi pedido todavía no llega. ¿Dónde está?", "es", "¡Gracias"),
        ("包裹沒有送達", "我上週訂購的商品還沒有收到，請問怎麼處理？", "zh-Hant", "感謝您"),
        ("Paket fehlt", "Mein Paket ist noch nicht angekommen. Wo ist es?", "de", "vielen Dank"),
        ("Help", "??", "en", "Thank you"),  # too short to tell: the first supported language
    ],
)
def test_the_acknowledgement_is_written_in_the_customers_language(
    run_tasks, django_capture_on_commit_callbacks, subject, body, language, says
):
    result = ingest(raw_mail(subject=subject, body=body), django_capture_on_commit_callbacks)

    (ack,) = mail.outbox
    assert says in ack.body
    assert result.ticket.reference in ack.body
    assert ack.extra_headers["Content-Language"] == language
    assert ack.message().as_bytes()  # encodes (non-ASCII bodies go out as UTF-8)


def test_a_follow_up_is_acknowledged_in_the_language_of_the_follow_up(
    run_tasks, django_capture_on_commit_callbacks, settings
):
    settings.ACKNOWLEDGE_FOLLOW_UPS = True
    first = ingest(raw_mail(), django_capture_on_commit_callbacks)
    ingest(
        raw_mail(
            subject=f"Re: Parcel not delivered [#{first.ticket.pk}]",
            message_id="<m2@example.com>",
            in_reply_to="<m1@example.com>",
            body="Lo siento, escribo en español: ¿ya saben algo de mi paquete?",
        ),
        django_capture_on_commit_callbacks,
    )

    assert len(mail.outbox) == 2
    assert "Agregamos tu mensaje al ticket" in mail.outbox[1].body


def test_a_mail_loop_with_an_auto_responder_stops_at_the_limit(
    run_tasks, settings, django_capture_on_commit_callbacks
):
    """A badly behaved auto-responder (no Auto-Submitted, no auto subject) answers every mail
    we send. It gets AUTO_MAIL_LIMIT automatic mails, then silence; nothing it sent is lost."""
    settings.AUTO_MAIL_LIMIT = 3
    ingest(raw_mail(), django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()

    for turn in range(10):
        last = message_from_bytes(mail.outbox[-1].message().as_bytes())
        reply = raw_mail(
            subject=last["Subject"],
            message_id=f"<responder-{turn}@example.com>",
            in_reply_to=last["Message-ID"],
            body="Thank you for your e-mail. I will answer as soon as possible.",
        )
        result = ingest(reply, django_capture_on_commit_callbacks)
        assert result.ticket == ticket  # threaded by the [#id] token, not new tickets

    assert len(mail.outbox) == 3
    assert ticket.messages.count() == 11
    statuses = list(
        AutomaticMail.objects.filter(ticket=ticket).order_by("pk").values_list("status", flat=True)
    )
    assert statuses == [AutomaticMail.Status.SENT] * 3 + [AutomaticMail.Status.SUPPRESSED] * 8
    suppressed = AutomaticMail.objects.filter(status=AutomaticMail.Status.SUPPRESSED).first()
    assert suppressed.detail.startswith("limit reached: 3 automatic mails to maria@example.com")


@pytest.mark.parametrize(
    ("extra", "sender", "reason"),
    [
        (("Auto-Submitted: auto-replied",), "maria@example.com", "Auto-Submitted: auto-replied"),
        (("Precedence: bulk",), "maria@example.com", "Precedence: bulk"),
        (("List-Id: <news.example.com>",), "maria@example.com", "mailing list"),
        ((), "no-reply@shop.example", "automated sender"),
    ],
)
def test_automatic_or_list_mail_gets_no_acknowledgement_but_is_filed(
    run_tasks, django_capture_on_commit_callbacks, extra, sender, reason
):
    result = ingest(raw_mail(sender=sender, extra=extra), django_capture_on_commit_callbacks)

    assert result.created_ticket
    assert mail.outbox == []
    row = AutomaticMail.objects.get()
    assert row.status == AutomaticMail.Status.SUPPRESSED
    assert reason in row.detail


def test_the_limit_is_per_window(settings):
    settings.AUTO_MAIL_LIMIT = 2
    settings.AUTO_MAIL_WINDOW_HOURS = 24
    ticket = TicketFactory(customer__email="maria@example.com")
    day_ago = timezone.now() - timedelta(hours=25)
    for _ in range(2):
        AutomaticMail.objects.create(
            ticket=ticket, recipient="maria@example.com", kind="ack", status="sent"
        )

    assert automatic_mail_allowed(ticket=ticket, recipient="maria@example.com")[0] is False
    AutomaticMail.objects.update(created_at=day_ago)
    assert automatic_mail_allowed(ticket=ticket, recipient="maria@example.com") == (True, "")


def test_the_limit_is_per_recipient_and_ticket(settings):
    settings.AUTO_MAIL_LIMIT = 1
    ticket = TicketFactory(customer__email="maria@example.com")
    other_ticket = TicketFactory(customer=ticket.customer)
    automatic_mail_claim(ticket=ticket, recipient="Maria <MARIA@example.com>", kind="ack")

    assert automatic_mail_allowed(ticket=ticket, recipient="maria@example.com")[0] is False
    assert automatic_mail_allowed(ticket=other_ticket, recipient="maria@example.com")[0] is True
    assert automatic_mail_allowed(ticket=ticket, recipient="ops@example.com")[0] is True


def test_failed_and_suppressed_mails_do_not_use_up_the_limit(settings):
    settings.AUTO_MAIL_LIMIT = 1
    ticket = TicketFactory(customer__email="maria@example.com")
    for status in ("failed", "suppressed"):
        AutomaticMail.objects.create(
            ticket=ticket, recipient="maria@example.com", kind="ack", status=status
        )

    assert automatic_mail_allowed(ticket=ticket, recipient="maria@example.com") == (True, "")


@pytest.mark.parametrize(
    ("recipient", "reason"),
    [
        ("noreply@shop.example", "automated address"),
        ("MAILER-DAEMON@mx.example", "automated address"),
        ("support@example.com", "the desk's own address"),
        ("", "no recipient address"),
    ],
)
def test_no_automatic_mail_to_addresses_nobody_reads(recipient, reason):
    ticket = TicketFactory()

    allowed, why = automatic_mail_allowed(ticket=ticket, recipient=recipient)

    assert allowed is False and why.startswith(reason)


def test_acknowledgements_can_be_switched_off(
    run_tasks, settings, django_capture_on_commit_callbacks
):
    settings.ACKNOWLEDGE_NEW_TICKETS = False

    ingest(raw_mail(), django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert not AutomaticMail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_automatic_mails_never_exceed_the_limit(settings):
    """Eight processes' worth of simultaneous claims: the ticket row lock makes the count and
    the insert one step, so exactly AUTO_MAIL_LIMIT go out."""
    settings.AUTO_MAIL_LIMIT = 3
    ticket = TicketFactory(customer__email="maria@example.com")
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def claim() -> None:
        try:
            start.wait()
            automatic_mail_claim(ticket=ticket, recipient="maria@example.com", kind="ack")
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    statuses = sorted(AutomaticMail.objects.values_list("status", flat=True))
    assert statuses == ["queued"] * 3 + ["suppressed"] * 5


def test_admins_see_which_automatic_mails_were_held_back_and_why(desk_admin_client):
    ticket = TicketFactory(customer__email="maria@example.com")
    AutomaticMail.objects.create(
        ticket=ticket,
        recipient="maria@example.com",
        kind="ack-follow-up",
        status="suppressed",
        detail="limit reached: 3 automatic mails to maria@example.com",
    )

    response = desk_admin_client.get(reverse("admin:supportdesk_automaticmail_changelist"))

    assert response.status_code == 200
    assert "limit reached: 3 automatic mails to maria@example.com" in response.content.decode()
