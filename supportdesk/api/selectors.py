"""What the REST API reads: keyset-paginated lists of tickets, messages, drafts and feedback
events, and one draft. Cursors are opaque (created_at, id) pairs; a page's query count does not
grow with the table."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import (
    BooleanField,
    QuerySet,
)
from django.db.models.expressions import RawSQL

from feedback.models import FeedbackEvent
from replies.models import Draft
from supportdesk.inbox.ticket_page import THREAD_LIMIT, latest_triage_and_routing
from supportdesk.models import Message, Ticket
from triage.models import RoutingDecision, TriageResult


@dataclass(frozen=True)
class ApiTicket:
    ticket: Ticket  # with its customer
    messages: list[Message]  # the newest THREAD_LIMIT, oldest first
    triage: TriageResult | None
    routing: RoutingDecision | None
    draft: Draft | None


def ticket_for_api(*, ticket_id: int) -> ApiTicket:
    """One ticket as the API shows it, in four queries (five when a newer triage has no route
    yet): what the API returns and nothing of the ticket page's panels (notes, escalations, the
    customer's other tickets). Every ticket the API creates is read back this way."""
    ticket = Ticket.objects.select_related("customer").get(pk=ticket_id)
    messages = list(
        Message.objects.filter(ticket=ticket).order_by("-created_at", "-pk")[:THREAD_LIMIT]
    )
    messages.reverse()
    triage, routing = latest_triage_and_routing(ticket)
    draft = (
        Draft.objects.filter(ticket=ticket)
        .exclude(status=Draft.Status.SUPERSEDED)
        .order_by("-created_at", "-pk")
        .first()
    )
    return ApiTicket(ticket, messages, triage, routing, draft)


class InvalidCursor(ValueError):
    """A cursor we did not issue (or one that was altered)."""


@dataclass(frozen=True)
class ApiPage:
    items: list
    next_cursor: str  # "" on the last page


def _encode_keyset(created_at: datetime, pk: int) -> str:
    raw = f"{created_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_keyset(cursor: str) -> tuple[datetime, int]:
    try:
        # Strictly: the lenient decoder skips characters outside the alphabet, so an altered
        # cursor could still decode to some other position.
        data = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        if base64.urlsafe_b64encode(data).decode().rstrip("=") != cursor:
            raise ValueError("not a cursor we issue")
        stamp, pk_s = data.decode().split("|")
        created, pk = datetime.fromisoformat(stamp), int(pk_s)
        if created.tzinfo is None or not 0 < pk < 2**63:
            raise ValueError("not a cursor we issue")
        return created.astimezone(UTC), pk
    # binascii.Error and UnicodeDecodeError are ValueErrors; OverflowError: no UTC equivalent.
    except (ValueError, OverflowError) as exc:
        raise InvalidCursor(cursor) from exc


def _keyset(qs: QuerySet, cursor: str, *, op: str) -> QuerySet:
    """Rows strictly after the cursor in (created_at, id) order; ``op`` is "<" or ">"."""
    created, pk = _decode_keyset(cursor)
    table = qs.model._meta.db_table
    sql = f'("{table}"."created_at", "{table}"."id") {op} (%s, %s)'
    params = (connection.ops.adapt_datetimefield_value(created), pk)
    # Only the table name and a fixed operator are formatted in; values are bound parameters.
    return qs.filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611


def _page(qs: QuerySet, page_size: int) -> ApiPage:
    rows = list(qs[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    last = rows[-1] if more else None
    return ApiPage(rows, _encode_keyset(last.created_at, last.pk) if last else "")


def ticket_list_for_api(
    *,
    status: str = "",
    channel: str = "",
    customer_email: str = "",
    updated_since: datetime | None = None,
    cursor: str = "",
    page_size: int,
) -> ApiPage:
    """Newest first by (created_at, id): both never change, so walking the pages while tickets
    are updated shows each matching ticket exactly once. Raises ``InvalidCursor``."""
    qs = Ticket.objects.select_related("customer")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if customer_email:
        qs = qs.filter(customer__email=customer_email.strip().lower())
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    if cursor:
        qs = _keyset(qs, cursor, op="<")
    return _page(qs.order_by("-created_at", "-id"), page_size)


def message_list_for_api(*, ticket_id: int, cursor: str = "", page_size: int) -> ApiPage:
    """A ticket's messages, oldest first. Raises ``Ticket.DoesNotExist`` and ``InvalidCursor``."""
    if not Ticket.objects.filter(pk=ticket_id).exists():
        raise Ticket.DoesNotExist(ticket_id)
    qs = Message.objects.filter(ticket_id=ticket_id)
    if cursor:
        qs = _keyset(qs, cursor, op=">")
    return _page(qs.order_by("created_at", "id"), page_size)


def draft_list_for_api(
    *,
    status: str = "",
    ticket_id: int | None = None,
    since: datetime | None = None,
    cursor: str = "",
    page_size: int,
) -> ApiPage:
    """Drafts newest first by (created_at, id), with who decided them, the message each answers
    and the reply it became: one query per page. Raises ``InvalidCursor``."""
    qs = Draft.objects.select_related("decided_by", "in_reply_to", "sent_message")
    if status:
        qs = qs.filter(status=status)
    return _newest_first(qs, ticket_id=ticket_id, since=since, cursor=cursor, page_size=page_size)


def draft_for_api(*, draft_id: int) -> Draft:
    """One draft as the API shows it. Raises ``Draft.DoesNotExist``."""
    return Draft.objects.select_related("decided_by", "in_reply_to", "sent_message").get(
        pk=draft_id
    )


def feedback_event_list_for_api(
    *,
    kind: str = "",
    ticket_id: int | None = None,
    since: datetime | None = None,
    cursor: str = "",
    page_size: int,
) -> ApiPage:
    """Agents' decisions on AI output, newest first by (created_at, id); one query per page.
    Raises ``InvalidCursor``."""
    qs = FeedbackEvent.objects.select_related("actor")
    if kind:
        qs = qs.filter(kind=kind)
    return _newest_first(qs, ticket_id=ticket_id, since=since, cursor=cursor, page_size=page_size)


def _newest_first(
    qs, *, ticket_id: int | None, since: datetime | None, cursor: str, page_size: int
) -> ApiPage:
    """One page of rows of a ticket (or all), created since `since`, newest first by
    (created_at, id) after `cursor`. Raises ``InvalidCursor``."""
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if cursor:
        qs = _keyset(qs, cursor, op="<")
    return _page(qs.order_by("-created_at", "-id"), page_size)
