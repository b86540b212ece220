"""Reads shared by the inbox views and the live consumer. Query counts do not grow with N."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import (
    BooleanField,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext, gettext_lazy

from feedback.selectors import triage_agreement
from supportdesk.models import Ticket
from supportdesk.search import query_tokens, ticket_number, tsquery
from triage.selectors import active_model_versions

PAGE_SIZE = 25


@dataclass(frozen=True)
class InboxFilters:
    status: str = "active"  # "active" | "all" | a Ticket.Status value
    urgency: str = ""  # "high" | "medium" | "low" | ""
    category: str = ""  # category slug
    emotion: str = ""
    mine: bool = False
    escalated: bool = False
    # Search: words of the subject, the customer's name or address, what they wrote; or "#12".
    q: str = ""
    sort: str = "urgency"  # one of SORTS
    tag: str = ""

    def as_query(self) -> dict[str, str]:
        data = {
            "q": self.q,
            "sort": "" if self.sort == "urgency" else self.sort,
            # "active" is the default only without a search (see InboxFilterForm.filters).
            "status": "" if self.status == "active" and not self.q else self.status,
            "urgency": self.urgency,
            "category": self.category,
            "emotion": self.emotion,
            "mine": "1" if self.mine else "",
            "escalated": "1" if self.escalated else "",
            "tag": self.tag,
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
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.q:
        qs = _searched(qs, filters.q)
    return qs


def _searched(qs: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Tickets whose subject, customer or messages hold every word of `query` (as prefixes),
    or the ticket it names by number. PostgreSQL: the GIN-indexed tsvector; elsewhere the
    stored document (supportdesk/search.py)."""
    match = Q(pk__in=[])
    expression = tsquery(query)
    if expression and connection.vendor == "postgresql":
        table = Ticket._meta.db_table
        sql = f'"{table}"."search_vector" @@ to_tsquery(\'simple\', %s)'
        # Only the table name is formatted in; the query is a bound parameter.
        match = Q(RawSQL(sql, (expression,), output_field=BooleanField()))  # noqa: S611
    elif expression:
        match = Q()
        for token in query_tokens(query):
            match &= Q(search_document__contains=token)
    number = ticket_number(query)
    if number is not None:
        match |= Q(pk=number)
    return qs.filter(match)


def _with_row_data(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.select_related("customer", "category", "assignee").prefetch_related("tags")


@dataclass(frozen=True)
class InboxPage:
    tickets: list[Ticket]
    next_cursor: str


# The inbox's orders: the sort control's label, and how the list describes itself.
SORTS = {
    "urgency": (
        gettext_lazy("Most urgent first"),
        gettext_lazy("Most urgent first, then longest waiting"),
    ),
    "oldest": (gettext_lazy("Longest waiting first"), gettext_lazy("Longest waiting first")),
    "newest": (gettext_lazy("Newest first"), gettext_lazy("Newest first")),
}


def encode_cursor(ticket: Ticket, sort: str = "urgency") -> str:
    stamp = f"{ticket.created_at.timestamp():.6f}_{ticket.pk}"
    return f"{ticket.urgency}_{stamp}" if sort == "urgency" else stamp


def _ordered(qs: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    if sort == "newest":
        return qs.order_by("-created_at", "-pk")
    if sort == "oldest":
        return qs.order_by("created_at", "pk")
    return qs.order_by("urgency", "created_at", "pk")


def _after_cursor(qs: QuerySet[Ticket], cursor: str, sort: str = "urgency") -> QuerySet[Ticket]:
    try:
        parts = cursor.split("_")
        if sort == "urgency":
            urgency_s, stamp_s, pk_s = parts
            values: tuple = (int(urgency_s),)
        else:
            stamp_s, pk_s = parts
            values = ()
        pk = int(pk_s)
        created = datetime.fromtimestamp(float(stamp_s), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return qs  # a mangled cursor shows the first page rather than an error
    # A row-value comparison is a single range on the (…, urgency, created_at, id) indexes in
    # both SQLite and PostgreSQL; the equivalent OR of three terms makes SQLite scan.
    table = Ticket._meta.db_table
    columns = ["created_at", "id"] if sort != "urgency" else ["urgency", "created_at", "id"]
    row = ", ".join(f'"{table}"."{column}"' for column in columns)
    places = ", ".join(["%s"] * len(columns))
    direction = "<" if sort == "newest" else ">"
    sql = f"({row}) {direction} ({places})"
    params = (*values, connection.ops.adapt_datetimefield_value(created), pk)
    # Only the table and column names are formatted in; every value is a bound parameter.
    return qs.filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611


def ticket_list_for_inbox(
    *, user: AbstractBaseUser, filters: InboxFilters, cursor: str = "", page_size: int = PAGE_SIZE
) -> InboxPage:
    """Most urgent first, then longest waiting. Keyset pagination: page N costs what page 1 does."""
    qs = _filtered(user=user, filters=filters)
    if filters.q:
        # A search matches a few hundred tickets anywhere in the sort order: the planner joins
        # every match's customer (hashing the whole customer table) before it sorts. Pick the
        # page's ids from the ticket table alone first, then read those rows.
        ids = _ordered(qs, filters.sort)
        if cursor:
            ids = _after_cursor(ids, cursor, filters.sort)
        qs = Ticket.objects.filter(pk__in=list(ids.values_list("pk", flat=True)[: page_size + 1]))
        cursor = ""
    # For "mine" every row's assignee is the viewer: joining the user table would tempt the
    # planner to start from it and sort all of the viewer's tickets.
    if filters.mine:
        qs = qs.select_related("customer", "category").prefetch_related("tags")
    else:
        qs = _with_row_data(qs)
    qs = _ordered(qs, filters.sort)
    if cursor:
        qs = _after_cursor(qs, cursor, filters.sort)
    rows = list(qs[: page_size + 1])
    if filters.mine:
        for ticket in rows:
            ticket.assignee = user
    next_cursor = encode_cursor(rows[page_size - 1], filters.sort) if len(rows) > page_size else ""
    return InboxPage(tickets=rows[:page_size], next_cursor=next_cursor)


def ticket_for_inbox_row(
    *, ticket_id: int, user: AbstractBaseUser, filters: InboxFilters
) -> Ticket | None:
    """The ticket as an inbox row, or None when it does not match the viewer's filters."""
    return _with_row_data(_filtered(user=user, filters=filters)).filter(pk=ticket_id).first()


def inbox_row(*, ticket_id: int) -> Ticket | None:
    """The ticket with everything its inbox row shows, whoever looks at it (one query for the
    ticket, one for its tags); None once it no longer exists. The live inbox reads it once per
    event and decides with `inbox_row_matches` which open inboxes show it."""
    return _with_row_data(Ticket.objects.filter(pk=ticket_id)).first()


def inbox_row_matches(ticket: Ticket, *, filters: InboxFilters, user_id: int) -> bool | None:
    """Whether the inbox `filters` select shows `ticket` (as `inbox_row` read it), for the
    user `user_id`: `_filtered`'s conditions, decided without a query. None when that
    depends on the search words too: ask `inbox_row_matches_search`."""
    if filters.status == "active":
        if ticket.status == Ticket.Status.SOLVED:
            return False
    elif filters.status != "all" and ticket.status != filters.status:
        return False
    if filters.urgency in URGENCY_BY_NAME and ticket.urgency != URGENCY_BY_NAME[filters.urgency]:
        return False
    if filters.category and (ticket.category is None or ticket.category.slug != filters.category):
        return False
    if filters.emotion and ticket.emotion != filters.emotion:
        return False
    if filters.mine and ticket.assignee_id != user_id:
        return False
    if filters.escalated and not ticket.is_escalated:
        return False
    if filters.tag and filters.tag not in {tag.name for tag in ticket.tags.all()}:
        return False
    return None if filters.q else True


def inbox_row_matches_search(*, ticket_id: int, q: str) -> bool:
    """Whether the inbox search `q` finds the ticket (one query)."""
    return _searched(Ticket.objects.filter(pk=ticket_id), q).exists()


@dataclass(frozen=True)
class ModelQuality:
    """What agents are told about one model: a measure they can trust, and when it was trained."""

    name: str
    measure: str
    trained_at: datetime


# Below this many tickets agents looked at, their agreement says too little to show.
MIN_JUDGED = 20
_NAMES = {
    "category": gettext_lazy("Category"),
    "emotion": gettext_lazy("Emotion"),
    "answer": gettext_lazy("KB answer"),
}


def model_quality() -> list[ModelQuality]:
    """The active models, each with an honest measure: how often agents kept its labels once
    they have looked at enough tickets; before that, its score on realistic messages it was
    not trained on; never a held-out score on templated examples."""
    agreement = triage_agreement()
    rows = []
    for version in active_model_versions():
        metrics = version.metrics
        seen = agreement.get(version.target)
        if seen is not None and seen.judged >= MIN_JUDGED:
            measure = gettext("agents kept %(share)s of the last %(count)s labels") % {
                "share": f"{seen.share:.0%}",
                "count": seen.judged,
            }
        elif metrics.get("realistic") and "accuracy" in metrics:
            measure = gettext("%(share)s right on realistic messages it never saw") % {
                "share": f"{metrics['accuracy']:.0%}"
            }
        elif version.target == "emotion" and "macro_f1" in metrics:
            measure = gettext("macro-F1 %(score)s on held-out English comments") % {
                "score": f"{metrics['macro_f1']:.2f}"
            }
        else:
            measure = gettext("not measured on real messages yet")
        rows.append(
            ModelQuality(_NAMES.get(version.target, version.target), measure, version.created_at)
        )
    return rows
