"""Headers we write come from normalised values: a customer's subject that decodes to line
breaks and "Bcc:" lines, by e-mail or by the web form, never adds a recipient or a header to
the acknowledgement or to an agent's reply. Checked on the bytes that leave, re-parsed the way
the recipient's mail client reads them."""

from __future__ import annotations

import base64
from email import policy
from email.parser import BytesParser

import pytest
from django.core import mail
from django.urls import reverse

from replies.services import reply_send_manual
from supportdesk.intake.ingest import email_ingest
from supportdesk.models import Ticket
from supportdesk.outbox.mail import reply_subject
from tests.mailbox import before_footer

pytestmark = pytest.mark.django_db

# Every header our outbound mail may carry; anything else was injected.
OUR_HEADERS = {
    "content-type", "mime-version", "content-transfer-encoding", "subject", "from", "to",
    "date", "message-id", "auto-submitted", "x-auto-response-suppress", "in-reply-to",
    "references", "content-language",
}  # fmt: skip


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


HOSTILE_SUBJECTS = [
    # the encoded-word decodes to a line feed right before "Bcc:"
    "hi=?UTF-8?Q?=0A?=Bcc: evil@example.org",
    # a whole subject that decodes to CR/LF and extra header lines
    "=?UTF-8?B?" + _b64("Help\r\nBcc: evil@example.org\r\nTo: other@example.org") + "?=",
    # Q-encoded CR/LF split over two adjacent encoded-words, with an empty line (headers end)
    "=?UTF-8?Q?Hi=0D=0ACc:_evil@example.org?= =?UTF-8?Q?=0D=0A=0D=0AFake_body?=",
    # double-encoded: decodes to a literal encoded-word, which a mail client would decode again
    "=?UTF-8?Q?hi=3D=3FUTF-8=3FQ=3F=3D0A=3F=3DBcc:_evil@example.org?=",
    # a line break in another charset, with NUL and vertical tab
    "=?ISO-8859-1?Q?Hola=0D=0A=00=0BBcc:_evil@example.org?=",
]


@pytest.fixture
def run_tasks(monkeypatch) -> None:
    """Deliver mail when its transaction commits; leave the AI pipeline out."""
    from supportdesk import queue, tasks

    def enqueue(task: str, *args: object) -> None:
        if task == "supportdesk.tasks.send_automatic_mail":
            tasks.send_automatic_mail(*args)
        elif task == "supportdesk.tasks.deliver_message":
            tasks.deliver_message(*args)

    monkeypatch.setattr(queue, "enqueue", enqueue)


def raw_mail(subject: str) -> bytes:
    return (
        "From: Maria Lopez <maria@example.com>\r\n"
        "To: support@example.com\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <hostile-1@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "My parcel did not arrive.\r\n"
    ).encode()


def assert_sent_only_to(sent, address: str, ticket: Ticket):
    """The bytes that leave name exactly one recipient, in To, and one single-line subject."""
    assert sent.recipients() == [address]
    parsed = BytesParser(policy=policy.default).parsebytes(sent.message().as_bytes())
    assert {name.lower() for name in parsed} <= OUR_HEADERS, parsed.keys()
    assert [a.addr_spec for a in parsed["To"].addresses] == [address]
    assert len(parsed.get_all("To")) == 1
    assert parsed.get_all("Cc") is None and parsed.get_all("Bcc") is None
    assert len(parsed.get_all("Subject")) == 1
    subject = str(parsed["Subject"])
    assert not any(ch in subject for ch in "\r\n\x00\x0b")
    assert subject == reply_subject(ticket.subject, ticket.pk)
    assert subject.endswith(f"[#{ticket.pk}]")
    return parsed


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS)
def test_hostile_encoded_subject_by_mail_adds_no_recipient_to_the_ack_or_the_reply(
    subject, agent, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(raw=raw_mail(subject))
    ticket = result.ticket
    assert "\n" not in ticket.subject and "\r" not in ticket.subject
    assert "evil@example.org" in ticket.subject  # kept as text, not dropped

    (ack,) = mail.outbox
    assert_sent_only_to(ack, "maria@example.com", ticket)

    with django_capture_on_commit_callbacks(execute=True):
        reply_send_manual(ticket_id=ticket.pk, actor=agent, text="It arrives on Friday.")

    assert len(mail.outbox) == 2
    parsed = assert_sent_only_to(mail.outbox[1], "maria@example.com", ticket)
    assert parsed["In-Reply-To"] == "<hostile-1@example.com>"
    assert before_footer(parsed.get_content()) == "It arrives on Friday."


@pytest.mark.parametrize(
    "subject",
    ["hi=?UTF-8?Q?=0A?=Bcc: evil@example.org", "Help\r\nBcc: evil@example.org\r\n\r\nbody"],
)
def test_hostile_subject_in_the_web_form_adds_no_recipient_to_the_ack_or_the_reply(
    subject, client, agent, run_tasks, django_capture_on_commit_callbacks
):
    data = {
        "name": "Maria Lopez",
        "email": "maria@example.com",
        "subject": subject,
        "body": "The tracking still says dispatched.",
        "locale": "en-GB",
        "website": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("contact"), data, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    ticket = Ticket.objects.get()

    (ack,) = mail.outbox
    assert_sent_only_to(ack, "maria@example.com", ticket)

    with django_capture_on_commit_callbacks(execute=True):
        reply_send_manual(ticket_id=ticket.pk, actor=agent, text="It arrives on Friday.")

    assert_sent_only_to(mail.outbox[1], "maria@example.com", ticket)


def test_an_ordinary_subject_is_sent_as_written():
    """Only subjects that look like encoded-words are encoded: the rest stays readable."""
    from supportdesk.outbox.mail import subject_header

    assert subject_header("Re: Where is my parcel? [#7]") == "Re: Where is my parcel? [#7]"
    assert subject_header("Re: a =? b [#7]").startswith("=?utf-8?")
