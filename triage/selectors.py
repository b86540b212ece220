"""Reads for triage: supervisor escalations, routing rules and the active model versions."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from triage.models import Escalation, ModelVersion, RoutingRule
from triage.routing import Rule, rule_summary, seed_rules

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
        urgencies=frozenset(row.urgencies),
        languages=frozenset(row.languages),
        channels=frozenset(row.channels),
        needs_human=row.needs_human,
        keywords=tuple(row.keywords),
        notify_supervisors=row.notify_supervisors,
        assign_agent_id=row.assign_agent_id,
        set_urgency=row.set_urgency,
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
    rows = RoutingRule.objects.prefetch_related("categories").select_related("assign_agent")
    return [RuleListing(row, rule_summary(_rule_from_row(row))) for row in rows]
