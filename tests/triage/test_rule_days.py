"""The rules report reads per-day counts kept by the routing and override services: its figures
must be those of counting the decisions and overrides themselves, at the window's edge too."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from feedback.models import FeedbackEvent
from tests.factories import RoutingDecisionFactory, routing_override_event
from triage.models import RoutingDecision, RoutingRule, RoutingRuleDay
from triage.selectors import REPORT_DAYS, rule_override_report
from triage.services import (
    routing_override,
    routing_rule_days_rebuild,
    ticket_deescalate,
    ticket_escalate,
    ticket_reassign,
)

pytestmark = pytest.mark.django_db


def counted_from_rows(days: int = REPORT_DAYS) -> dict[str | None, tuple[int, dict[str, int]]]:
    """The report as it was before day rows: every decision and override of the window."""
    since = timezone.now() - timedelta(days=days)
    names = dict(RoutingRule.objects.values_list("pk", "name"))
    decided = (
        RoutingDecision.objects.filter(created_at__gte=since)
        .values_list("rule_id")
        .annotate(n=Count("*"))
    )
    report = {names.get(rule_id, "No rule (defaults)"): (n, {}) for rule_id, n in decided}
    overrides = (
        FeedbackEvent.objects.filter(
            kind__in=FeedbackEvent.ROUTING_OVERRIDES,
            routing__created_at__gte=since,
            created_at__gte=since,
        )
        .values_list("routing__rule_id", "kind")
        .annotate(n=Count("*"))
    )
    for rule_id, kind, n in overrides:
        report[names.get(rule_id, "No rule (defaults)")][1][kind] = n
    return report


def reported() -> dict[str | None, tuple[int, dict[str, int]]]:
    return {row.name: (row.decisions, dict(row.overrides)) for row in rule_override_report()}


def decided(rule: RoutingRule | None, at: datetime) -> RoutingDecision:
    return RoutingDecisionFactory(rule=rule, created_at=at)


def seed_a_month(refunds: RoutingRule, vip: RoutingRule, gone: RoutingRule) -> None:
    """Decisions across the window, either side of its start and of UTC midnights near it,
    some without a rule, some of a rule deleted later, overruled in every way."""
    now = timezone.now()
    since = now - timedelta(days=REPORT_DAYS)
    first_midnight = datetime.combine(since.astimezone(UTC).date(), time.min, tzinfo=UTC)
    moments = [
        since - timedelta(minutes=5),  # just out
        since + timedelta(minutes=5),  # just in, counted from the rows
        first_midnight + timedelta(days=1) - timedelta(seconds=1),  # the edge day's last second
        first_midnight + timedelta(days=1),  # the first whole day's first second
        now - timedelta(days=12),
        now - timedelta(hours=1),
        now,
    ]
    for i, at in enumerate(moments):
        for rule in (refunds, vip, None, gone):
            decision = decided(rule, at)
            if i % 2 == 0:
                routing_override_event(
                    kind="rerouted", decision=decision, created_at=at + timedelta(minutes=1)
                )
            if rule is vip:
                routing_override_event(
                    kind="escalated", decision=decision, created_at=at + timedelta(minutes=2)
                )
                routing_override_event(
                    kind="deescalated", decision=decision, created_at=at + timedelta(minutes=3)
                )
    decided(refunds, now - timedelta(days=90))  # long gone, with its override
    routing_override_event(kind="reassigned", decision=decided(refunds, now - timedelta(days=90)))


def test_the_report_matches_counting_the_rows_in_any_time_zone() -> None:
    refunds = RoutingRule.objects.create(name="Refunds to a person", position=1)
    vip = RoutingRule.objects.create(name="VIPs to supervisors", position=2)
    gone = RoutingRule.objects.create(name="Retired rule", position=3)
    seed_a_month(refunds, vip, gone)
    gone.delete()  # its decisions fall to the defaults; so must its day rows

    expected = counted_from_rows()
    for zone in ("UTC", "Pacific/Auckland", "America/Los_Angeles"):
        with timezone.override(zone):
            assert reported() == expected, zone
    # 6 decisions of each rule in the window: the one just before its start is not counted.
    assert expected["Refunds to a person"] == (6, {"rerouted": 3})
    assert expected["VIPs to supervisors"] == (6, {"rerouted": 3, "escalated": 6, "deescalated": 6})
    assert expected["No rule (defaults)"] == (12, {"rerouted": 6})
    assert "Retired rule" not in expected


def test_the_page_shows_the_same_figures_for_a_reader_far_from_utc(supervisor_client) -> None:
    refunds = RoutingRule.objects.create(name="Refunds to a person", position=1)
    vip = RoutingRule.objects.create(name="VIPs to supervisors", position=2)
    gone = RoutingRule.objects.create(name="Retired rule", position=3)
    seed_a_month(refunds, vip, gone)

    with timezone.override("Pacific/Kiritimati"):
        page = supervisor_client.get("/supervisor/rules/").content.decode()

    row = page.split("VIPs to supervisors")[-1].split("</tr>")[0]
    # 15 overrides of 6 decisions: shown as the rows themselves count them.
    assert "<td>6</td><td>15</td><td>250%</td>" in row


def test_the_services_count_what_people_do(supervisor, agent) -> None:
    rule = RoutingRule.objects.get(position=30)
    decision = decided(rule, timezone.now())

    routing_override(ticket_id=decision.ticket_id, actor=supervisor, action="human")
    ticket_reassign(ticket_id=decision.ticket_id, actor=supervisor, assignee_id=agent.pk)
    ticket_escalate(ticket_id=decision.ticket_id, actor=agent, reason="Threatens to sue")
    ticket_deescalate(ticket_id=decision.ticket_id, actor=supervisor)

    day = RoutingRuleDay.objects.get(rule_key=rule.pk)
    counts = [getattr(day, c) for c in RoutingRuleDay.COUNTERS]
    assert counts == [1, 1, 1, 1, 1]
    assert reported()[rule.name] == counted_from_rows()[rule.name]


def test_rebuilding_the_days_recounts_rows_written_around_the_services() -> None:
    refunds = RoutingRule.objects.create(name="Refunds to a person", position=1)
    vip = RoutingRule.objects.create(name="VIPs to supervisors", position=2)
    gone = RoutingRule.objects.create(name="Retired rule", position=3)
    seed_a_month(refunds, vip, gone)
    RoutingRuleDay.objects.update(decisions=0, rerouted=99)

    routing_rule_days_rebuild()

    assert reported() == counted_from_rows()


def test_the_rebuild_command_recounts_the_days() -> None:
    refunds = RoutingRule.objects.create(name="Refunds to a person", position=1)
    vip = RoutingRule.objects.create(name="VIPs to supervisors", position=2)
    gone = RoutingRule.objects.create(name="Retired rule", position=3)
    seed_a_month(refunds, vip, gone)
    RoutingRuleDay.objects.all().delete()
    out = StringIO()

    call_command("rebuild_rule_days", stdout=out)

    assert reported() == counted_from_rows()
    assert f"Recounted {RoutingRuleDay.objects.count()} rule-days" in out.getvalue()
