"""REST API v1: adding a customer message to a ticket, and reading a ticket's messages."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from supportdesk import realtime
from supportdesk.models import Message, Ticket
from supportdesk.services import api_token_create
from tests.factories import MessageFactory, TicketFactory
from tests.supportdesk.api_support import Api
from triage.models import TriageResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, agent) -> Api:
    return Api(client, api_token_create(user=agent))


def _url(pk: int) -> str:
    return f"/api/v1/tickets/{pk}/messages"


# -- POST /tickets/<id>/messages ---------------------------------------------------------------


def test_adding_a_message_appends_it_to_the_thread(api):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    MessageFactory(ticket=ticket, body_text="First question")

    response = api.post(_url(ticket.pk), {"body": "  And one more thing.  "})

    assert response.status_code == 201
    data = response.json()
    message = Message.objects.get(pk=data["id"])
    assert message.ticket_id == ticket.pk
    assert message.direction == Message.Direction.INBOUND
    assert message.body_text == "And one more thing."
    assert data["body"] == "And one more thing."
    assert data["direction"] == "inbound"
    assert data["external_id"] is None
    assert data["ticket"] == {"id": ticket.pk, "status": "open"}
    assert [m["body"] for m in api.get(f"/api/v1/tickets/{ticket.pk}").json()["messages"]] == [
        "First question",
        "And one more thing.",
    ]


@pytest.mark.parametrize("status", [Ticket.Status.SOLVED, Ticket.Status.WAITING])
def test_a_new_customer_message_reopens_the_ticket(api, status):
    ticket = TicketFactory(status=status)
    version = ticket.version

    response = api.post(_url(ticket.pk), {"body": "It broke again."})

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.version == version + 1
    assert response.json()["ticket"]["status"] == "open"
    # Writing again about a solved ticket is a repeat contact, which routing reads.
    assert ticket.reopen_count == (1 if status == Ticket.Status.SOLVED else 0)


def test_a_new_ticket_is_not_marked_open_by_a_second_message(api):
    ticket = TicketFactory(status=Ticket.Status.NEW)

    api.post(_url(ticket.pk), {"body": "Any news?"})

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_the_ai_pipeline_triages_the_new_message_and_inboxes_hear_of_it(
    api, categories, stub_triage, sent_events, django_capture_on_commit_callbacks
):
    engine = stub_triage(category="delivery", emotion="angry", urgency="high")
    ticket = TicketFactory(status=Ticket.Status.SOLVED)
    MessageFactory(ticket=ticket, body_text="Where is my parcel?")

    with django_capture_on_commit_callbacks(execute=True):
        message_id = api.post(_url(ticket.pk), {"body": "Still nothing. This is absurd!"}).json()[
            "id"
        ]

    assert engine.seen == ["Still nothing. This is absurd!"]
    assert TriageResult.objects.get(message_id=message_id).emotion == "angry"
    ticket.refresh_from_db()
    assert ticket.urgency == Ticket.Urgency.HIGH
    assert sent_events[0] == (realtime.TICKET_UPDATED, ticket.pk)


def test_nothing_is_queued_or_broadcast_before_the_message_is_committed(
    api, sent_events, django_capture_on_commit_callbacks
):
    ticket = TicketFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.post(_url(ticket.pk), {"body": "Hello?"})

    assert sent_events == []
    assert len(callbacks) == 2  # the broadcast and the pipeline, in that order


def test_the_same_external_id_twice_stores_one_message_and_returns_it(api, sent_events):
    ticket = TicketFactory()
    first = api.post(_url(ticket.pk), {"body": "Hello", "external_id": "crm-981"})
    version = Ticket.objects.get(pk=ticket.pk).version

    again = api.post(_url(ticket.pk), {"body": "Hello", "external_id": "crm-981"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["external_id"] == "crm-981"
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).version == version


def test_an_external_id_is_its_own_namespace_next_to_e_mail_message_ids(api):
    ticket = TicketFactory()
    MessageFactory(ticket=ticket, external_id="<abc@mail.example.com>")

    response = api.post(_url(ticket.pk), {"body": "Hi", "external_id": "<abc@mail.example.com>"})

    assert response.status_code == 201
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_an_external_id_already_used_on_another_ticket_is_409(api):
    first, second = TicketFactory(), TicketFactory()
    api.post(_url(first.pk), {"body": "Hi", "external_id": "crm-1"})

    response = api.post(_url(second.pk), {"body": "Hi", "external_id": "crm-1"})

    assert response.status_code == 409
    assert response.json() == {
        "error": "external_id 'crm-1' is already used by a message on another ticket.",
        "ticket_id": first.pk,
    }
    assert not Message.objects.filter(ticket=second).exists()


def test_adding_to_an_unknown_ticket_is_404(api):
    response = api.post(_url(999), {"body": "Hi"})

    assert response.status_code == 404
    assert response.json() == {"error": "No ticket 999."}
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"body"}),
        ({"body": "   "}, {"body"}),
        ({"body": "x" * 20001}, {"body"}),
        ({"body": "Hi", "external_id": " padded "}, {"external_id"}),
        ({"body": "Hi", "external_id": "x" * 252}, {"external_id"}),
        ({"body": "Hi", "external_id": "line\nbreak"}, {"external_id"}),
        ({"body": ["Hi"], "external_id": 7}, {"body", "external_id"}),
    ],
    ids=[
        "no body",
        "blank body",
        "body too long",
        "padded id",
        "id too long",
        "id with newline",
        "not strings",
    ],
)
def test_invalid_message_is_400_per_field_and_saves_nothing(api, body, fields):
    ticket = TicketFactory(status=Ticket.Status.SOLVED)

    response = api.post(_url(ticket.pk), body)

    assert response.status_code == 400
    assert response.json()["error"] == "Validation failed."
    assert set(response.json()["fields"]) == fields
    assert not Message.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.SOLVED


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ('{"body": ', "application/json", 400),
        ("[]", "application/json", 400),
        ('{"body": "hi"}', "text/plain", 415),
        ('{"body": "' + "x" * (2 * 1024 * 1024) + '"}', "application/json", 413),
    ],
    ids=["malformed", "not an object", "not json", "oversize"],
)
def test_unreadable_bodies_are_rejected_and_save_nothing(api, data, content_type, status):
    ticket = TicketFactory()

    response = api.post(_url(ticket.pk), data, content_type=content_type)

    assert response.status_code == status
    assert not Message.objects.exists()


def test_adding_a_message_needs_a_valid_token(client):
    ticket = TicketFactory()

    response = client.post(_url(ticket.pk), data={"body": "Hi"}, content_type="application/json")

    assert response.status_code == 401
    assert not Message.objects.exists()


def test_adding_a_message_needs_the_agent_role(client, outsider):
    ticket = TicketFactory()
    api = Api(client, api_token_create(user=outsider))

    response = api.post(_url(ticket.pk), {"body": "Hi"})

    assert response.status_code == 403
    assert not Message.objects.exists()


# -- GET /tickets/<id>/messages ----------------------------------------------------------------


def _thread(ticket: Ticket, count: int) -> list[Message]:
    start = timezone.now() - timedelta(days=1)
    # Two messages share each timestamp: the id breaks the tie.
    return [
        MessageFactory(
            ticket=ticket, body_text=f"message {i}", created_at=start + timedelta(minutes=i // 2)
        )
        for i in range(count)
    ]


def _walk(api: Api, url: str, params: dict) -> tuple[list[dict], int]:
    response = api.get(url, params)
    assert response.status_code == 200, response.content
    items, pages = response.json()["results"], 1
    while response.json()["next"]:
        response = api.get(response.json()["next"].removeprefix("http://testserver"))
        items += response.json()["results"]
        pages += 1
    return items, pages


def test_messages_are_listed_oldest_first_over_pages_without_gaps_or_repeats(api):
    ticket = TicketFactory()
    messages = _thread(ticket, 7)
    MessageFactory(body_text="another ticket's message")

    items, pages = _walk(api, _url(ticket.pk), {"limit": 3})

    assert pages == 3
    assert [m["id"] for m in items] == [m.pk for m in messages]
    assert items[0]["body"] == "message 0"


def test_the_message_list_pages_at_50_by_default(api):
    ticket = TicketFactory()
    _thread(ticket, 51)

    data = api.get(_url(ticket.pk)).json()

    assert len(data["results"]) == 50
    assert data["next"].startswith(f"http://testserver/api/v1/tickets/{ticket.pk}/messages?")


def test_messages_of_an_unknown_ticket_are_404(api):
    response = api.get(_url(999))

    assert response.status_code == 404
    assert response.json() == {"error": "No ticket 999."}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "ten"}, "limit")],
)
def test_out_of_range_page_size_is_400(api, params, field):
    response = api.get(_url(TicketFactory().pk), params)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {field}


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        _cursor("2026|nota"),
        _cursor("foo|1"),
        _cursor("2026-01-01T00:00:00|1"),  # no offset
        _cursor("0001-01-01T00:00:00+14:00|1"),  # before year 1 in UTC
        _cursor(f"2026-01-01T00:00:00+00:00|{2**63}"),
    ],
    ids=["not base64", "bad time", "no time", "naive time", "out of range", "id too large"],
)
def test_a_cursor_we_did_not_issue_is_400(api, cursor):
    response = api.get(_url(TicketFactory().pk), {"cursor": cursor})

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid cursor: use the 'next' URL of a previous page."}


def test_reading_messages_costs_the_same_queries_for_a_long_thread(api):
    short, long = TicketFactory(), TicketFactory()
    _thread(short, 2)
    _thread(long, 60)
    api.get(_url(short.pk))  # the token's use is written once a minute: not part of a read

    counts = []
    for ticket in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(_url(ticket.pk), {"limit": 100}).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
