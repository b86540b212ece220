"""Inbox search: subject, body, customer and ticket number, in every language the desk serves."""

from __future__ import annotations

import pytest
from django.urls import reverse

from supportdesk.inbox.selectors import InboxFilters, ticket_list_for_inbox
from supportdesk.models import Ticket
from supportdesk.search import search_document, tokens, tsquery
from supportdesk.services import ticket_create, ticket_message_add

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _file(subject: str, body: str, email: str = "pat@example.com", name: str = ""):
    return ticket_create(email=email, name=name, subject=subject, body=body, channel="web")


def _found(client, query: str, **extra) -> str:
    return client.get(reverse("inbox"), {"q": query, **extra}, headers=HTMX).content.decode()


def test_chinese_and_japanese_are_found_by_the_words_inside_a_sentence():
    assert tokens("退款還沒到") == ["退款", "款還", "還沒", "沒到"]
    assert tokens("Refund, please!") == ["refund", "please"]
    assert tsquery("退款") == "'退款':*"
    assert tsquery("refund 'x'; DROP") == "'refund':* & 'x':* & 'drop':*"  # letters only
    assert "返金" in search_document(["返金はまだですか"]).split()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("refund", {"refund"}),  # a word of the body, as a prefix of "refunded"
        ("REFUND", {"refund"}),
        ("lamp", {"lamp"}),  # a word of the subject
        ("退款", {"zh"}),  # inside a Chinese sentence
        ("返金", {"ja"}),
        ("robin", {"lamp"}),  # the customer's name
        ("robin.hale@example.com", {"lamp"}),  # and address
        ("refund lamp", set()),  # every word must match
        ("nothing-like-this", set()),
    ],
)
def test_search_finds_tickets_by_subject_body_and_customer(agent_client, query, expected):
    tickets = {
        "refund": _file("Money back?", "I was never refunded for order LM-1."),
        "lamp": _file("Broken lamp", "It flickers.", "robin.hale@example.com", "Robin Hale"),
        "zh": _file("請問", "我的退款還沒到帳"),
        "ja": _file("お問い合わせ", "返金はまだですか"),
    }
    page = _found(agent_client, query)
    found = {key for key, t in tickets.items() if f'id="ticket-{t.pk}"' in page}
    assert found == expected


def test_a_ticket_number_finds_that_ticket(agent_client):
    first = _file("One", "First question")
    second = _file("Two", "Second question")
    page = _found(agent_client, f"#{second.pk}")
    assert f'id="ticket-{second.pk}"' in page and f'id="ticket-{first.pk}"' not in page


def test_a_follow_up_message_makes_the_ticket_findable_by_its_words(agent_client):
    ticket = _file("Order question", "Where is my order?")
    assert f'id="ticket-{ticket.pk}"' not in _found(agent_client, "courier")
    ticket_message_add(ticket_id=ticket.pk, body="The courier left it at the wrong house.")
    assert f'id="ticket-{ticket.pk}"' in _found(agent_client, "courier")


def test_search_looks_at_solved_tickets_unless_a_status_is_chosen(agent_client):
    from supportdesk.services import ticket_solve

    ticket = _file("Invoice", "Please send the invoice again")
    ticket_solve(ticket_id=ticket.pk)

    assert f'id="ticket-{ticket.pk}"' in _found(agent_client, "invoice")
    assert f'id="ticket-{ticket.pk}"' not in _found(agent_client, "invoice", status="active")
    assert "in all tickets" in agent_client.get(reverse("inbox"), {"q": "invoice"}).content.decode()


def test_sort_control_orders_the_inbox_and_pages_keep_the_order(agent_client):
    tickets = [_file(f"Question {i}", f"Body {i}") for i in range(30)]
    newest = agent_client.get(reverse("inbox"), {"sort": "newest"}, headers=HTMX).content.decode()
    assert newest.index(f'id="ticket-{tickets[-1].pk}"') < newest.index(
        f'id="ticket-{tickets[-2].pk}"'
    )
    cursor = newest.split("after=")[1].split('"')[0]
    rest = agent_client.get(
        reverse("inbox"), {"sort": "newest", "after": cursor}, headers=HTMX
    ).content.decode()
    shown = [t for t in tickets if f'id="ticket-{t.pk}"' in newest + rest]
    assert len(shown) == 30  # nothing skipped or repeated across the page boundary
    assert f'id="ticket-{tickets[0].pk}"' in rest


def test_an_agent_saves_a_view_and_finds_it_again(agent_client, other_agent_client):
    response = agent_client.post(
        reverse("saved-view-save"),
        {"name": "Angry refunds", "q": "refund", "emotion": "angry", "sort": "newest", "x": "1"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Angry refunds" in html
    # Only what the inbox's form accepts is kept, in its own order.
    assert 'href="/inbox/?q=refund&amp;sort=newest&amp;status=all&amp;emotion=angry"' in html
    assert "Angry refunds" in agent_client.get(reverse("inbox")).content.decode()
    assert "Angry refunds" not in other_agent_client.get(reverse("inbox")).content.decode()


def test_a_view_without_a_name_is_refused_with_its_reason(agent_client):
    response = agent_client.post(reverse("saved-view-save"), {"name": "  "}, headers=HTMX)
    assert response.status_code == 400
    assert "Give the view a name." in response.content.decode()


@pytest.mark.parametrize("sort", ["urgency", "oldest", "newest"])
def test_search_results_page_in_order_and_each_match_comes_once(agent, sort):
    for n in range(7):
        ticket = _file(f"Refund {n}", "Where is my refund?", email=f"c{n}@example.com")
        Ticket.objects.filter(pk=ticket.pk).update(urgency=n % 3 + 1)
    _file("Lamp", "The lamp flickers.")
    filters = InboxFilters(q="refund", sort=sort)

    seen, cursor = [], ""
    while True:
        page = ticket_list_for_inbox(user=agent, filters=filters, cursor=cursor, page_size=3)
        seen += page.tickets
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    everything = ticket_list_for_inbox(user=agent, filters=filters, page_size=50).tickets
    assert [t.pk for t in seen] == [t.pk for t in everything]
    assert len(seen) == 7 and all(t.subject.startswith("Refund") for t in seen)
    assert all(t.customer.email.startswith("c") for t in seen)  # the row's customer is read
