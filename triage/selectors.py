"""Reads for triage: supervisor escalations, routing rules and the active model versions."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from feedback.models import FeedbackEvent
from feedback.suggestions import (
    CATEGORY_THRESHOLD,
    DRAFT_THRESHOLD,
    EVIDENCE_SHOWN,
    OVERRIDE_TARGET,
    RULE_THRESHOLD,
    THRESHOLD,
    WINDOW_DAYS,
    Evidence,
    Observation,
    Suggestion,
    ThresholdMove,
    suggest_threshold,
    window_start,
)
from supportdesk.hours import HOLIDAYS_BACK, Hours, schedule_hours
from supportdesk.models import BusinessHours, Holiday, Team, Ticket
from supportdesk.roles import ADMIN, AGENT, SUPERVISOR
from supportdesk.sla import Policy
from triage.assignment import TeamInfo
from triage.models import (
    AgentSession,
    Escalation,
    ModelVersion,
    RouteAction,
    RoutingDecision,
    RoutingRule,
    RoutingRuleDay,
    RoutingSettings,
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


def escalations_open_page(*, limit: int = ESCALATION_PAGE) -> list[Escalation]:
    """The newest open escalations with their tickets. The page's rows are picked from the
    (acknowledged_at, created_at) index first and joined after: joining every open escalation
    before sorting would make the page cost grow with the backlog."""
    newest = (
        Escalation.objects.filter(acknowledged_at__isnull=True)
        .order_by("-created_at")
        .values("pk")[:limit]
    )
    return list(escalations_open().filter(pk__in=Subquery(newest)))


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
    return get_user_model().objects.filter(works_the_inbox()).order_by("username")


def works_the_inbox() -> Q:
    """A filter on users: active, and in a desk role (or superusers). A correlated EXISTS, not
    a join, so it needs no DISTINCT and combines with other conditions and a LIMIT."""
    User = get_user_model()
    in_a_role = User.groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=[AGENT, SUPERVISOR, ADMIN]
    )
    return Q(is_active=True) & (Q(Exists(in_a_role)) | Q(is_superuser=True))


# The assign control lists this many people at most; a search finds the others.
ASSIGNEE_MATCHES = 20


def assignable_matching(*, query: str, limit: int = ASSIGNEE_MATCHES) -> list:
    """People who work the inbox whose username, name or address contains `query`."""
    query = query.strip()[:150]
    found = get_user_model().objects.filter(works_the_inbox())
    if query:
        found = found.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
        )
    return list(found.order_by("username")[:limit])


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
    """Per rule: how many tickets it decided in the last `days` days (days × 24 hours back from
    now, whatever the reader's time zone) and how often people overruled those decisions
    (re-routed, reassigned, escalated, de-escalated). The whole UTC days of the window are
    summed from the rules' day rows; only the part of a day at the window's start is counted
    from the decisions themselves, so the cost stays that of a day however busy the desk."""
    since = timezone.now() - timedelta(days=days)
    first_whole_day = since.astimezone(UTC).date() + timedelta(days=1)
    edge_end = datetime.combine(first_whole_day, time.min, tzinfo=UTC)
    names = dict(RoutingRule.objects.values_list("pk", "name"))
    counted: dict[int | None, dict[str, int]] = {}

    def add(rule_id: int | None, counter: str, n: int) -> None:
        # The defaults, and rules deleted since (their decisions' rule is NULL now), are one row.
        row = counted.setdefault(rule_id if rule_id in names else None, {})
        row[counter] = row.get(counter, 0) + n

    summed = (
        RoutingRuleDay.objects.filter(day__gte=first_whole_day)
        .values("rule_key")
        .annotate(**{c: Sum(c) for c in RoutingRuleDay.COUNTERS})
    )
    for row in summed:
        for counter in RoutingRuleDay.COUNTERS:
            add(row["rule_key"], counter, row[counter])
    edge = RoutingDecision.objects.filter(created_at__gte=since, created_at__lt=edge_end)
    for rule_id, n in (
        edge.values_list("rule_id")
        .annotate(n=Count("*"))  # not COUNT(id): (created_at, rule) alone answers COUNT(*)
        .values_list("rule_id", "n")
    ):
        add(rule_id, "decisions", n)
    edge_overrides = (
        FeedbackEvent.objects.filter(
            kind__in=FeedbackEvent.ROUTING_OVERRIDES,
            routing__created_at__gte=since,
            routing__created_at__lt=edge_end,
            # Implied (people overrule a decision after it was made, which is also why the
            # day rows count an override on its decision's day), and what lets the
            # (kind, created_at) index read only the window's events instead of every one.
            created_at__gte=since,
        )
        .values("routing__rule_id", "kind")
        .annotate(n=Count("*"))
    )
    for row in edge_overrides:
        add(row["routing__rule_id"], row["kind"], row["n"])
    report = [
        RuleOverrides(
            rule_id,
            names.get(rule_id, "No rule (defaults)"),
            row.get("decisions", 0),
            {kind: row[kind] for kind in RoutingRuleDay.OVERRIDES if row.get(kind)},
        )
        for rule_id, row in counted.items()
        if row.get("decisions")
    ]
    return sorted(report, key=lambda r: (-r.rate, -r.decisions, r.name))


# The newest routed tickets a threshold suggestion reads: bounded at any volume.
THRESHOLD_SAMPLE = 2000
# What people did to a routed ticket's draft or route that says the automation was wrong.
_OVERRIDING = (
    FeedbackEvent.Kind.DRAFT_EDITED,
    FeedbackEvent.Kind.ESCALATED,
    FeedbackEvent.Kind.REROUTED,
)
_AFTER_AUTO_SEND = (FeedbackEvent.Kind.TAKEOVER, FeedbackEvent.Kind.FOLLOW_UP)
_VERDICTS = (FeedbackEvent.Kind.DRAFT_APPROVED, *_OVERRIDING, *_AFTER_AUTO_SEND)
_LOW_CONFIDENCE_CONDITION = "Low category confidence"


def _person_verdict(events: list[dict]) -> tuple[bool, dict] | None:
    """Overridden or not, and the event that says so, from a person's decisions on a held
    draft: the first override wins over an approval; nothing decided yet: None."""
    for row in events:
        if row["kind"] in _OVERRIDING:
            return True, row
    for row in events:
        if row["kind"] == FeedbackEvent.Kind.DRAFT_APPROVED:
            return False, row
    return None


def _observation(row: dict, *, confidence: float, overridden: bool) -> Observation:
    return Observation(
        confidence=confidence,
        overridden=overridden,
        evidence=Evidence(
            event_id=row["pk"],
            ticket_id=row["ticket_id"],
            kind=row["kind"],
            actor=row["actor__username"] or "",
            created_at=row["created_at"],
            reason=row["reason"],
            diff=row["diff"],
            confidence=confidence,
        ),
    )


def _decided_by_confidence_alone(fired_rules: list, rule_id: int) -> bool:
    for fired in fired_rules or ():
        if isinstance(fired, dict) and fired.get("rule_id") == rule_id:
            conditions = fired.get("conditions") or []
            return bool(conditions) and all(
                str(c).startswith(_LOW_CONFIDENCE_CONDITION) for c in conditions
            )
    return False


def routing_threshold_suggestions(*, days: int = WINDOW_DAYS) -> list[Suggestion]:
    """Suggestions to move the confidences that decide how much is automated, from what people
    did with the tickets routed in the last `days` days:

    - the auto-send minimums (category and draft confidence, in the routing settings): an
      automatic reply a person took over or the customer followed up counts against them; a
      draft held back by that minimum alone counts for lowering it when an agent approved it
      as written;
    - the confidence below which the first enabled rule that routes to a human sends tickets to
      a person rather than to one-click approval: one-click drafts agents edited, escalated or
      re-routed count for raising it; tickets that rule sent to a person for low confidence
      alone, whose draft was approved as written, for lowering it.

    Three queries (settings, rule, decisions) and one for their events, whatever the volume."""
    since = window_start(days=days)
    config = RoutingSettings.objects.order_by("pk").first() or RoutingSettings()
    human_rule = (
        RoutingRule.objects.filter(
            enabled=True, action=RouteAction.HUMAN, confidence_below__isnull=False
        )
        .order_by("position", "id")
        .first()
    )
    decisions = list(
        RoutingDecision.objects.filter(
            created_at__gte=since,
            action__in=[RouteAction.AUTO_SEND, RouteAction.AUTO_REPLY, RouteAction.HUMAN],
        )
        .order_by("-created_at", "-pk")
        .values(
            "pk",
            "ticket_id",
            "action",
            "rule_id",
            "fired_rules",
            "auto_send",
            "triage__message_id",
            "triage__category_confidence",
        )[:THRESHOLD_SAMPLE]
    )
    on_draft: dict[int, list[dict]] = {}
    on_route: dict[int, list[dict]] = {}
    events = (
        FeedbackEvent.objects.filter(
            ticket_id__in={d["ticket_id"] for d in decisions},
            kind__in=_VERDICTS,
            created_at__gte=since,
        )
        .order_by("created_at", "pk")
        .values(
            "pk",
            "kind",
            "ticket_id",
            "routing_id",
            "draft__in_reply_to_id",
            "draft__confidence",
            "actor__username",
            "created_at",
            "reason",
            "diff",
        )
    )
    for row in events if decisions else ():
        if row["draft__in_reply_to_id"] is not None:
            on_draft.setdefault(row["draft__in_reply_to_id"], []).append(row)
        if row["routing_id"] is not None:
            on_route.setdefault(row["routing_id"], []).append(row)

    category: list[Observation] = []
    draft: list[Observation] = []
    one_click: list[Observation] = []
    for decision in decisions:
        mine = on_draft.get(decision["triage__message_id"], []) + on_route.get(decision["pk"], [])
        if not mine:
            continue
        confidence = decision["triage__category_confidence"]
        draft_confidence = next(
            (r["draft__confidence"] for r in mine if r["draft__confidence"] is not None), None
        )
        verdict = decision["auto_send"] or {}
        held_by_one = len(verdict.get("blocked_by") or []) == 1
        if decision["action"] == RouteAction.AUTO_SEND and verdict.get("allowed"):
            after = [r for r in mine if r["kind"] in _AFTER_AUTO_SEND]
            row = after[0] if after else mine[0]
            for into, value in ((category, confidence), (draft, draft_confidence)):
                if value is not None:
                    into.append(_observation(row, confidence=value, overridden=bool(after)))
        elif decision["action"] == RouteAction.AUTO_SEND and held_by_one:
            judged = _person_verdict(mine)
            if judged is None:
                continue
            overridden, row = judged
            if confidence < config.auto_send_min_category_confidence:
                category.append(_observation(row, confidence=confidence, overridden=overridden))
            elif (
                draft_confidence is not None
                and draft_confidence < config.auto_send_min_draft_confidence
            ):
                draft.append(_observation(row, confidence=draft_confidence, overridden=overridden))
        elif human_rule is not None and (
            decision["action"] == RouteAction.AUTO_REPLY
            or (
                decision["rule_id"] == human_rule.pk
                and _decided_by_confidence_alone(decision["fired_rules"], human_rule.pk)
            )
        ):
            judged = _person_verdict(mine)
            if judged is not None:
                overridden, row = judged
                one_click.append(_observation(row, confidence=confidence, overridden=overridden))

    found = []
    for observations, current, threshold, rule in (
        (category, config.auto_send_min_category_confidence, CATEGORY_THRESHOLD, None),
        (draft, config.auto_send_min_draft_confidence, DRAFT_THRESHOLD, None),
        (
            one_click,
            human_rule.confidence_below if human_rule else None,
            RULE_THRESHOLD,
            human_rule,
        ),
    ):
        if current is None or not observations:
            continue
        move = suggest_threshold(observations, current=current)
        if move is not None:
            found.append(_threshold_suggestion(move, threshold, rule))
    return found


def _threshold_suggestion(
    move: ThresholdMove, threshold: str, rule: RoutingRule | None
) -> Suggestion:
    words = {
        "threshold": threshold,
        "rule": rule.name if rule else "",
        "current": f"{move.current:.2f}",
        "suggested": f"{move.suggested:.2f}",
        "n": move.band_overridden,
        "approved": len(move.band) - move.band_overridden,
        "m": len(move.band),
        "kept": move.kept,
        "kept_over": move.kept_overridden,
        "target": f"{OVERRIDE_TARGET:.0%}",
    }
    if move.raise_:
        behind = [o for o in move.band if o.overridden]
    else:
        behind = [o for o in move.band if not o.overridden]
    behind.sort(key=lambda o: o.evidence.created_at, reverse=True)
    return Suggestion(
        kind=THRESHOLD,
        count=len(behind),
        evidence=tuple(o.evidence for o in behind[:EVIDENCE_SHOWN]),
        words=words,
        rule_id=rule.pk if rule else None,
        current=move.current,
        suggested=move.suggested,
    )
