"""Zendesk: signed webhooks in (valid, forged, stale, duplicate), replies out through a
loopback server that speaks the Zendesk tickets API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from replies.models import Draft
from supportdesk.intake import zendesk
from supportdesk.models import Message, Ticket
from supportdesk.outbox import zendesk as zendesk_out
from supportdesk.outbox.delivery import outbox_sweep
from supportdesk.tasks import deliver_message
from tests.factories import ArticleFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
URL = "/integrations/zendesk/webhook"


# -- a loopback Zendesk ------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class FakeZendesk:
    """Answers ``PUT /api/v2/tickets/{id}.json`` like Zendesk; ``script`` holds the responses to
    give first (status, headers, body), after which it adds the comment and answers 200."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], dict]] = field(default_factory=list)
    next_id: int = 900_000


@pytest.fixture
def fake_zendesk(settings) -> Iterator[FakeZendesk]:
    state = FakeZendesk()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Recorded("PUT", self.path, dict(self.headers), body))
            if state.script:
                status, headers, payload = state.script.pop(0)
            else:
                ticket_id = int(self.path.removeprefix("/api/v2/tickets/").removesuffix(".json"))
                state.next_id += 2
                comment = json.loads(body)["ticket"]["comment"]
                status, headers = 200, {}
                payload = {
                    "ticket": {"id": ticket_id, "status": "open"},
                    "audit": {
                        "id": state.next_id,
                        "ticket_id": ticket_id,
                        "events": [
                            {
                                "id": state.next_id + 1,
                                "type": "Comment",
                                "body": comment["body"],
                                "public": comment["public"],
                            }
                        ],
                    },
                }
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.ZENDESK_URL = state.url
    settings.ZENDESK_EMAIL = "agent@lumen.example"
    settings.ZENDESK_API_TOKEN = "tok-123"
    yield state
    server.shutdown()
    server.server_close()


def zendesk_reply(ticket_id: int = 4242, body: str = "Your parcel arrives on Friday.") -> Message:
    ticket = TicketFactory(channel=Ticket.Channel.ZENDESK, zendesk_ticket_id=ticket_id)
    return MessageFactory(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text=body,
        delivery_status=Message.Delivery.QUEUED,
    )


# -- replies out -------------------------------------------------------------------------------


def test_reply_to_a_zendesk_ticket_is_a_public_comment_not_an_email(fake_zendesk):
    reply = zendesk_reply()

    deliver_message(reply.pk)

    (request,) = fake_zendesk.requests
    assert request.path == "/api/v2/tickets/4242.json"
    assert request.json() == {
        "ticket": {"comment": {"body": "Your parcel arrives on Friday.", "public": True}}
    }
    expected = base64.b64encode(b"agent@lumen.example/token:tok-123").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/json"
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT
    assert reply.external_id == f"zendesk-comment-{fake_zendesk.next_id + 1}"
    assert mail.outbox == []


def test_email_tickets_still_get_email(fake_zendesk):
    reply = MessageFactory(
        ticket=TicketFactory(channel=Ticket.Channel.EMAIL),
        direction=Message.Direction.OUTBOUND,
        delivery_status=Message.Delivery.QUEUED,
    )

    deliver_message(reply.pk)

    assert fake_zendesk.requests == []
    assert len(mail.outbox) == 1


def test_rate_limited_reply_waits_for_retry_after_then_goes_out(fake_zendesk, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(zendesk_out, "sleep", waits.append)
    fake_zendesk.script = [(429, {"Retry-After": "7"}, {"error": "TooManyRequests"})]
    reply = zendesk_reply()

    deliver_message(reply.pk)

    assert waits == [7]
    assert len(fake_zendesk.requests) == 2
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT


def test_a_rate_limit_longer_than_we_wait_puts_the_reply_back_in_the_queue(
    fake_zendesk, monkeypatch
):
    monkeypatch.setattr(zendesk_out, "sleep", lambda seconds: pytest.fail("must not wait"))
    fake_zendesk.script = [(429, {"Retry-After": "3600"}, {"error": "TooManyRequests"})]
    reply = zendesk_reply()

    deliver_message(reply.pk)

    reply.refresh_from_db()
    # Zendesk did not take it: the outbox sweeper tries again later.
    assert reply.delivery_status == Message.Delivery.QUEUED
    assert "Zendesk answered 429" in reply.delivery_error


def test_a_refusal_fails_the_send_for_good(fake_zendesk):
    fake_zendesk.script = [(422, {}, {"error": "RecordInvalid"})]
    reply = zendesk_reply()

    deliver_message(reply.pk)

    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "Zendesk answered 422" in reply.delivery_error


def test_server_error_is_unconfirmed_and_never_retried_so_it_cannot_post_twice(fake_zendesk):
    fake_zendesk.script = [(500, {}, {"error": "InternalError"})]
    reply = zendesk_reply()

    deliver_message(reply.pk)
    outbox_sweep(now=timezone.now() + timedelta(hours=1))

    assert len(fake_zendesk.requests) == 1
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.UNCONFIRMED
    assert "Zendesk answered 500" in reply.delivery_error
    assert "InternalError" in reply.delivery_error


def test_unreachable_zendesk_keeps_the_reply_queued_with_the_reason(settings):
    settings.ZENDESK_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.ZENDESK_EMAIL, settings.ZENDESK_API_TOKEN = "agent@lumen.example", "tok"
    reply = zendesk_reply()

    deliver_message(reply.pk)

    reply.refresh_from_db()
    # Nothing reached Zendesk, so the outbox sweeper may safely try again.
    assert reply.delivery_status == Message.Delivery.QUEUED
    assert "Zendesk unreachable" in reply.delivery_error


# -- webhooks in -------------------------------------------------------------------------------


def payload(**overrides: object) -> dict:
    return {
        "ticket_id": "4242",
        "subject": "Parcel not delivered",
        "requester_email": "maria@example.com",
        "requester_name": "Maria Lopez",
        "comment_id": "777001",
        "comment_body": "My parcel did not arrive yet.",
        "comment_author_email": "maria@example.com",
        **overrides,
    }


def signed_post(client, body, *, secret=SECRET, timestamp=None, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = timestamp or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(secret.encode(), timestamp.encode() + raw, hashlib.sha256).digest()
    return client.post(
        URL,
        raw,
        content_type="application/json",
        HTTP_X_ZENDESK_WEBHOOK_SIGNATURE=signature or base64.b64encode(digest).decode(),
        HTTP_X_ZENDESK_WEBHOOK_SIGNATURE_TIMESTAMP=timestamp,
    )


@pytest.fixture
def webhook_secret(settings) -> str:
    settings.ZENDESK_WEBHOOK_SECRET = SECRET
    return SECRET


def test_first_comment_opens_a_zendesk_ticket_and_starts_the_pipeline(
    client, webhook_secret, django_capture_on_commit_callbacks, monkeypatch
):
    enqueued = []
    monkeypatch.setattr("supportdesk.queue.enqueue", lambda task, *args: enqueued.append(task))

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, payload())

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {
        "outcome": "created",
        "ticket": ticket.pk,
        "message": ticket.messages.get().pk,
    }
    assert (ticket.channel, ticket.zendesk_ticket_id) == (Ticket.Channel.ZENDESK, 4242)
    assert ticket.subject == "Parcel not delivered"
    assert ticket.customer.email == "maria@example.com"
    assert ticket.messages.get().body_text == "My parcel did not arrive yet."
    assert enqueued == ["supportdesk.tasks.process_message"]
    assert mail.outbox == []  # Zendesk notifies its own requesters


def test_later_comments_join_the_same_ticket_and_reopen_it(client, webhook_secret):
    signed_post(client, payload())
    Ticket.objects.update(status=Ticket.Status.SOLVED)

    response = signed_post(client, payload(comment_id="777002", comment_body="Still nothing."))

    assert response.status_code == 201 and response.json()["outcome"] == "appended"
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.reopen_count) == (Ticket.Status.OPEN, 1)
    assert [m.body_text for m in ticket.messages.all()] == [
        "My parcel did not arrive yet.",
        "Still nothing.",
    ]


def test_a_redelivered_comment_is_stored_once(client, webhook_secret):
    first = signed_post(client, payload())
    again = signed_post(client, payload())

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["message"] == first.json()["message"]
    assert Message.objects.count() == 1


def test_our_own_reply_echoed_back_by_the_trigger_is_not_a_customer_message(
    client, webhook_secret, fake_zendesk
):
    signed_post(client, payload())
    ticket = Ticket.objects.get()
    reply = MessageFactory(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text="It arrives on Friday.",
        delivery_status=Message.Delivery.QUEUED,
    )
    deliver_message(reply.pk)
    comment_id = Message.objects.get(pk=reply.pk).external_id.removeprefix("zendesk-comment-")

    response = signed_post(
        client, payload(comment_id=comment_id, comment_body="It arrives on Friday.")
    )

    assert response.json()["outcome"] == "duplicate"
    assert ticket.messages.filter(direction=Message.Direction.INBOUND).count() == 1


def test_comments_by_agents_in_zendesk_are_ignored(client, webhook_secret):
    response = signed_post(client, payload(comment_author_email="agent@lumen.example"))

    assert response.status_code == 200
    assert response.json() == {
        "outcome": "ignored",
        "reason": "comment by agent@lumen.example, not the requester",
    }
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"secret": "another-secret"}, id="wrong-secret"),
        pytest.param({"signature": "bm90IGEgc2lnbmF0dXJl"}, id="garbage-signature"),
    ],
)
def test_a_forged_signature_is_401_and_stores_nothing(client, webhook_secret, tamper):
    response = signed_post(client, payload(), **tamper)

    assert response.status_code == 401
    assert "signature does not match" in response.json()["error"]
    assert not Ticket.objects.exists()


def test_a_body_changed_after_signing_is_401(client, webhook_secret):
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    original = json.dumps(payload()).encode()
    signature = zendesk.signature_for(body=original, timestamp=timestamp, secret=SECRET)

    response = signed_post(
        client, payload(comment_body="Refund me twice"), timestamp=timestamp, signature=signature
    )

    assert response.status_code == 401
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(minutes=-6)])
def test_a_correctly_signed_but_stale_delivery_is_401(client, webhook_secret, age):
    timestamp = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")

    response = signed_post(client, payload(), timestamp=timestamp)

    assert response.status_code == 401
    assert "old (limit 300 s)" in response.json()["error"]
    assert not Ticket.objects.exists()


def test_unsigned_delivery_is_401(client, webhook_secret):
    response = client.post(URL, json.dumps(payload()), content_type="application/json")

    assert response.status_code == 401
    assert not Ticket.objects.exists()


def test_a_signed_body_that_is_not_the_template_is_400_with_field_errors(client, webhook_secret):
    response = signed_post(client, {"ticket_id": "abc", "requester_email": "nope"})

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"ticket_id", "comment_id", "requester_email"}
    assert not Ticket.objects.exists()


def test_a_signed_body_that_is_not_json_is_400(client, webhook_secret):
    response = signed_post(client, b"{not json")

    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]


def test_long_text_is_cut_rather_than_refused(client, webhook_secret, settings):
    settings.MAX_MESSAGE_CHARS = 100

    response = signed_post(client, payload(comment_body="x" * 500, subject="y" * 400))

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert len(ticket.subject) == 250
    assert ticket.messages.get().body_text == "x" * 100


def test_without_a_secret_the_endpoint_refuses_everything(client, settings):
    settings.ZENDESK_WEBHOOK_SECRET = ""

    response = signed_post(client, payload())

    assert response.status_code == 503
    assert not Ticket.objects.exists()


def test_the_documented_template_is_what_the_endpoint_accepts(client, webhook_secret):
    """Fill the README's template the way Zendesk fills its placeholders."""
    values = {
        "ticket.id": "31",
        "ticket.title": "Refund",
        "ticket.requester.email": "kenji@example.jp",
        "ticket.requester.name": "Kenji",
        "ticket.latest_public_comment.id": "555",
        "ticket.latest_public_comment.value": "返金をお願いします。",
        "ticket.latest_public_comment.author.email": "kenji@example.jp",
    }
    body = zendesk.WEBHOOK_BODY_TEMPLATE
    for placeholder, value in values.items():
        body = body.replace("{{" + placeholder + "}}", value)

    response = signed_post(client, body.encode())

    assert response.status_code == 201
    ticket = Ticket.objects.get(zendesk_ticket_id=31)
    assert ticket.messages.get().body_text == "返金をお願いします。"
    assert reverse("zendesk-webhook") == URL


def test_concurrent_redelivery_is_caught_by_the_database_constraint(
    client, webhook_secret, monkeypatch
):
    """The other delivery commits between our lookup and our insert: the constraint decides."""
    first = signed_post(client, payload()).json()
    real_filter = Message.objects.filter
    calls = []

    def blind_first_lookup(*args, **kwargs):
        calls.append(kwargs)
        return real_filter(pk=-1) if len(calls) == 1 else real_filter(*args, **kwargs)

    monkeypatch.setattr(Message.objects, "filter", blind_first_lookup)
    again = signed_post(client, payload())

    assert again.json()["outcome"] == "duplicate"
    assert again.json()["message"] == first["message"]
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)


def test_two_first_comments_racing_open_one_ticket(client, webhook_secret, monkeypatch):
    """Two comments of a new Zendesk ticket arrive together: both miss the ticket lookup, the
    unique Zendesk ticket id lets one open the ticket and the other joins it."""
    signed_post(client, payload())
    real = Ticket.objects.select_for_update
    calls = []

    def blind_first_lookup(*args, **kwargs):
        calls.append(1)
        queryset = real(*args, **kwargs)
        return queryset.filter(pk=-1) if len(calls) == 1 else queryset

    monkeypatch.setattr(Ticket.objects, "select_for_update", blind_first_lookup)
    response = signed_post(client, payload(comment_id="777002", comment_body="Any news?"))

    assert response.json()["outcome"] == "appended"
    ticket = Ticket.objects.get()
    assert ticket.messages.count() == 2


# -- end to end --------------------------------------------------------------------------------


def test_zendesk_comment_to_triaged_ticket_to_approved_reply_back_in_zendesk(
    client,
    agent_client,
    webhook_secret,
    fake_zendesk,
    settings,
    categories,
    stub_triage,
    django_capture_on_commit_callbacks,
):
    settings.TASK_BACKEND = "sync"
    stub_triage(category="delivery")
    ArticleFactory(
        title="Where is my parcel?",
        body="Parcels marked dispatched arrive within 5 working days. Open Orders and click "
        "Track parcel to see the courier's latest scan.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(client, payload(comment_body="Where is my parcel? It says dispatched."))
    ticket = Ticket.objects.get()
    draft = Draft.objects.get(ticket=ticket)
    assert ticket.category.slug == "delivery"

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("draft-send", args=[draft.pk]), {"action": "approve"})

    assert response.status_code == 302
    (request,) = fake_zendesk.requests
    assert request.path == "/api/v2/tickets/4242.json"
    assert request.json()["ticket"]["comment"] == {"body": draft.text, "public": True}
    outbound = ticket.messages.get(direction=Message.Direction.OUTBOUND)
    assert outbound.delivery_status == Message.Delivery.SENT
    assert mail.outbox == []


def test_an_oversized_delivery_is_413(client, webhook_secret, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = signed_post(client, payload(comment_body="x" * 5000))

    assert response.status_code == 413
    assert not Ticket.objects.exists()
