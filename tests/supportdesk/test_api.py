"""REST API v1: bearer tokens, clear errors, nothing half-saved, customer text kept as text."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from supportdesk.models import Customer, Message, Note, Ticket
from supportdesk.services import api_token_create
from tests.factories import (
    ArticleFactory,
    DraftFactory,
    EscalationFactory,
    MessageFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

TICKETS_URL = "/api/v1/tickets"

VALID = {
    "customer": {"email": "Maria@Example.com", "name": "Maria Lopez", "locale": "es-MX"},
    "subject": "Where is my parcel?",
    "body": "I ordered curtains last week and the tracking still says dispatched.",
}


@pytest.fixture
def token(agent) -> str:
    return api_token_create(user=agent)


def _post(client, token: str | None, body, *, content_type: str = "application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(TICKETS_URL, data=data, content_type=content_type, headers=headers)


def _get(client, token: str, pk: int):
    return client.get(f"{TICKETS_URL}/{pk}", headers={"Authorization": f"Bearer {token}"})


def _nothing_saved() -> bool:
    return not Customer.objects.exists() and not Ticket.objects.exists()


def test_create_returns_201_with_the_new_ticket(client, token):
    response = _post(client, token, VALID)

    assert response.status_code == 201
    data = response.json()
    ticket = Ticket.objects.get()
    assert data["id"] == ticket.pk
    assert data["reference"] == f"#{ticket.pk}"
    assert data["channel"] == "api"
    assert data["customer"] == {
        "email": "maria@example.com",
        "name": "Maria Lopez",
        "locale": "es-MX",
    }
    assert [m["body"] for m in data["messages"]] == [VALID["body"]]
    assert data["messages"][0]["direction"] == "inbound"


def test_get_before_the_ai_has_run_shows_nulls(client, token):
    pk = _post(client, token, VALID).json()["id"]

    data = _get(client, token, pk).json()

    assert (data["triage"], data["routing"], data["draft"]) == (None, None, None)
    assert data["urgency"] is None
    assert data["status"] == "new"


def test_get_after_the_pipeline_shows_triage_routing_and_draft(
    client, token, categories, stub_triage, django_capture_on_commit_callbacks
):
    stub_triage(category="delivery", emotion="anxious", emotion_confidence=0.7)
    article = ArticleFactory(
        title="Where is my parcel?",
        body="Parcels marked dispatched arrive within 5 working days. Open Orders and click "
        "Track parcel to see the courier's latest scan of your curtains order.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        pk = _post(client, token, VALID).json()["id"]

    data = _get(client, token, pk).json()

    assert data["triage"]["category"] == "delivery"
    assert data["triage"]["emotion"] == "anxious"
    assert data["triage"]["emotion_confidence"] == 0.7
    assert data["triage"]["language"] == "en"
    assert data["urgency"] == "low"
    assert data["routing"] == {"action": "human", "reasons": ["Customer seems anxious"]}
    assert data["draft"]["status"] == "proposed"
    assert data["draft"]["grounded"] is True
    assert data["draft"]["citations"][0]["article_id"] == article.pk
    assert "Track parcel" in data["draft"]["text"]
    assert len(data["messages"]) == 1


def _reads_of_one_get(client, token: str, pk: int) -> int:
    _get(client, token, pk)  # the token's "last used" write happens once a minute
    with CaptureQueriesContext(connection) as queries:
        assert _get(client, token, pk).status_code == 200
    return len(queries)


def test_a_ticket_costs_the_same_few_reads_however_long_its_history(client, token, agent):
    ticket = TicketFactory()
    MessageFactory(ticket=ticket)
    quiet = _reads_of_one_get(client, token, ticket.pk)

    busy = TicketFactory(customer=ticket.customer)
    MessageFactory.create_batch(60, ticket=busy)
    TicketFactory.create_batch(10, customer=ticket.customer)
    DraftFactory(ticket=busy)
    EscalationFactory(ticket=busy)
    Note.objects.create(ticket=busy, author=agent, body="Called the courier.")
    data = _get(client, token, busy.pk).json()

    assert _reads_of_one_get(client, token, busy.pk) == quiet <= 7
    assert len(data["messages"]) == 50  # the newest, as the ticket page shows them
    assert data["draft"] is not None


def test_get_unknown_ticket_is_404(client, token):
    response = _get(client, token, 999)

    assert response.status_code == 404
    assert response.json() == {"error": "No ticket 999."}


# -- authentication and roles ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}, {"Authorization": "Bearer   "}],
    ids=["no header", "basic auth", "empty token"],
)
def test_request_without_a_bearer_token_is_401_and_says_how_to_authenticate(client, headers):
    response = client.post(
        TICKETS_URL, data=json.dumps(VALID), content_type="application/json", headers=headers
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]
    assert _nothing_saved()


def test_wrong_token_is_401_invalid_token(client, token):
    response = _post(client, token[:-2] + "xx", VALID)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert _nothing_saved()


def test_wrong_token_cannot_read_tickets_either(client, token):
    pk = _post(client, token, VALID).json()["id"]

    response = _get(client, "sd_not-a-token", pk)

    assert response.status_code == 401
    assert "maria" not in response.content.decode().lower()


def test_token_of_a_user_without_the_agent_role_is_403(client, outsider):
    response = _post(client, api_token_create(user=outsider), VALID)

    assert response.status_code == 403
    assert response.json() == {"error": "This token's user may not work tickets."}
    assert _nothing_saved()


def test_the_collection_only_lists_and_creates(client, token):
    response = client.delete(TICKETS_URL, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405
    assert sorted(response["Allow"].split(", ")) == ["GET", "POST"]


# -- bad requests save nothing -----------------------------------------------------------------


def test_malformed_json_is_400_with_the_parse_error(client, token):
    response = _post(client, token, '{"customer": {"email": ')

    assert response.status_code == 400
    assert response.json()["error"].startswith("Malformed JSON:")
    assert _nothing_saved()


VALID_SHAPE = '{"customer": {"email": "ana@example.org"}, "subject": "Hi", "body": %s}'


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 5000 + "]" * 5000, id="nested 5000 deep"),
        pytest.param(VALID_SHAPE % '"\\ud800 lone surrogate"', id="lone surrogate"),
        pytest.param(VALID_SHAPE % ('"x", "n": ' + "9" * 5000), id="5000-digit number"),
        pytest.param(VALID_SHAPE % '"x", "n": 1e999', id="infinite number"),
        pytest.param(VALID_SHAPE % '"x", "n": NaN', id="NaN"),
    ],
)
def test_json_the_desk_cannot_store_is_a_json_400(client, token, body):
    response = _post(client, token, body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("Malformed JSON:")
    assert _nothing_saved()


@pytest.mark.parametrize("body", ["[1, 2]", '"a string"', "42", "null"])
def test_json_that_is_not_an_object_is_400(client, token, body):
    response = _post(client, token, body)

    assert response.status_code == 400
    assert response.json() == {"error": "The body must be a JSON object."}
    assert _nothing_saved()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"subject": "Hi", "body": "Help"}, {"customer"}),
        ({**VALID, "customer": "maria@example.com"}, {"customer"}),
        ({**VALID, "customer": {"name": "Maria"}}, {"customer.email"}),
        ({**VALID, "customer": {"email": "not-an-address"}}, {"customer.email"}),
        (
            {**VALID, "customer": {"email": "m@example.com", "locale": "en_US!"}},
            {"customer.locale"},
        ),
        ({"customer": VALID["customer"]}, {"subject", "body"}),
        ({**VALID, "subject": "   "}, {"subject"}),
        ({**VALID, "subject": 42, "body": ["help"]}, {"subject", "body"}),
        (
            {**VALID, "customer": {"email": "m@example.com", "name": {"first": "M"}}},
            {"customer.name"},
        ),
    ],
    ids=[
        "no customer",
        "customer not an object",
        "no email",
        "bad email",
        "bad locale",
        "no subject or body",
        "blank subject",
        "subject and body not strings",
        "name not a string",
    ],
)
def test_missing_or_invalid_fields_are_400_with_a_message_per_field(client, token, body, fields):
    response = _post(client, token, body)

    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "Validation failed."
    assert set(data["fields"]) == fields
    assert all(
        messages and all(isinstance(m, str) for m in messages)
        for messages in data["fields"].values()
    )
    assert _nothing_saved()


def test_field_message_tells_the_caller_what_is_wrong(client, token):
    response = _post(client, token, {**VALID, "customer": {"email": "nope"}})

    assert response.json()["fields"] == {"customer.email": ["Enter a valid email address."]}


def test_two_megabyte_body_is_413(client, token):
    huge = {**VALID, "body": "x" * (2 * 1024 * 1024)}

    response = _post(client, token, huge)

    assert response.status_code == 413
    assert "Body too large" in response.json()["error"]
    assert _nothing_saved()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps(VALID)),
        ("application/x-www-form-urlencoded", "subject=Hi&body=Help"),
    ],
)
def test_body_that_is_not_json_is_415(client, token, content_type, body):
    response = _post(client, token, body, content_type=content_type)

    assert response.status_code == 415
    assert response.json() == {"error": "Send the body as application/json."}
    assert _nothing_saved()


# -- customer text is text ---------------------------------------------------------------------


def test_script_in_a_message_is_stored_as_text_and_shown_escaped(client, token, agent_client):
    body = "<script>alert('owned')</script> My order <b>never</b> came & I'm upset"
    pk = _post(
        client, token, {**VALID, "subject": "<img src=x onerror=alert(1)>", "body": body}
    ).json()["id"]

    assert Message.objects.get(ticket_id=pk).body_text == body
    assert _get(client, token, pk).json()["messages"][0]["body"] == body
    page = agent_client.get(reverse("ticket", args=[pk])).content.decode()
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
