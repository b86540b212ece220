"""E-mail intake end to end: raw MIME → customer → threaded ticket → pipeline, once per delivery.

Raw fixtures live in tests/supportdesk/mail/; the small messages built here vary only headers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from supportdesk import realtime
from supportdesk.intake.email_in import EmailParseError
from supportdesk.intake.ingest import EmailRejected, email_ingest
from supportdesk.models import Customer, Message, Ticket
from supportdesk.outbox.delivery import outbound_auto_send_allowed
from tests.factories import CustomerFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

MAIL = Path(__file__).parent / "mail"


def mail(
    *,
    sender: str = "Maria Lopez <maria@example.com>",
    subject: str = "Parcel not delivered",
    body: str = "My parcel did not arrive yet. Where is it?",
    message_id: str | None = "<m1@example.com>",
    in_reply_to: str = "",
    references: str = "",
) -> bytes:
    optional = {"Message-ID": message_id, "In-Reply-To": in_reply_to, "References": references}
    headers = [f"From: {sender}", "To: support@example.com", f"Subject: {subject}"]
    headers += [f"{name}: {value}" for name, value in optional.items() if value]
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def maria_ticket_with_reply(status: str = Ticket.Status.OPEN) -> tuple[Ticket, Message]:
    """Maria's ticket #N with our outbound reply <reply-1@supportdesk.local>."""
    customer = CustomerFactory(email="maria@example.com")
    ticket = TicketFactory(customer=customer, subject="Parcel not delivered", status=status)
    MessageFactory(ticket=ticket, external_id="<m1@example.com>")
    outbound = MessageFactory(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text="We are checking with the courier.",
        external_id="<reply-1@supportdesk.local>",
        delivery_status=Message.Delivery.SENT,
    )
    return ticket, outbound


@pytest.mark.parametrize(
    ("fixture", "sender", "subject", "text"),
    [
        (
            "big5_plain.eml",
            "陳小明",
            "訂單問題",
            "您好，我的訂單還沒有收到，請幫我查一下物流狀態。",
        ),
        (
            "iso2022jp_plain.eml",
            "鈴木花子",
            "ご注文について",
            "お世話になっております。返金の手続きについて教えてください。",
        ),
    ],
)
def test_new_ticket_from_legacy_charset_mail_has_decoded_text(fixture, sender, subject, text):
    result = email_ingest(raw=(MAIL / fixture).read_bytes())

    assert (result.created_ticket, result.duplicate, result.bounce) == (True, False, False)
    ticket = Ticket.objects.get()
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.subject == subject
    assert ticket.customer.name == sender
    message = ticket.messages.get()
    assert message.body_text == text
    assert message.external_id.endswith(("@example.com.tw>", "@example.ne.jp>"))
    assert result.auto_reply_allowed is True


def test_new_ticket_is_announced_and_analysed_after_commit(
    stub_triage, sent_events, django_capture_on_commit_callbacks
):
    engine = stub_triage()

    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(raw=mail())
        assert engine.seen == []

    assert sent_events[0] == (realtime.TICKET_CREATED, result.ticket.pk)
    assert engine.seen == ["My parcel did not arrive yet. Where is it?"]


def test_reply_with_changed_subject_threads_by_in_reply_to_and_reopens(
    stub_triage, sent_events, django_capture_on_commit_callbacks
):
    engine = stub_triage()
    ticket, _ = maria_ticket_with_reply(status=Ticket.Status.SOLVED)

    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(
            raw=mail(
                subject="Something completely different",
                body="It arrived today, but the box was damaged.",
                message_id="<m2@example.com>",
                in_reply_to="<reply-1@supportdesk.local>",
            )
        )

    assert (result.ticket.pk, result.created_ticket, result.duplicate) == (ticket.pk, False, False)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reopen_count == 1  # a repeat contact for routing
    assert ticket.messages.count() == 3
    assert Ticket.objects.count() == 1
    assert (realtime.TICKET_UPDATED, ticket.pk) in sent_events
    assert engine.seen == ["It arrived today, but the box was damaged."]


def test_reply_threads_by_the_subject_token_when_headers_are_missing():
    ticket, _ = maria_ticket_with_reply()

    result = email_ingest(
        raw=mail(subject=f"Re: Parcel not delivered [#{ticket.pk}]", message_id="<m3@example.com>")
    )

    assert result.ticket == ticket
    assert result.created_ticket is False


def test_same_subject_from_another_sender_starts_a_new_ticket():
    ticket, _ = maria_ticket_with_reply()

    result = email_ingest(
        raw=mail(sender="bob@example.org", subject="Parcel not delivered", message_id="<b@x.org>")
    )

    assert result.created_ticket is True
    assert result.ticket != ticket
    assert result.ticket.customer.email == "bob@example.org"


def test_references_into_another_customers_ticket_start_a_new_ticket():
    ticket, _ = maria_ticket_with_reply()

    result = email_ingest(
        raw=mail(
            sender="mallory@example.net",
            subject=f"Re: Parcel not delivered [#{ticket.pk}]",
            message_id="<fw@example.net>",
            in_reply_to="<reply-1@supportdesk.local>",
            references="<m1@example.com> <reply-1@supportdesk.local>",
        )
    )

    assert result.created_ticket is True
    assert result.ticket != ticket
    assert ticket.messages.count() == 2


# -- senders are read strictly: an address in a display name is never the sender ---------------


@pytest.mark.parametrize(
    "sender",
    [
        pytest.param("maria@example.com <attacker@evil.example>", id="address as bare name"),
        pytest.param("maria@example.com@<attacker@evil.example>", id="address glued to angle"),
        pytest.param("Maria <>", id="empty angle address"),
        pytest.param("Maria <maria@localhost>", id="host without a domain"),
    ],
)
def test_a_from_header_that_does_not_parse_is_refused_and_joins_no_thread(sender):
    ticket, _ = maria_ticket_with_reply()

    with pytest.raises(EmailRejected, match="From:"):
        email_ingest(
            raw=mail(sender=sender, subject=f"Re: Parcel not delivered [#{ticket.pk}]",
                     message_id="<hijack@evil.example>", in_reply_to="<reply-1@supportdesk.local>")
        )  # fmt: skip

    assert ticket.messages.count() == 2
    assert list(Customer.objects.values_list("email", flat=True)) == ["maria@example.com"]


def test_a_quoted_address_in_the_display_name_is_only_a_name():
    ticket, _ = maria_ticket_with_reply()

    result = email_ingest(
        raw=mail(sender='"maria@example.com" <attacker@evil.example>',
                 subject=f"Re: Parcel not delivered [#{ticket.pk}]", message_id="<q@evil.example>")
    )  # fmt: skip

    assert result.created_ticket is True
    assert result.ticket.customer.email == "attacker@evil.example"
    assert ticket.messages.count() == 2


def test_an_encoded_header_injection_in_the_name_files_under_the_real_address():
    result = email_ingest(
        raw=mail(sender="=?UTF-8?Q?Eve=0D=0ABcc:_evil@attacker.example?= <real@example.com>")
    )

    customer = result.ticket.customer
    assert customer.email == "real@example.com"
    assert "\n" not in customer.name and "\r" not in customer.name
    assert Customer.objects.filter(email__icontains="attacker").count() == 0


def test_a_sender_header_does_not_stand_in_for_a_broken_from():
    raw = mail(sender="maria@example.com <attacker@evil.example>").replace(
        b"To: ", b"Sender: maria@example.com\r\nTo: ", 1
    )

    with pytest.raises(EmailRejected):
        email_ingest(raw=raw)
    assert Ticket.objects.count() == 0


def test_the_same_message_delivered_twice_is_stored_once():
    first = email_ingest(raw=mail())
    again = email_ingest(raw=mail())

    assert again.duplicate is True
    assert again.message == first.message
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)


def test_mail_without_message_id_is_still_recognised_on_redelivery():
    first = email_ingest(raw=mail(message_id=None))
    again = email_ingest(raw=mail(message_id=None))

    assert first.message.external_id.startswith("<sha256.")
    assert again.duplicate is True
    assert Message.objects.count() == 1


def test_database_constraint_catches_a_delivery_the_lookup_missed(monkeypatch):
    """Two concurrent deliveries both pass the lookup; the unique constraint decides."""
    first = email_ingest(raw=mail())
    real_select_related = Message.objects.select_related
    calls = []

    def blind_first_lookup(*fields):
        calls.append(fields)
        if len(calls) == 1:  # the pre-check: pretend the other delivery has not committed yet
            return real_select_related(*fields).none()
        return real_select_related(*fields)

    monkeypatch.setattr(Message.objects, "select_related", blind_first_lookup)
    again = email_ingest(raw=mail())

    assert again.duplicate is True
    assert again.message == first.message
    assert len(calls) == 2  # the lookup missed; the constraint sent it to the second one
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)


def test_quoted_earlier_mail_is_kept_out_of_body_text_but_not_lost():
    result = email_ingest(raw=(MAIL / "gmail_reply.eml").read_bytes())

    text = result.message.body_text
    assert text.startswith("Thanks, but the app still crashes when I open the camera tab.")
    assert "furious" not in text
    assert "update the app" not in text
    quoted = result.message.body_quoted
    # Signature first, then the quote, as the customer's mail client laid them out.
    assert quoted.index("Sent from my iPhone") < quoted.index("Support Team")
    assert "> Please update the app to version 5.2 and try again." in quoted
    assert "> > The app crashes and I am furious!!!" in quoted


def test_bottom_posted_reply_keeps_quote_above_signature():
    body = "> When will it ship?\n\nIt shipped yesterday? Still nothing here.\n\n-- \nMaria"
    result = email_ingest(raw=mail(body=body))

    assert result.message.body_text == "It shipped yesterday? Still nothing here."
    assert result.message.body_quoted.splitlines() == ["> When will it ship?", "", "--", "Maria"]


def test_reply_with_nothing_quoted_has_no_quoted_text():
    result = email_ingest(raw=mail())

    assert result.message.body_quoted == ""


def test_hostile_html_is_stored_inert():
    result = email_ingest(raw=(MAIL / "html_hostile.eml").read_bytes())

    html = result.message.body_html
    assert "<b>late</b>" in html
    for dangerous in ("<script", "onerror", "onclick", "hx-get", "javascript:", "<iframe"):
        assert dangerous not in html.lower()
    assert "My order #1234 is late." in result.message.body_text


def test_auto_replies_are_recorded_as_not_allowed():
    result = email_ingest(raw=(MAIL / "out_of_office.eml").read_bytes())

    assert result.auto_reply_allowed is False
    assert result.auto_reply_reason
    # Stored with the message, so the auto-send guardrails never answer it later.
    result.message.refresh_from_db()
    assert result.message.automated_reason == result.auto_reply_reason[:200]


def test_a_person_s_mail_has_no_automated_reason():
    result = email_ingest(raw=(MAIL / "utf8_plain.eml").read_bytes())

    assert result.auto_reply_allowed is True
    assert Message.objects.get(pk=result.message.pk).automated_reason == ""


def test_no_email_at_all_saves_nothing():
    with pytest.raises(EmailParseError):
        email_ingest(raw=(MAIL / "binary_garbage.eml").read_bytes())

    assert (Customer.objects.count(), Ticket.objects.count()) == (0, 0)


def dsn(returned_message_id: str) -> bytes:
    raw = (MAIL / "dsn_bounce.eml").read_bytes()
    returned = b"From: support@supportdesk.test\r\n"
    assert returned in raw
    return raw.replace(
        returned, returned + b"Message-ID: " + returned_message_id.encode() + b"\r\n"
    )


def test_bounce_marks_the_outbound_message_failed_and_opens_no_ticket():
    ticket, outbound = maria_ticket_with_reply()

    result = email_ingest(raw=dsn("<reply-1@supportdesk.local>"))

    assert (result.bounce, result.created_ticket, result.ticket) == (True, False, ticket)
    outbound.refresh_from_db()
    assert outbound.delivery_status == Message.Delivery.FAILED
    assert "5.1.1" in outbound.delivery_error
    assert Ticket.objects.count() == 1
    assert ticket.messages.count() == 2
    assert not Customer.objects.filter(email__startswith="mailer-daemon").exists()


def test_bounce_stops_automatic_sends_and_shows_on_the_ticket(agent_client):
    ticket, outbound = maria_ticket_with_reply()
    Message.objects.filter(pk=outbound.pk).update(delivery_status=Message.Delivery.UNCONFIRMED)

    email_ingest(raw=dsn("<reply-1@supportdesk.local>"))

    outbound.refresh_from_db()
    assert outbound.delivery_status == Message.Delivery.FAILED
    ticket.customer.refresh_from_db()
    assert not outbound_auto_send_allowed(ticket.customer)
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f"Replies to {ticket.customer.email} are stopped since" in page
    assert "5.1.1" in page
    assert "was not delivered" in page


def test_bounce_for_nothing_of_ours_is_dropped(caplog):
    result = email_ingest(raw=dsn("<unknown@elsewhere.example>"))

    assert (result.bounce, result.ticket, result.message) == (True, None, None)
    assert (Ticket.objects.count(), Customer.objects.count()) == (0, 0)
    assert "Dropped bounce" in caplog.text


def test_command_ingests_an_mbox_and_reports_each_message(tmp_path, capsys):
    garbage = (MAIL / "binary_garbage.eml").read_bytes()
    box = tmp_path / "in.mbox"
    box.write_bytes(
        b"From maria@example.com Mon Mar 11 09:00:00 2024\n"
        + mail().replace(b"\r\n", b"\n")
        + b"\nFrom nobody Mon Mar 11 09:01:00 2024\n"
        + garbage
        + b"\nFrom maria@example.com Mon Mar 11 09:02:00 2024\n"
        + mail().replace(b"\r\n", b"\n")
    )

    with pytest.raises(SystemExit) as exited:
        call_command("ingest_email", str(box), "--mbox")

    out, err = capsys.readouterr()
    ticket = Ticket.objects.get()
    assert exited.value.code == 1
    assert out.splitlines() == [
        f"message 1: ticket #{ticket.pk} new",
        f"message 3: ticket #{ticket.pk} duplicate",
    ]
    assert err.splitlines() == ["message 2: error: " + err.split("error: ", 1)[1].strip()]
    assert "not an e-mail" in err


def test_command_reads_one_message_from_a_file(tmp_path, capsys):
    path = tmp_path / "one.eml"
    path.write_bytes(mail())

    call_command("ingest_email", str(path))

    assert capsys.readouterr().out.strip() == f"message 1: ticket #{Ticket.objects.get().pk} new"
