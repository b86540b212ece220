"""Tickets that waited for an agent, handed out once someone can take them.

Routing (`triage.services._assign`) leaves a ticket unassigned with `Ticket.waiting_team` set
when none of its team's members was online. Those tickets go to the team's online members,
most urgent first and by the team's strategy, while a member has fewer than `AGENT_CAPACITY`
open tickets. That happens as soon as a member opens a desk page (the desk socket's connect)
and every minute (the `assign_waiting` schedule), so a team starting on Monday morning shares
the weekend's tickets instead of the first person in getting all of them, and the rest follow
as people work their queues down.
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from supportdesk.models import Team, Ticket
from supportdesk.queue import enqueue_on_commit
from supportdesk.services import ticket_touch
from triage.assignment import TeamInfo, pick_agent
from triage.models import RoutingDecision
from triage.selectors import agents_online, open_ticket_counts, teams_for_assignment

# Tickets handed out per team in one transaction (the team row stays locked meanwhile).
BATCH = 200


def _waiting() -> QuerySet[Ticket]:
    return Ticket.objects.filter(waiting_team__isnull=False, assignee__isnull=True).exclude(
        status=Ticket.Status.SOLVED
    )


def agent_came_online(*, user_id: int) -> None:
    """After a desk socket opens: hand out the waiting tickets of the user's teams, if any
    (one indexed query when there are none, so every page load may call it)."""
    if _waiting().filter(waiting_team__members=user_id, waiting_team__active=True).exists():
        enqueue_on_commit("triage.tasks.assign_waiting", user_id)


def waiting_tickets_hand_out(*, user_id: int | None = None) -> int:
    """Hand out the waiting tickets of `user_id`'s teams (of every team when None); returns
    how many were assigned."""
    teams = {t.id: t for t in teams_for_assignment()}
    waiting = _waiting()
    if user_id is not None:
        waiting = waiting.filter(waiting_team__members=user_id)
    team_ids = set(waiting.values_list("waiting_team_id", flat=True).distinct())
    return sum(_hand_out(teams[i]) for i in sorted(team_ids) if i in teams)


@transaction.atomic
def _hand_out(info: TeamInfo) -> int:
    team = Team.objects.select_for_update().get(pk=info.id)
    info = replace(info, last_assigned_id=team.last_assigned_id)
    online = agents_online(user_ids=info.member_ids)
    load = open_ticket_counts(user_ids=online)
    capacity = settings.AGENT_CAPACITY
    room = sum(max(0, capacity - load.get(m, 0)) for m in online)
    if room == 0:
        return 0
    tickets = list(
        _waiting()
        .filter(waiting_team=team)
        .select_for_update(skip_locked=True)  # rows a person is changing right now wait
        .order_by("urgency", "created_at", "id")[: min(room, BATCH)]
    )
    names = dict(get_user_model().objects.filter(pk__in=online).values_list("pk", "username"))
    handed = 0
    for ticket in tickets:
        free = frozenset(m for m in online if load.get(m, 0) < capacity)
        if not free:
            break
        pick = pick_agent(info, online_ids=free, open_tickets=load)
        ticket.assignee_id = pick.agent_id
        ticket.waiting_team = None
        ticket_touch(ticket, "assignee", "waiting_team")
        load[pick.agent_id] = load.get(pick.agent_id, 0) + 1
        info = replace(info, last_assigned_id=pick.agent_id)
        _note_on_decision(ticket, team.name, names[pick.agent_id], pick.reason)
        handed += 1
    if handed:
        team.last_assigned_id = info.last_assigned_id
        team.save(update_fields=["last_assigned"])
    return handed


def _note_on_decision(ticket: Ticket, team: str, agent: str, reason: str) -> None:
    """The ticket page shows the assignment from the latest routing decision: say who has it
    now and that it waited, instead of the "nobody is online" it said before."""
    decision = RoutingDecision.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()
    if decision is not None:
        decision.assignment = {
            "team": team,
            "agent": agent,
            "reason": f"{reason}, after waiting for someone to come online",
        }
        decision.save(update_fields=["assignment"])
