"""Reads shared by the inbox views and the live consumer. Query counts do not grow with N."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from supportdesk.models import Message, Presence, Ticket

PAGE_SIZE = 25
THREAD_LIMIT = 50


@dataclass(frozen=True)
class InboxFilters:
    status: str = "active"  # "active" | "all" | a Ticket.Status value
    urgency: str = ""  # "high" | "medium" | "low" | ""
    category: str = ""  # category slug
    emotion: str = ""
    mine: bool = False
    escalated: bool = False

    def as_query(self) -> dict[str, str]:
        data = {
            "status": self.status,
            "urgency": self.urgency,
            "category": self.category,
            "emotion": self.emotion,
            "mine": "1" if self.mine else "",
            "escalated": "1" if self.escalated else "",
        }
        return {k: v for k, v in data.items() if v}


URGENCY_BY_NAME = {
    "high": Ticket.Urgency.HIGH,
    "medium": Ticket.Urgency.MEDIUM,
    "low": Ticket.Urgency.LOW,
}


def _filtered(*, user: AbstractBaseUser, filters: InboxFilters) -> QuerySet[Ticket]:
    qs = Ticket.objects.all()
    if filters.status == "active":
        # "Not solved" rather than IN (…): an inequality leaves the planner free to walk the
        # sort-order index, which is what a short first page wants.
        qs = qs.exclude(status=Ticket.Status.SOLVED)
    elif filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.urgency in URGENCY_BY_NAME:
        qs = qs.filter(urgency=URGENCY_BY_NAME[filters.urgency])
    if filters.category:
        qs = qs.filter(category__slug=filters.category)
    if filters.emotion:
        qs = qs.filter(emotion=filters.emotion)
    if filters.mine:
        # On the column, not the relation: keeps the assignee join outer so the planner walks
        # the (assignee, urgency, created_at, id) index instead of sorting.
        qs = qs.filter(assignee_id=user.pk)
    if filters.escalated:
        qs = qs.filter(is_escalated=True)
    return qs


def _with_row_data(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.select_related("customer", "category", "assignee")


@dataclass(frozen=True)
class InboxPage:
    tickets: list[Ticket]
    next_cursor: str


def encode_cursor(ticket: Ticket) -> str:
    return f"{ticket.urgency}_{ticket.created_at.timestamp():.6f}_{ticket.pk}"


def _after_cursor(qs: QuerySet[Ticket], cursor: str) -> QuerySet[Ticket]:
    try:
        urgency_s, stamp_s, pk_s = cursor.split("_")
        urgency, pk = int(urgency_s), int(pk_s)
        created = datetime.fromtimestamp(float(stamp_s), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return qs  # a mangled cursor shows the first page rather than an error
    # A row-value comparison is a single range on the (…, urgency, created_at, id) indexes in
    # both SQLite and PostgreSQL; the equivalent OR of three terms makes SQLite scan.
    table = Ticket._meta.db_table
    sql = f'("{table}"."urgency", "{table}"."created_at", "{table}"."id") > (%s, %s, %s)'
    params = (urgency, connection.ops.adapt_datetimefield_value(created), pk)
    # Only the table name is formatted in; every value is a bound parameter.
    return qs.filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611


def ticket_list_for_inbox(
    *, user: AbstractBaseUser, filters: InboxFilters, cursor: str = "", page_size: int = PAGE_SIZE
) -> InboxPage:
    """Most urgent first, then longest waiting. Keyset pagination: page N costs what page 1 does."""
    qs = _filtered(user=user, filters=filters)
    # For "mine" every row's assignee is the viewer: joining the user table would tempt the
    # planner to start from it and sort all of the viewer's tickets.
    qs = qs.select_related("customer", "category") if filters.mine else _with_row_data(qs)
    qs = qs.order_by("urgency", "created_at", "pk")
    if cursor:
        qs = _after_cursor(qs, cursor)
    rows = list(qs[: page_size + 1])
    if filters.mine:
        for ticket in rows:
            ticket.assignee = user
    next_cursor = encode_cursor(rows[page_size - 1]) if len(rows) > page_size else ""
    return InboxPage(tickets=rows[:page_size], next_cursor=next_cursor)


def ticket_for_inbox_row(
    *, ticket_id: int, user: AbstractBaseUser, filters: InboxFilters
) -> Ticket | None:
    """The ticket as an inbox row, or None when it does not match the viewer's filters."""
    return _with_row_data(_filtered(user=user, filters=filters)).filter(pk=ticket_id).first()


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    messages: list[Message]
    earlier_messages: int
    triage: object | None
    routing: object | None
    draft: object | None
    open_escalations: list


def ticket_detail(*, ticket_id: int) -> TicketDetail:
    from replies.models import Draft
    from triage.models import Escalation, RoutingDecision, TriageResult

    ticket = Ticket.objects.select_related("customer", "category", "assignee").get(pk=ticket_id)
    thread = list(
        Message.objects.filter(ticket=ticket)
        .select_related("author_user")
        .order_by("-created_at", "-pk")[: THREAD_LIMIT + 1]
    )
    earlier = 0
    if len(thread) > THREAD_LIMIT:
        earlier = Message.objects.filter(ticket=ticket).count() - THREAD_LIMIT
        thread = thread[:THREAD_LIMIT]
    thread.reverse()
    for message in thread:
        message.ticket = ticket  # author labels read the customer without another query
    triage = TriageResult.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()
    routing = RoutingDecision.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()
    draft = (
        Draft.objects.filter(ticket=ticket)
        .exclude(status=Draft.Status.SUPERSEDED)
        .select_related("decided_by")
        .order_by("-created_at", "-pk")
        .first()
    )
    escalations = list(
        Escalation.objects.filter(ticket=ticket, acknowledged_at__isnull=True).order_by(
            "-created_at"
        )[:5]
    )
    return TicketDetail(ticket, thread, earlier, triage, routing, draft, escalations)


def ticket_viewers(*, ticket_id: int, exclude_user_id: int | None = None) -> list[str]:
    """Who else has this ticket open right now (by username)."""
    fresh = timezone.now() - timedelta(hours=12)
    qs = Presence.objects.filter(ticket_id=ticket_id, connected_at__gte=fresh)
    if exclude_user_id is not None:
        qs = qs.exclude(user_id=exclude_user_id)
    return sorted(set(qs.values_list("user__username", flat=True)[:50]))
