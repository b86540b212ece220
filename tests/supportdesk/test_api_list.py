"""REST API v1: listing tickets with filters and stable cursor pagination."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from supportdesk.models import Ticket
from supportdesk.services import api_token_create
from tests.factories import CustomerFactory, TicketFactory
from tests.supportdesk.api_support import TICKETS_URL, Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, agent) -> Api:
    return Api(client, api_token_create(user=agent))


def _tickets(count: int, **fields) -> list[Ticket]:
    """Oldest first; pairs of tickets share a creation time, so the id must break ties."""
    start = timezone.now() - timedelta(days=2)
    return [
        TicketFactory(created_at=start + timedelta(minutes=i // 2), **fields) for i in range(count)
    ]


def _walk(api: Api, params: dict) -> tuple[list[dict], list[str]]:
    response = api.get(TICKETS_URL, params)
    assert response.status_code == 200, response.content
    items, next_urls = response.json()["results"], []
    while response.json()["next"]:
        next_urls.append(response.json()["next"])
        response = api.get(next_urls[-1].removeprefix("http://testserver"))
        assert response.status_code == 200, response.content
        items += response.json()["results"]
    return items, next_urls


def test_tickets_are_listed_newest_first_over_pages_without_gaps_or_repeats(api):
    tickets = _tickets(11)

    items, next_urls = _walk(api, {"limit": 4})

    assert len(next_urls) == 2
    assert [t["id"] for t in items] == [t.pk for t in reversed(tickets)]


def test_a_ticket_updated_while_paging_is_neither_repeated_nor_skipped(api):
    tickets = _tickets(6)
    first = api.get(TICKETS_URL, {"limit": 3}).json()
    # Agents work the tickets while the client pages: on the page already seen and the next.
    for ticket in (tickets[5], tickets[1]):
        ticket.status = Ticket.Status.SOLVED
        ticket.save()
    TicketFactory(created_at=timezone.now())  # a new ticket belongs before the first page

    second = api.get(first["next"].removeprefix("http://testserver")).json()

    ids = [t["id"] for t in first["results"] + second["results"]]
    assert ids == [t.pk for t in reversed(tickets)]
    assert second["next"] is None


def test_a_list_item_summarises_the_ticket(api):
    customer = CustomerFactory(email="maria@example.com", name="Maria", locale="es-MX")
    ticket = TicketFactory(customer=customer, subject="Refund", channel="api")

    (item,) = api.get(TICKETS_URL).json()["results"]

    assert item["id"] == ticket.pk
    assert item["reference"] == f"#{ticket.pk}"
    assert (item["subject"], item["status"], item["channel"]) == ("Refund", "open", "api")
    assert item["customer"] == {"email": "maria@example.com", "name": "Maria", "locale": "es-MX"}
    assert item["urgency"] == "medium"
    assert "messages" not in item


def test_the_list_pages_at_50_by_default_and_100_at_most(api):
    _tickets(101)

    default = api.get(TICKETS_URL).json()
    largest = api.get(TICKETS_URL, {"limit": 100}).json()
    too_large = api.get(TICKETS_URL, {"limit": 101})

    assert len(default["results"]) == 50
    assert len(largest["results"]) == 100
    assert largest["next"] is not None
    assert too_large.status_code == 400
    assert set(too_large.json()["fields"]) == {"limit"}


def test_filter_by_status(api):
    solved = _tickets(3, status=Ticket.Status.SOLVED)
    _tickets(2, status=Ticket.Status.OPEN)

    items, _ = _walk(api, {"status": "solved", "limit": 2})

    assert [t["id"] for t in items] == [t.pk for t in reversed(solved)]


def test_filter_by_channel(api):
    by_api = _tickets(3, channel=Ticket.Channel.API)
    _tickets(2, channel=Ticket.Channel.EMAIL)

    items, _ = _walk(api, {"channel": "api", "limit": 2})

    assert [t["id"] for t in items] == [t.pk for t in reversed(by_api)]


def test_filter_by_customer_email_ignores_case(api):
    maria = CustomerFactory(email="maria@example.com")
    hers = _tickets(3, customer=maria)
    _tickets(2)

    items, _ = _walk(api, {"customer_email": "Maria@Example.COM", "limit": 2})

    assert [t["id"] for t in items] == [t.pk for t in reversed(hers)]


def test_filter_by_updated_since(api):
    old, recent = _tickets(3), _tickets(3)
    long_ago = timezone.now() - timedelta(days=3)
    Ticket.objects.filter(pk__in=[t.pk for t in old]).update(updated_at=long_ago)
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    items, _ = _walk(api, {"updated_since": since, "limit": 2})

    assert [t["id"] for t in items] == [t.pk for t in reversed(recent)]


def test_filters_combine_and_the_next_url_keeps_them(api):
    maria = CustomerFactory(email="maria@example.com")
    wanted = _tickets(3, customer=maria, channel="api", status="open")
    _tickets(2, customer=maria, channel="email", status="open")
    _tickets(2, customer=maria, channel="api", status="solved")

    params = {"status": "open", "channel": "api", "customer_email": "maria@example.com"}
    items, next_urls = _walk(api, {**params, "limit": 2})

    assert [t["id"] for t in items] == [t.pk for t in reversed(wanted)]
    query = parse_qs(urlsplit(next_urls[0]).query)
    assert {k: v[0] for k, v in query.items() if k in params} == params
    assert query["limit"] == ["2"]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"status": "closed"}, {"status"}),
        ({"channel": "fax"}, {"channel"}),
        ({"customer_email": "not-an-address"}, {"customer_email"}),
        ({"updated_since": "yesterday"}, {"updated_since"}),
        ({"updated_since": "0001-01-01T00:00:00+14:00"}, {"updated_since"}),
        ({"updated_since": "9999-12-31T23:59:59-14:00"}, {"updated_since"}),
        ({"limit": "0"}, {"limit"}),
        ({"state": "open"}, {"state"}),
    ],
    ids=[
        "status",
        "channel",
        "email",
        "updated_since",
        "before year 1 in UTC",
        "after year 9999 in UTC",
        "limit",
        "unknown parameter",
    ],
)
def test_invalid_query_parameters_are_400_per_parameter(api, params, fields):
    response = api.get(TICKETS_URL, params)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields


@pytest.mark.parametrize(
    "alter",
    [
        lambda c: c[:-3] + "!!!",  # the lenient decoder would skip these and read the rest
        lambda c: c[:5] + "." + c[5:],
        lambda c: c + "=",
        lambda c: c.upper(),
    ],
    ids=["punctuation at the end", "punctuation inside", "padding", "case"],
)
def test_a_tampered_cursor_is_400(api, alter):
    _tickets(3)
    cursor = parse_qs(urlsplit(api.get(TICKETS_URL, {"limit": 1}).json()["next"]).query)["cursor"]

    response = api.get(TICKETS_URL, {"cursor": alter(cursor[0])})

    assert response.status_code == 400
    assert "Invalid cursor" in response.json()["error"]


def test_listing_needs_a_valid_token(client):
    _tickets(1)

    response = client.get(TICKETS_URL, headers={"Authorization": "Bearer sd_wrong"})

    assert response.status_code == 401
    assert "results" not in response.json()


def test_listing_needs_the_agent_role(client, outsider):
    response = Api(client, api_token_create(user=outsider)).get(TICKETS_URL)

    assert response.status_code == 403


# Token lookup, the user's permissions (one query with their groups'), one page. The token's
# "last used" time is written at most once a minute, by the first request here.
LIST_QUERIES = 3


@pytest.mark.parametrize("count", [3, 40])
def test_a_page_costs_the_same_queries_however_many_tickets(api, count, django_assert_num_queries):
    _tickets(count)
    first = api.get(TICKETS_URL, {"limit": 2}).json()

    with django_assert_num_queries(LIST_QUERIES):
        api.get(first["next"].removeprefix("http://testserver"))
    with django_assert_num_queries(LIST_QUERIES):
        api.get(TICKETS_URL, {"customer_email": "nobody@example.com", "status": "open"})
