"""Writes for SLA timers: start them when a ticket is first routed, and the periodic pass that
moves each ticket to "at risk" or "breached" when its moment comes (supportdesk.sla is the
arithmetic; pausing while a ticket waits on the customer is in
supportdesk.services.ticket_status_change)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from supportdesk.models import Message, Ticket
from supportdesk.services import ticket_touch
from supportdesk.sla import BREACHED, due_dates, next_check_at, policy_for, sla_status
from supportdesk.sla import Clock as SlaClock
from triage.escalations import escalation_raise
from triage.selectors import sla_hours_of, sla_policies


def sla_start(*, ticket: Ticket, policy_id: int | None, plan: str) -> list[str]:
    """Set the ticket's SLA timers from the policy a rule named, else the policy for its
    urgency and plan. Runs on the first routing only (caller holds the row and saves the
    returned fields)."""
    policies = sla_policies()
    policy = next((p for p in policies if p.id == policy_id), None)
    if policy is None:
        policy = policy_for(policies, urgency=ticket.urgency_label, plan=plan)
    if policy is None:
        return []
    first_due, resolution_due = due_dates(policy, started_at=ticket.created_at)
    clock = SlaClock(ticket.created_at, first_due, resolution_due, hours=policy.hours)
    now = timezone.now()
    status = sla_status(clock, now=now)
    ticket.first_response_due_at, ticket.resolution_due_at = first_due, resolution_due
    ticket.sla_hours_id = policy.hours_id
    ticket.sla_state = status.state
    ticket.sla_due_at = first_due
    ticket.sla_next_check_at = next_check_at(clock, now=now) or now
    return [
        "first_response_due_at",
        "resolution_due_at",
        "sla_hours",
        "sla_state",
        "sla_due_at",
        "sla_next_check_at",
    ]


SLA_BATCH = 200


def sla_check(*, now: datetime | None = None) -> int:
    """The periodic SLA pass: refresh every ticket whose next SLA moment has come. Each ticket
    is its own transaction. Returns how many tickets were looked at."""
    now = now or timezone.now()
    seen = 0
    while True:
        ids = list(
            Ticket.objects.filter(sla_next_check_at__lte=now)
            .order_by("sla_next_check_at", "pk")
            .values_list("pk", flat=True)[:SLA_BATCH]
        )
        for ticket_id in ids:
            sla_refresh(ticket_id=ticket_id, now=now)
        seen += len(ids)
        if len(ids) < SLA_BATCH:
            return seen


@transaction.atomic
def sla_refresh(*, ticket_id: int, now: datetime) -> str:
    """Recompute one ticket's SLA state; a new breach raises an escalation. Returns the state."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    first_reply = (
        Message.objects.filter(ticket=ticket, direction=Message.Direction.OUTBOUND)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    clock = SlaClock(
        started_at=ticket.created_at,
        first_response_due=ticket.first_response_due_at,
        resolution_due=ticket.resolution_due_at,
        first_response_at=first_reply,
        solved=ticket.status == Ticket.Status.SOLVED,
        paused_at=ticket.sla_paused_at,
        paused_for=ticket.sla_paused_for,
        hours=sla_hours_of(ticket),
    )
    status = sla_status(clock, now=now)
    previous, previous_due = ticket.sla_state, ticket.sla_due_at
    ticket.sla_next_check_at = next_check_at(clock, now=now)
    if first_reply is None and ticket.first_response_due_at is not None:
        ticket.sla_due_at = ticket.first_response_due_at
    else:  # no countdown while solved or waiting on the customer
        ticket.sla_due_at = ticket.resolution_due_at if clock.resolution_runs else None
    ticket.sla_state = status.state
    fields = ["sla_next_check_at", "sla_due_at", "sla_state"]
    if (status.state, ticket.sla_due_at) != (previous, previous_due):
        ticket_touch(ticket, *fields)  # the inbox row shows the new state live
    else:
        # Nothing a person sees changed: no version bump that could clash with their edit.
        ticket.save(update_fields=fields)
    if status.state == BREACHED and previous != BREACHED:
        escalation_raise(ticket=ticket, reason="SLA breached: " + "; ".join(status.reasons))
    return status.state
