"""Inbox reads: filters, most urgent then longest waiting, keyset pages, the ticket detail."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from replies.models import Draft
from supportdesk.inbox.selectors import (
    InboxFilters,
    inbox_row,
    inbox_row_matches,
    inbox_row_matches_search,
    ticket_for_inbox_row,
    ticket_list_for_inbox,
)
from supportdesk.inbox.ticket_page import THREAD_LIMIT, ticket_detail
from supportdesk.models import Tag, Ticket
from tests.factories import DraftFactory, EscalationFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

U = Ticket.Urgency


def _ids(page) -> list[int]:
    return [t.pk for t in page.tickets]


def _inbox(user, page_size: int = 25, cursor: str = "", **filters):
    return ticket_list_for_inbox(
        user=user, filters=InboxFilters(**filters), cursor=cursor, page_size=page_size
    )


# -- filters -----------------------------------------------------------------------------------


def test_default_view_hides_solved_tickets(agent):
    open_ = TicketFactory(status=Ticket.Status.OPEN)
    new = TicketFactory(status=Ticket.Status.NEW)
    waiting = TicketFactory(status=Ticket.Status.WAITING)
    solved = TicketFactory(status=Ticket.Status.SOLVED)

    assert set(_ids(_inbox(agent))) == {open_.pk, new.pk, waiting.pk}
    assert _ids(_inbox(agent, status="solved")) == [solved.pk]
    assert len(_inbox(agent, status="all").tickets) == 4


def test_filter_by_urgency_category_and_emotion(agent, categories):
    match = TicketFactory(urgency=U.HIGH, category=categories["refund"], emotion="angry")
    TicketFactory(urgency=U.LOW, category=categories["refund"], emotion="angry")
    TicketFactory(urgency=U.HIGH, category=categories["delivery"], emotion="angry")
    TicketFactory(urgency=U.HIGH, category=categories["refund"], emotion="neutral")

    page = _inbox(agent, urgency="high", category="refund", emotion="angry")

    assert _ids(page) == [match.pk]


def test_unknown_urgency_name_does_not_filter(agent):
    tickets = TicketFactory.create_batch(2)

    assert set(_ids(_inbox(agent, urgency="whenever"))) == {t.pk for t in tickets}


def test_mine_shows_only_tickets_assigned_to_the_viewer(agent, other_agent):
    mine = TicketFactory(assignee=agent)
    TicketFactory(assignee=other_agent)
    TicketFactory(assignee=None)

    assert _ids(_inbox(agent, mine=True)) == [mine.pk]


def test_escalated_filter(agent):
    escalated = TicketFactory(is_escalated=True)
    TicketFactory()

    assert _ids(_inbox(agent, escalated=True)) == [escalated.pk]


# -- order and pages ---------------------------------------------------------------------------


def test_most_urgent_first_then_longest_waiting(agent):
    now = timezone.now()
    low_old = TicketFactory(urgency=U.LOW, created_at=now - timedelta(hours=9))
    high_new = TicketFactory(urgency=U.HIGH, created_at=now - timedelta(minutes=1))
    high_old = TicketFactory(urgency=U.HIGH, created_at=now - timedelta(hours=2))
    untriaged = TicketFactory(urgency=U.UNKNOWN, created_at=now - timedelta(days=1))
    medium = TicketFactory(urgency=U.MEDIUM, created_at=now)

    assert _ids(_inbox(agent)) == [high_old.pk, high_new.pk, medium.pk, low_old.pk, untriaged.pk]


def test_next_page_continues_where_the_first_stopped(agent):
    now = timezone.now()
    tickets = [
        TicketFactory(urgency=urgency, created_at=now - timedelta(minutes=minutes))
        for urgency, minutes in [(U.LOW, 5), (U.HIGH, 1), (U.MEDIUM, 9), (U.HIGH, 30), (U.LOW, 60)]
    ]
    expected = _ids(_inbox(agent))

    first = _inbox(agent, page_size=2)
    second = _inbox(agent, page_size=2, cursor=first.next_cursor)
    third = _inbox(agent, page_size=2, cursor=second.next_cursor)

    assert _ids(first) + _ids(second) + _ids(third) == expected
    assert len(expected) == len(tickets)
    assert first.next_cursor and second.next_cursor
    assert third.next_cursor == ""


def test_pages_neither_skip_nor_repeat_tickets_with_equal_or_close_timestamps(agent):
    rng = random.Random(3)
    base = timezone.now().replace(microsecond=0)
    for _ in range(40):
        # Many share a timestamp; the rest differ by single microseconds.
        TicketFactory(
            urgency=rng.choice([U.HIGH, U.MEDIUM]),
            created_at=base + timedelta(microseconds=rng.choice([0, 0, 1, 2, 999_999])),
        )
    expected = _ids(_inbox(agent, page_size=100))

    seen: list[int] = []
    cursor = ""
    for _ in range(20):
        page = _inbox(agent, page_size=7, cursor=cursor)
        seen += _ids(page)
        cursor = page.next_cursor
        if not cursor:
            break

    assert seen == expected


def test_a_page_that_ends_exactly_at_the_last_ticket_offers_no_more(agent):
    TicketFactory.create_batch(4)

    page = _inbox(agent, page_size=4)

    assert len(page.tickets) == 4
    assert page.next_cursor == ""


@pytest.mark.parametrize(
    "cursor", ["garbage", "1_2", "x_1.5_3", "1_1e400_3", "1_99999999999999_3", "1_2_3_4"]
)
def test_mangled_cursor_shows_the_first_page(agent, cursor):
    TicketFactory.create_batch(3)

    assert _ids(_inbox(agent, cursor=cursor)) == _ids(_inbox(agent))


# -- one row, one ticket -----------------------------------------------------------------------


def test_row_for_a_ticket_that_no_longer_matches_the_filters_is_none(agent):
    ticket = TicketFactory(urgency=U.LOW)

    assert ticket_for_inbox_row(ticket_id=ticket.pk, user=agent, filters=InboxFilters()) == ticket
    assert (
        ticket_for_inbox_row(ticket_id=ticket.pk, user=agent, filters=InboxFilters(urgency="high"))
        is None
    )


FILTERS = [
    InboxFilters(),
    InboxFilters(status="all"),
    InboxFilters(status="solved"),
    InboxFilters(status="waiting"),
    InboxFilters(urgency="high"),
    InboxFilters(urgency="low"),
    InboxFilters(category="refund"),
    InboxFilters(category="delivery"),
    InboxFilters(emotion="angry"),
    InboxFilters(mine=True),
    InboxFilters(escalated=True),
    InboxFilters(tag="vip"),
    InboxFilters(tag="other"),
    InboxFilters(urgency="high", category="refund", mine=True, tag="vip"),
    InboxFilters(status="all", escalated=True, emotion="angry"),
]


def test_the_live_inbox_decides_in_python_what_the_inbox_query_shows(
    agent, other_agent, categories
):
    """The live inbox reads a ticket once per event and matches it against every open inbox's
    filters without a query: it must agree with the query the inbox page runs."""
    vip = Tag.objects.create(name="vip")
    tickets = [
        TicketFactory(),
        TicketFactory(status=Ticket.Status.SOLVED, urgency=U.HIGH),
        TicketFactory(status=Ticket.Status.WAITING, category=categories["refund"]),
        TicketFactory(urgency=U.HIGH, category=categories["refund"], assignee=agent),
        TicketFactory(emotion="angry", is_escalated=True, assignee=other_agent),
        TicketFactory(urgency=U.LOW, category=categories["delivery"], emotion="calm"),
    ]
    tickets[3].tags.add(vip)
    tickets[4].tags.add(vip)

    for ticket in tickets:
        row = inbox_row(ticket_id=ticket.pk)
        for filters in FILTERS:
            expected = ticket_for_inbox_row(ticket_id=ticket.pk, user=agent, filters=filters)
            assert inbox_row_matches(row, filters=filters, user_id=agent.pk) is (
                expected is not None
            ), (ticket.pk, filters)


def test_a_search_is_left_to_the_query(agent):
    ticket = TicketFactory()
    row = inbox_row(ticket_id=ticket.pk)

    assert inbox_row_matches(row, filters=InboxFilters(q=f"#{ticket.pk}"), user_id=agent.pk) is None
    assert inbox_row_matches_search(ticket_id=ticket.pk, q=f"#{ticket.pk}") is True
    assert inbox_row_matches_search(ticket_id=ticket.pk, q=f"#{ticket.pk + 1}") is False
    # The other conditions still decide without it.
    assert inbox_row_matches(row, filters=InboxFilters(q="x", urgency="high"), user_id=1) is False


def test_detail_shows_the_latest_messages_and_counts_the_rest():
    ticket = TicketFactory()
    start = timezone.now() - timedelta(days=1)
    messages = [
        MessageFactory(
            ticket=ticket, body_text=f"message {n}", created_at=start + timedelta(minutes=n)
        )
        for n in range(THREAD_LIMIT + 3)
    ]

    detail = ticket_detail(ticket_id=ticket.pk)

    assert detail.earlier_messages == 3
    assert [m.pk for m in detail.messages] == [m.pk for m in messages[3:]]


def test_detail_shows_the_current_draft_and_only_open_escalations():
    draft = DraftFactory()
    DraftFactory(in_reply_to__ticket=draft.ticket, status=Draft.Status.SUPERSEDED)
    open_ = EscalationFactory(ticket=draft.ticket, reason="Angry customer")
    EscalationFactory(ticket=draft.ticket, reason="old", acknowledged_at=timezone.now())

    detail = ticket_detail(ticket_id=draft.ticket_id)

    assert detail.draft == draft
    assert detail.open_escalations == [open_]
