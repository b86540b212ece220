"""The ticket page's reads: the ticket with its conversation, triage, route and draft, and the
people it names. Each is a fixed number of queries however long the conversation, however many
tickets the customer or the desk has, however many users there are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.utils import timezone

from replies.models import Draft
from supportdesk.models import Message, Note, Presence, Ticket
from triage.models import AgentSession, Escalation, RoutingDecision, TriageResult
from triage.selectors import ONLINE_WINDOW, works_the_inbox

THREAD_LIMIT = 50
CUSTOMER_TICKETS = 8


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    messages: list[Message]
    earlier_messages: int
    triage: object | None
    routing: object | None
    draft: object | None
    open_escalations: list
    notes: list[Note] = field(default_factory=list)
    # The same customer's other tickets, newest first (at most CUSTOMER_TICKETS), and how many.
    customer_tickets: list[Ticket] = field(default_factory=list)
    customer_ticket_count: int = 0
    # Open escalations on the whole desk (the supervisor's badge), when asked for.
    desk_open_escalations: int | None = None

    @property
    def timeline(self) -> list[Message | Note]:
        """Messages and internal notes, oldest first."""
        return sorted([*self.messages, *self.notes], key=lambda item: item.created_at)

    @property
    def satisfaction_estimate(self):
        """The estimated satisfaction of the solved ticket, or None (read with the ticket)."""
        if self.ticket.status != Ticket.Status.SOLVED:
            return None
        return getattr(self.ticket, "satisfaction_estimate", None)

    @property
    def last_reply_id(self) -> int | None:
        """The reply shown last: the estimate sits beside its rating, where the customer's
        verdict on how the ticket ended would be."""
        for message in reversed(self.messages):
            if message.direction == Message.Direction.OUTBOUND:
                return message.pk
        return None

    @property
    def draft_state(self) -> str:
        """Which draft the panel shows, as "<pk>-<status>" ("-" without one): the page's
        data-draft, and what the live socket compares before replacing the editor."""
        draft = self.draft
        return f"{draft.pk}-{draft.status}" if draft else "-"

    @property
    def awaiting_draft(self) -> bool:
        """The customer spoke last and the AI has neither drafted an answer nor given up: the
        panel says a draft is on its way (the socket swaps it in when it is)."""
        return (
            self.draft is None
            and not self.ticket.needs_manual_triage
            and bool(self.messages)
            and self.messages[-1].direction == Message.Direction.INBOUND
        )


def ticket_detail(*, ticket_id: int, count_desk_escalations: bool = False) -> TicketDetail:
    """Everything the ticket page shows about the ticket, in a fixed number of queries however
    long the conversation, however many tickets the customer or the desk has. With
    `count_desk_escalations`, also the desk's open escalations (a supervisor's badge)."""
    same_customer = Ticket.objects.filter(pk=ticket_id).order_by().values("customer_id")[:1]
    # The ticket and its customer's newest other tickets in one read, with how many tickets
    # the customer has: the (customer, created_at) index reads that customer's tickets only.
    rows = (
        Ticket.objects.filter(customer_id=Subquery(same_customer))
        .select_related(
            "customer", "category", "assignee", "sla_hours", "merged_into", "satisfaction_estimate"
        )
        .annotate(customer_ticket_total=Window(Count("pk")))
        .order_by(Case(When(pk=ticket_id, then=Value(0)), default=Value(1)), "-created_at", "-pk")
    )
    if count_desk_escalations:
        rows = rows.annotate(
            desk_open_escalations=Subquery(
                Escalation.objects.filter(acknowledged_at__isnull=True)
                .order_by()
                .values("acknowledged_at")
                .annotate(total=Count("pk"))
                .values("total")[:1]
            )
        )
    rows = list(rows[: CUSTOMER_TICKETS + 1])
    ticket = next((row for row in rows if row.pk == ticket_id), None)
    if ticket is None:
        raise Ticket.DoesNotExist(ticket_id)
    others = [row for row in rows if row.pk != ticket_id]
    prefetch_related_objects([ticket], "tags")
    thread = list(
        Message.objects.filter(ticket=ticket)
        .select_related("author_user", "rating")  # the customer's rating of a reply
        .prefetch_related("attachments")
        .order_by("-created_at", "-pk")[: THREAD_LIMIT + 1]
    )
    earlier = 0
    if len(thread) > THREAD_LIMIT:
        earlier = Message.objects.filter(ticket=ticket).count() - THREAD_LIMIT
        thread = thread[:THREAD_LIMIT]
    thread.reverse()
    for message in thread:
        message.ticket = ticket  # author labels read the customer without another query
    # The notes written over the same stretch of the conversation as the messages shown.
    notes_qs = Note.objects.filter(ticket=ticket).select_related("author")
    if earlier:
        notes_qs = notes_qs.filter(created_at__gte=thread[0].created_at)
    notes = list(notes_qs.order_by("-created_at", "-pk")[:THREAD_LIMIT])
    notes.reverse()
    triage, routing = latest_triage_and_routing(ticket)
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
    count = (ticket.customer_ticket_total or 1) - 1
    desk_open = (ticket.desk_open_escalations or 0) if count_desk_escalations else None
    return TicketDetail(
        ticket,
        thread,
        earlier,
        triage,
        routing,
        draft,
        escalations,
        notes,
        others,
        count,
        desk_open,
    )


def latest_triage_and_routing(
    ticket: Ticket,
) -> tuple[TriageResult | None, RoutingDecision | None]:
    """The ticket's latest triage result and routing decision. Triage and routing are written
    in one transaction (triage.services.triage_apply), so the latest decision names the latest
    result: one query, and a second only when a newer result has no decision (yet)."""
    newer_triage = TriageResult.objects.filter(
        ticket_id=ticket.pk, created_at__gt=OuterRef("triage__created_at")
    )
    routing = (
        RoutingDecision.objects.filter(ticket=ticket)
        .select_related("triage")
        .annotate(newer_triage=Exists(newer_triage))
        .order_by("-created_at", "-pk")
        .first()
    )
    if routing is not None and not routing.newer_triage:
        return routing.triage, routing
    triage = TriageResult.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()
    return triage, routing


# A sign of typing counts this long; pages repeat it every 20 s while their agent types.
PRESENCE_EDITING_SECONDS = 60


@dataclass(frozen=True, order=True)
class Viewer:
    name: str
    editing: bool


@dataclass(frozen=True)
class TicketPeople:
    viewers: list[Viewer]  # who else has the ticket open (by username), and whether they type
    assignees: list  # whom the assign control offers (users), by username


# The assign control offers the assignee, the viewer and at most this many others on shift.
ON_SHIFT_SHOWN = 20


def ticket_people(*, ticket: Ticket, user: AbstractBaseUser) -> TicketPeople:
    """The people the ticket page names, in one query bounded however many users there are:
    who else is viewing the ticket (and typing), and whom the assign control offers: the
    current assignee, the viewer, then people who work the inbox and have the desk open (on
    shift), up to ON_SHIFT_SHOWN. Anyone else is found by the control's search."""
    now = timezone.now()
    viewing = Presence.objects.filter(
        ticket_id=ticket.pk, user_id=OuterRef("pk"), connected_at__gte=now - timedelta(hours=12)
    )
    typing_since = now - timedelta(seconds=PRESENCE_EDITING_SECONDS)
    on_shift = AgentSession.objects.filter(
        user_id=OuterRef("pk"), connected_at__gte=now - ONLINE_WINDOW
    )
    works = works_the_inbox()
    User = get_user_model()
    rows = list(
        User.objects.annotate(
            viewing=Exists(viewing),
            editing=Exists(viewing.filter(editing_at__gte=typing_since)),
            assignable=ExpressionWrapper(works, output_field=BooleanField()),
            rank=Case(
                When(pk=ticket.assignee_id, then=Value(0)),
                When(pk=user.pk, then=Value(1)),
                When(Exists(viewing), then=Value(2)),
                default=Value(3),
            ),
        )
        .filter(
            Q(Exists(viewing))
            | (works & (Q(pk=ticket.assignee_id) | Q(pk=user.pk) | Q(Exists(on_shift))))
        )
        .order_by("rank", "username")[: 2 + 50 + ON_SHIFT_SHOWN]
    )
    viewers = sorted(
        Viewer(person.get_username(), person.editing)
        for person in rows
        if person.viewing and person.pk != user.pk
    )[:50]
    offered = [person for person in rows if person.assignable][: 2 + ON_SHIFT_SHOWN]
    return TicketPeople(viewers, sorted(offered, key=lambda person: person.get_username()))
