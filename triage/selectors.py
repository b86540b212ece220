"""Reads for triage: supervisor escalations, routing rules and the active model versions."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from feedback.models import FeedbackEvent
from supportdesk.hours import HOLIDAYS_BACK, Hours, schedule_hours
from supportdesk.models import BusinessHours, Holiday, Team, Ticket
from supportdesk.roles import ADMIN, AGENT, SUPERVISOR
from supportdesk.sla import Policy
from triage.assignment import TeamInfo
from triage.models import (
    AgentSession,
    Escalation,
    ModelVersion,
    RoutingDecision,
    RoutingRule,
    SlaPolicy,
)
from triage.routing import Rule, rule_summary, seed_rules

logger = logging.getLogger(__name__)

ESCALATION_PAGE = 50


def escalations_open() -> QuerySet[Escalation]:
    return (
        Escalation.objects.filter(acknowledged_at__isnull=True)
        .select_related("ticket__customer", "ticket__category", "raised_by")
        .order_by("-created_at")
    )


def escalations_open_count() -> int:
    return Escalation.objects.filter(acknowledged_at__isnull=True).count()


def active_model_versions() -> list[ModelVersion]:
    return list(ModelVersion.objects.filter(is_active=True).order_by("target"))


def _rule_from_row(row: RoutingRule) -> Rule:
    return Rule(
        id=row.pk,
        name=row.name,
        action=row.action,
        match_any=row.match == RoutingRule.Match.ANY,
        stop=row.stop_processing,
        categories=frozenset(c.slug for c in row.categories.all()),
        out_of_scope=row.out_of_scope,
        category_routine=row.category_routine,
        confidence_below=row.confidence_below,
        confidence_at_least=row.confidence_at_least,
        vip=row.vip,
        plans=frozenset(row.plans),
        new_customer=row.new_customer,
        repeat_contact=row.repeat_contact,
        emotions=frozenset(row.emotions),
        min_emotion_confidence=row.min_emotion_confidence,
        min_emotion_intensity=row.min_emotion_intensity,
        urgencies=frozenset(row.urgencies),
        languages=frozenset(row.languages),
        channels=frozenset(row.channels),
        needs_human=row.needs_human,
        keywords=tuple(row.keywords),
        notify_supervisors=row.notify_supervisors,
        assign_agent_id=row.assign_agent_id,
        assign_team_id=row.assign_team_id,
        assign_matching_team=row.assign_matching_team,
        set_urgency=row.set_urgency,
        sla_policy_id=row.sla_policy_id,
    )


def routing_rules_for_evaluation() -> list[Rule]:
    """The enabled rules in order. An installation whose rule table is empty (never seeded,
    or a test database that was flushed) routes by the seed's rules rather than by nothing."""
    rows = list(
        RoutingRule.objects.filter(enabled=True)
        .prefetch_related("categories")
        .order_by("position", "id")
    )
    if not rows and not RoutingRule.objects.exists():
        return list(seed_rules(low_confidence=settings.LOW_CONFIDENCE))
    return [_rule_from_row(row) for row in rows]


@dataclass(frozen=True)
class RuleListing:
    row: RoutingRule
    conditions: list[str]


def routing_rules_listing() -> list[RuleListing]:
    """Every rule (enabled or not) with its conditions in words, for the read-only list."""
    rows = RoutingRule.objects.prefetch_related("categories").select_related(
        "assign_agent", "assign_team"
    )
    return [RuleListing(row, rule_summary(_rule_from_row(row))) for row in rows]


# A socket row older than this is a leftover of a crashed process, not an online agent.
ONLINE_WINDOW = timedelta(hours=12)
ASSIGNABLE_LIMIT = 500


def teams_for_assignment() -> list[TeamInfo]:
    teams = Team.objects.filter(active=True).prefetch_related("members", "categories")
    return [
        TeamInfo(
            id=team.pk,
            name=team.name,
            strategy=team.strategy,
            member_ids=tuple(sorted(m.pk for m in team.members.all() if m.is_active)),
            languages=frozenset(team.languages),
            categories=frozenset(c.slug for c in team.categories.all()),
            last_assigned_id=team.last_assigned_id,
        )
        for team in teams
    ]


def agents_online(*, user_ids: Iterable[int]) -> frozenset[int]:
    """Which of these users have a desk page open (inbox, ticket or supervisor socket)."""
    fresh = timezone.now() - ONLINE_WINDOW
    return frozenset(
        AgentSession.objects.filter(user_id__in=list(user_ids), connected_at__gte=fresh)
        .values_list("user_id", flat=True)
        .distinct()
    )


def open_ticket_counts(*, user_ids: Iterable[int]) -> dict[int, int]:
    """Unsolved tickets per assignee (the ticket_mine index starts with assignee)."""
    rows = (
        Ticket.objects.filter(assignee_id__in=list(user_ids))
        .exclude(status__in=[Ticket.Status.SOLVED, Ticket.Status.WAITING])
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    return {row["assignee_id"]: row["n"] for row in rows}


def assignable_agents() -> QuerySet:
    """Active people who work the inbox, by username."""
    roles = [AGENT, SUPERVISOR, ADMIN]
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=roles) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def sla_policies() -> list[Policy]:
    policies = list(SlaPolicy.objects.filter(active=True).order_by("id"))
    hours = business_hours({p.business_hours_id for p in policies} - {None})
    return [
        Policy(
            id=p.pk,
            name=p.name,
            first_response=timedelta(minutes=p.first_response_minutes),
            resolution=timedelta(minutes=p.resolution_minutes),
            urgency=p.urgency,
            plan=p.plan,
            hours=hours.get(p.business_hours_id),
            hours_id=p.business_hours_id if p.business_hours_id in hours else None,
        )
        for p in policies
    ]


def sla_hours_of(ticket: Ticket) -> Hours | None:
    """The business hours a ticket's SLA timers count; None: around the clock."""
    if ticket.sla_hours_id is None:
        return None
    return business_hours([ticket.sla_hours_id]).get(ticket.sla_hours_id)


def business_hours(ids: Iterable[int]) -> dict[int, Hours]:
    """The schedules with these ids as plain `Hours`, with their recent and future holidays.
    Two queries, whatever the number of schedules."""
    ids = set(ids)
    if not ids:
        return {}
    holidays: dict[int, set] = {pk: set() for pk in ids}
    since = timezone.localdate() - HOLIDAYS_BACK
    for schedule_id, day in Holiday.objects.filter(
        schedule_id__in=ids, date__gte=since
    ).values_list("schedule_id", "date"):
        holidays[schedule_id].add(day)
    schedules = {}
    for row in BusinessHours.objects.filter(pk__in=ids):
        try:
            schedules[row.pk] = schedule_hours(row, holidays[row.pk])
        except ValueError as error:  # saved around the admin's checks: count every hour
            logger.warning("Business hours %r are invalid (%s); counting all hours", row, error)
    return schedules


REPORT_DAYS = 30


@dataclass(frozen=True)
class RuleOverrides:
    rule_id: int | None
    name: str
    decisions: int
    overrides: dict[str, int]

    @property
    def overridden(self) -> int:
        return sum(self.overrides.values())

    @property
    def rate(self) -> float:
        return self.overridden / self.decisions if self.decisions else 0.0


def rule_override_report(*, days: int = REPORT_DAYS) -> list[RuleOverrides]:
    """Per rule: how many tickets it decided in the last `days` days and how often people
    overruled it (re-routed, reassigned, escalated, de-escalated). Two grouped queries."""
    since = timezone.now() - timedelta(days=days)
    decided = dict(
        RoutingDecision.objects.filter(created_at__gte=since)
        .values_list("rule_id")
        .annotate(n=Count("id"))
        .values_list("rule_id", "n")
    )
    overrides: dict[int | None, dict[str, int]] = {}
    rows = (
        FeedbackEvent.objects.filter(
            kind__in=FeedbackEvent.ROUTING_OVERRIDES,
            routing__isnull=False,
            routing__created_at__gte=since,
        )
        .values("routing__rule_id", "kind")
        .annotate(n=Count("id"))
    )
    for row in rows:
        overrides.setdefault(row["routing__rule_id"], {})[row["kind"]] = row["n"]
    names = dict(RoutingRule.objects.values_list("pk", "name"))
    report = [
        RuleOverrides(
            rule_id, names.get(rule_id, "No rule (defaults)"), n, overrides.get(rule_id, {})
        )
        for rule_id, n in decided.items()
    ]
    return sorted(report, key=lambda r: (-r.rate, -r.decisions, r.name))
