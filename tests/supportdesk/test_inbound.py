"""E-mail over HTTP: the raw-MIME endpoint and each mail provider's inbound webhook.

Provider payloads follow each provider's documented inbound format and are posted to the
real django-anymail views through our URLs: what the provider would send, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
from django.db import OperationalError
from django.urls import reverse

from supportdesk.models import Customer, Message, Ticket
from supportdesk.services import api_token_create
from tests.factories import CustomerFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

MAIL = Path(__file__).parent / "mail"
RAW_URL = "/api/v1/inbound/email"
SECRET = "mailhook:s3cret-Xy9"
SIGNING_KEY = "key-mailgun-signing-0123456789"


def mail(
    *,
    message_id: str = "<CAF-7731@mail.example.com>",
    subject: str = "Parcel not delivered",
    body: str = "My parcel did not arrive yet. Where is it?",
    sender: str = "Maria Lopez <maria@example.com>",
    extra: str = "",
) -> bytes:
    headers = [
        f"From: {sender}",
        "To: Lumen Support <support@example.com>",
        f"Subject: {subject}",
        "Date: Tue, 01 Dec 2026 09:12:45 +0100",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    return ("\r\n".join(headers) + extra + "\r\n\r\n" + body + "\r\n").encode()


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.fixture
def token(agent) -> str:
    return api_token_create(user=agent)


@pytest.fixture
def webhooks(settings) -> None:
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": [SECRET],
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }


# -- raw MIME endpoint -------------------------------------------------------------------------


def post_raw(client, token: str | None, body: bytes, content_type: str = "message/rfc822"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(RAW_URL, data=body, content_type=content_type, headers=headers)


def test_raw_mail_opens_a_ticket_and_is_triaged(
    client, token, stub_triage, categories, django_capture_on_commit_callbacks
):
    engine = stub_triage(category="delivery")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, token, mail())

    assert response.status_code == 201
    data = response.json()
    ticket = Ticket.objects.get()
    assert data["ticket"] == ticket.pk
    assert (data["created_ticket"], data["duplicate"]) == (True, False)
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.customer.email == "maria@example.com"
    assert ticket.category.slug == "delivery"
    assert engine.seen == ["My parcel did not arrive yet. Where is it?"]


def test_raw_mail_delivered_twice_returns_the_stored_message(client, token):
    first = post_raw(client, token, mail()).json()
    again = post_raw(client, token, mail())

    assert again.status_code == 200
    assert again.json()["message"] == first["message"]
    assert again.json()["duplicate"] is True
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)


def test_raw_reply_lands_in_its_ticket(client, token):
    ticket = TicketFactory(customer=CustomerFactory(email="maria@example.com"))
    MessageFactory(ticket=ticket, external_id="<ours-1@example.com>")
    reply = mail(
        message_id="<reply-2@mail.example.com>",
        subject="Different words",
        extra="\r\nIn-Reply-To: <ours-1@example.com>",
        body="Thanks, it came today.",
    )

    response = post_raw(client, token, reply)

    assert response.status_code == 201
    assert response.json() == {
        "ticket": ticket.pk,
        "message": ticket.messages.latest("pk").pk,
        "created_ticket": False,
        "duplicate": False,
        "bounce": False,
        "auto_reply_allowed": True,
    }


def test_raw_mail_needs_a_valid_token(client, token):
    assert post_raw(client, None, mail()).status_code == 401
    assert post_raw(client, "sd_wrong", mail()).status_code == 401
    assert not Ticket.objects.exists()


def test_raw_mail_from_a_user_without_inbox_rights_is_forbidden(client, outsider):
    response = post_raw(client, api_token_create(user=outsider), mail())

    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_raw_mail_over_the_size_limit_is_413_and_saves_nothing(client, token, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 2000

    response = post_raw(client, token, mail(body="x" * 3000))

    assert response.status_code == 413
    assert "2000 bytes" in response.json()["error"]
    assert not Ticket.objects.exists()


def test_raw_mail_larger_than_the_form_limit_is_accepted(client, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = post_raw(client, token, mail(body="Long story. " * 400))

    assert response.status_code == 201
    assert Message.objects.get().body_text.startswith("Long story.")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\r\n", "Not an e-mail message"),
        ((MAIL / "binary_garbage.eml").read_bytes(), "Not an e-mail message"),
        (b"Subject: hello\r\n\r\nNobody sent this.\r\n", "no sender address"),
    ],
)
def test_raw_junk_is_a_clear_400(client, token, body, expected):
    response = post_raw(client, token, body)

    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert not Customer.objects.exists() and not Ticket.objects.exists()


def test_raw_mail_in_a_json_body_is_415(client, token):
    response = post_raw(client, token, b'{"raw": "..."}', content_type="application/json")

    assert response.status_code == 415


def test_raw_mail_only_accepts_post(client, token):
    response = client.get(RAW_URL, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405


# -- provider webhooks: realistic payloads -----------------------------------------------------


def mailgun_mime(raw: bytes, *, token: str = "a" * 50, timestamp: str = "1764580365") -> dict:
    """Mailgun route `forward("https://…/inbound/mailgun/")` to a URL containing 'mime'
    sends the full message as `body-mime`; here the route URL is configured with _mime."""
    signature = hmac.new(
        SIGNING_KEY.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    return {
        "recipient": "support@example.com",
        "sender": "maria@example.com",
        "from": "Maria Lopez <maria@example.com>",
        "subject": "Parcel not delivered",
        "body-mime": raw.decode(),
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }


def mailgun_parsed(raw: bytes) -> dict:
    """Mailgun's default ("fully parsed") forward: headers as JSON, bodies as fields."""
    payload = mailgun_mime(raw)
    del payload["body-mime"]
    return {
        **payload,
        "message-headers": json.dumps(
            [
                ["From", "Maria Lopez <maria@example.com>"],
                ["To", "Lumen Support <support@example.com>"],
                ["Subject", "Parcel not delivered"],
                ["Message-Id", "<CAF-7731@mail.example.com>"],
                ["Mime-Version", "1.0"],
                ["Content-Type", "text/plain; charset=utf-8"],
            ]
        ),
        "body-plain": "My parcel did not arrive yet. Where is it?",
        "stripped-text": "My parcel did not arrive yet. Where is it?",
        "Message-Id": "<CAF-7731@mail.example.com>",
    }


def sendgrid_raw(raw: bytes) -> dict:
    """SendGrid Inbound Parse with "POST the raw, full MIME message" checked."""
    return {
        "email": raw.decode(),
        "to": "Lumen Support <support@example.com>",
        "from": "Maria Lopez <maria@example.com>",
        "subject": "Parcel not delivered",
        "envelope": json.dumps({"to": ["support@example.com"], "from": "maria@example.com"}),
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        "spam_score": "0.1",
        "SPF": "pass",
        "dkim": "{@example.com : pass}",
        "sender_ip": "203.0.113.7",
    }


def sendgrid_parsed(raw: bytes) -> dict:
    """SendGrid Inbound Parse default mode: raw headers plus decoded text/html fields."""
    head, _, body = raw.decode().partition("\r\n\r\n")
    return {
        "headers": head + "\r\n",
        "text": body,
        "to": "Lumen Support <support@example.com>",
        "from": "Maria Lopez <maria@example.com>",
        "subject": "Parcel not delivered",
        "envelope": json.dumps({"to": ["support@example.com"], "from": "maria@example.com"}),
        "charsets": json.dumps(
            {"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8", "text": "utf-8"}
        ),
        "spam_score": "0.1",
    }


def postmark(raw: bytes) -> dict:
    """Postmark inbound webhook JSON (without "include raw email content")."""
    return {
        "FromName": "Maria Lopez",
        "MessageStream": "inbound",
        "From": "maria@example.com",
        "FromFull": {"Email": "maria@example.com", "Name": "Maria Lopez", "MailboxHash": ""},
        "To": "support@example.com",
        "ToFull": [{"Email": "support@example.com", "Name": "Lumen Support", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "support@example.com",
        "Subject": "Parcel not delivered",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Tue, 01 Dec 2026 09:12:45 +0100",
        "TextBody": "My parcel did not arrive yet. Where is it?",
        "HtmlBody": "<p>My parcel did not arrive yet. Where is it?</p>",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<maria@example.com>"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "X-Spam-Score", "Value": "-0.1"},
            {"Name": "MIME-Version", "Value": "1.0"},
            {"Name": "Message-ID", "Value": "<CAF-7731@mail.example.com>"},
        ],
        "Attachments": [],
    }


def ses_sns(raw: bytes) -> dict:
    """Amazon SES receipt rule with an SNS action (Base64 encoding), as SNS posts it."""
    notification = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-12-01T08:12:45.000Z",
            "source": "maria@example.com",
            "messageId": "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1",
            "destination": ["support@example.com"],
            "headersTruncated": False,
            "commonHeaders": {
                "from": ["Maria Lopez <maria@example.com>"],
                "to": ["support@example.com"],
                "messageId": "<CAF-7731@mail.example.com>",
                "subject": "Parcel not delivered",
            },
        },
        "receipt": {
            "timestamp": "2026-12-01T08:12:45.000Z",
            "processingTimeMillis": 310,
            "recipients": ["support@example.com"],
            "spamVerdict": {"status": "PASS"},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"},
            "dkimVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": "PASS"},
            "action": {
                "type": "SNS",
                "topicArn": "arn:aws:sns:us-east-1:123456789012:ses-inbound",
                "encoding": "BASE64",
            },
        },
        "content": base64.b64encode(raw).decode(),
    }
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-inbound",
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(notification),
        "Timestamp": "2026-12-01T08:12:46.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+..",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&x=1",
    }


def post_provider(client, provider: str, payload: dict, *, auth: str | None = SECRET):
    url = reverse(f"inbound-{provider}")
    headers = {"Authorization": basic(auth)} if auth else {}
    if provider in ("mailgun", "sendgrid"):
        return client.post(url, data=payload, headers=headers)  # multipart/form-data
    if provider == "amazon_ses":
        headers |= {
            "x-amz-sns-message-type": payload["Type"],
            "x-amz-sns-message-id": payload["MessageId"],
        }
        return client.post(
            url, data=json.dumps(payload), content_type="text/plain", headers=headers
        )
    return client.post(
        url, data=json.dumps(payload), content_type="application/json", headers=headers
    )


PAYLOADS = {
    "mailgun": mailgun_mime,
    "mailgun-parsed": mailgun_parsed,
    "sendgrid": sendgrid_raw,
    "sendgrid-parsed": sendgrid_parsed,
    "postmark": postmark,
    "amazon_ses": ses_sns,
}


@pytest.mark.parametrize("variant", PAYLOADS)
def test_provider_webhook_opens_a_triaged_ticket_once_despite_a_retry(
    client, webhooks, stub_triage, categories, variant, django_capture_on_commit_callbacks
):
    provider = variant.split("-")[0]
    engine = stub_triage(category="delivery")
    payload = PAYLOADS[variant](mail())

    with django_capture_on_commit_callbacks(execute=True):
        first = post_provider(client, provider, payload)
    if provider == "amazon_ses":
        payload = {**payload, "MessageId": str(uuid.uuid4())}  # SNS retries get a new id
    with django_capture_on_commit_callbacks(execute=True):
        retried = post_provider(client, provider, payload)

    assert (first.status_code, retried.status_code) == (200, 200)
    ticket = Ticket.objects.get()
    message = Message.objects.get()
    assert message.external_id == "<CAF-7731@mail.example.com>"
    assert message.body_text == "My parcel did not arrive yet. Where is it?"
    assert (ticket.subject, ticket.customer.email) == ("Parcel not delivered", "maria@example.com")
    assert ticket.customer.name == "Maria Lopez"
    assert ticket.category.slug == "delivery"
    assert engine.seen == ["My parcel did not arrive yet. Where is it?"]


def test_provider_webhook_keeps_non_ascii_mail_intact(client, webhooks):
    raw = mail(
        subject="=?UTF-8?B?5rOo5paH44Gr44Gk44GE44Gm?=",
        body="お世話になっております。返金の手続きについて教えてください。",
        sender="=?UTF-8?B?6Yi05pyo6Iqx5a2Q?= <hanako@example.jp>",
    )

    response = post_provider(client, "postmark", {**postmark(raw), "RawEmail": raw.decode()})

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.subject == "注文について"
    assert ticket.customer.name == "鈴木花子"
    assert ticket.messages.get().body_text.startswith("お世話になっております。")


def test_provider_reply_threads_into_the_existing_ticket(client, webhooks):
    ticket = TicketFactory(customer=CustomerFactory(email="maria@example.com"))
    MessageFactory(ticket=ticket, external_id="<ours-1@example.com>")
    reply = mail(
        message_id="<reply-2@mail.example.com>",
        extra="\r\nIn-Reply-To: <ours-1@example.com>",
        body="It came today.\r\n\r\n> Your parcel ships on Monday.",
    )

    response = post_provider(client, "sendgrid", sendgrid_raw(reply))

    assert response.status_code == 200
    assert Ticket.objects.count() == 1
    message = ticket.messages.latest("pk")
    assert (message.body_text, message.body_quoted) == (
        "It came today.",
        "> Your parcel ships on Monday.",
    )


@pytest.mark.parametrize("provider", ["mailgun", "sendgrid", "postmark", "amazon_ses"])
@pytest.mark.parametrize("auth", ["mailhook:wrong", None])
def test_provider_webhook_with_wrong_or_missing_secret_is_401(client, webhooks, provider, auth):
    payload = PAYLOADS[provider](mail())

    response = post_provider(client, provider, payload, auth=auth)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not Ticket.objects.exists()


def test_mailgun_post_with_a_forged_signature_is_401(client, webhooks):
    payload = {**mailgun_mime(mail()), "signature": "0" * 64}

    response = post_provider(client, "mailgun", payload)

    assert response.status_code == 401
    assert not Ticket.objects.exists()


def test_provider_webhooks_are_off_until_a_secret_is_configured(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": []}

    response = post_provider(client, "postmark", postmark(mail()))

    assert response.status_code == 503
    assert "ANYMAIL_WEBHOOK_SECRET" in response.json()["error"]
    assert not Ticket.objects.exists()


def test_mailgun_is_off_until_its_signing_key_is_configured(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": [SECRET]}

    response = post_provider(client, "mailgun", mailgun_mime(mail()))

    assert response.status_code == 503
    assert "MAILGUN_WEBHOOK_SIGNING_KEY" in response.json()["error"]


@pytest.mark.parametrize(
    ("provider", "payload"),
    [
        ("sendgrid", {"to": "support@example.com"}),
        ("postmark", ["not", "an", "object"]),
        ("amazon_ses", {"Type": "Notification", "MessageId": "1", "Message": "{not json"}),
    ],
)
def test_malformed_provider_payload_is_a_clear_400(client, webhooks, provider, payload):
    response = post_provider(client, provider, payload)

    assert response.status_code == 400
    assert f"Malformed {provider} inbound payload" in response.json()["error"]
    assert not Ticket.objects.exists()


def test_provider_mail_without_a_sender_is_a_clear_400(client, webhooks):
    raw = b"To: support@example.com\r\nSubject: hi\r\nMessage-ID: <x@y>\r\n\r\nNobody.\r\n"

    response = post_provider(client, "sendgrid", sendgrid_raw(raw))

    assert response.status_code == 400
    assert "no sender address" in response.json()["error"]


def test_provider_payload_over_the_size_limit_is_413(client, webhooks, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 3000

    response = post_provider(client, "postmark", {**postmark(mail()), "TextBody": "x" * 4000})

    assert response.status_code == 413
    assert not Ticket.objects.exists()


def test_ses_subscription_confirmation_is_logged_for_the_administrator(client, webhooks, caplog):
    payload = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e2425f004aed",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-inbound",
        "Message": "You have chosen to subscribe to the topic …",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&T=1",
        "Timestamp": "2026-12-01T08:12:46.000Z",
    }

    response = post_provider(client, "amazon_ses", payload)

    assert response.status_code == 200
    assert "Action=ConfirmSubscription&T=1" in caplog.text
    assert not Ticket.objects.exists()


def test_failure_while_filing_is_a_500_so_the_provider_delivers_again(
    client, webhooks, monkeypatch
):
    def database_down(**kwargs: object) -> None:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("supportdesk.intake.inbound.email_ingest", database_down)
    client.raise_request_exception = False

    response = post_provider(client, "postmark", postmark(mail()))

    assert response.status_code == 500
    monkeypatch.undo()
    assert post_provider(client, "postmark", postmark(mail())).status_code == 200
    assert Message.objects.get().external_id == "<CAF-7731@mail.example.com>"
