"""Supervisors overruling routing: re-route, escalate, de-escalate, each recorded against the
routing decision, and the report of how often each rule was overruled."""

from __future__ import annotations

import pytest

from feedback.models import FeedbackEvent
from supportdesk.models import Ticket
from tests.factories import RoutingDecisionFactory, TicketFactory
from triage.models import Escalation, RoutingDecision, RoutingRule
from triage.selectors import escalations_open, rule_override_report
from triage.services import (
    routing_override,
    ticket_deescalate,
    ticket_escalate,
    ticket_reassign,
)

pytestmark = pytest.mark.django_db


def _decided_by(rule: RoutingRule, action: str = "auto_reply") -> RoutingDecision:
    return RoutingDecisionFactory(rule=rule, action=action)


def test_a_supervisor_reroutes_to_a_person_and_the_decision_records_it(
    supervisor_client, supervisor
):
    decision = _decided_by(RoutingRule.objects.get(position=30))

    response = supervisor_client.post(
        f"/tickets/{decision.ticket_id}/reroute/", {"action": "human"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert Ticket.objects.get(pk=decision.ticket_id).needs_human
    event = FeedbackEvent.objects.get(routing=decision)
    assert (event.kind, event.actor, event.before, event.after) == (
        "rerouted",
        supervisor,
        {"action": "auto_reply"},
        {"action": "human"},
    )


def test_rerouting_to_supervisors_raises_an_alert(supervisor):
    decision = _decided_by(RoutingRule.objects.get(position=20), action="human")

    routing_override(ticket_id=decision.ticket_id, actor=supervisor, action="supervisor")

    assert escalations_open().filter(ticket_id=decision.ticket_id).exists()


def test_agents_cannot_reroute(agent_client):
    decision = _decided_by(RoutingRule.objects.get(position=30))

    response = agent_client.post(f"/tickets/{decision.ticket_id}/reroute/", {"action": "human"})

    assert response.status_code == 403
    assert not FeedbackEvent.objects.exists()


def test_an_unknown_route_is_refused_with_the_reason(supervisor_client):
    decision = _decided_by(RoutingRule.objects.get(position=30))

    response = supervisor_client.post(
        f"/tickets/{decision.ticket_id}/reroute/", {"action": "moon"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert "Choose a route" in response.content.decode()
    assert not FeedbackEvent.objects.exists()


def test_an_agent_escalates_with_a_reason_and_a_supervisor_de_escalates(agent, supervisor):
    decision = _decided_by(RoutingRule.objects.get(position=20), action="human")

    ticket_escalate(ticket_id=decision.ticket_id, actor=agent, reason="Threatens to sue")
    assert Ticket.objects.get(pk=decision.ticket_id).is_escalated
    assert Escalation.objects.get(ticket_id=decision.ticket_id).reason == (
        "Threatens to sue (by alice)"
    )

    ticket_deescalate(ticket_id=decision.ticket_id, actor=supervisor)

    ticket = Ticket.objects.get(pk=decision.ticket_id)
    assert not ticket.is_escalated
    assert not escalations_open().filter(ticket=ticket).exists()
    kinds = list(FeedbackEvent.objects.filter(routing=decision).values_list("kind", flat=True))
    assert sorted(kinds) == ["deescalated", "escalated"]


def test_escalating_without_a_reason_is_refused(agent):
    ticket = TicketFactory()

    with pytest.raises(ValueError, match="Say why"):
        ticket_escalate(ticket_id=ticket.pk, actor=agent, reason="  ")
    assert not Escalation.objects.exists()


def test_the_report_shows_how_often_each_rule_was_overruled(supervisor, agent, other_agent):
    routine = RoutingRule.objects.get(position=30)
    complex_ = RoutingRule.objects.get(position=20)
    overruled = [_decided_by(routine) for _ in range(4)]
    _decided_by(complex_, action="human")
    routing_override(ticket_id=overruled[0].ticket_id, actor=supervisor, action="human")
    routing_override(ticket_id=overruled[1].ticket_id, actor=supervisor, action="supervisor")
    ticket_reassign(ticket_id=overruled[2].ticket_id, actor=supervisor, assignee_id=agent.pk)

    report = {row.name: row for row in rule_override_report()}

    assert report[routine.name].decisions == 4
    assert report[routine.name].overrides == {"rerouted": 2, "reassigned": 1}
    assert report[routine.name].rate == pytest.approx(0.75)
    assert report[complex_.name].overridden == 0
    assert list(report)[0] == routine.name  # the most overruled rule comes first


def test_the_rule_page_shows_the_override_report(supervisor_client, supervisor):
    decision = _decided_by(RoutingRule.objects.get(position=30))
    routing_override(ticket_id=decision.ticket_id, actor=supervisor, action="human")

    html = supervisor_client.get("/supervisor/rules/").content.decode()

    assert "How often people overruled each rule" in html
    assert "100%" in html


def test_the_ticket_page_offers_supervisors_the_override_controls(supervisor_client, agent_client):
    decision = _decided_by(RoutingRule.objects.get(position=30))
    Ticket.objects.filter(pk=decision.ticket_id).update(is_escalated=True)

    as_supervisor = supervisor_client.get(f"/tickets/{decision.ticket_id}/").content.decode()
    as_agent = agent_client.get(f"/tickets/{decision.ticket_id}/").content.decode()

    assert "Re-route" in as_supervisor and "De-escalate" in as_supervisor
    assert "Re-route" not in as_agent and "De-escalate" not in as_agent
    Ticket.objects.filter(pk=decision.ticket_id).update(is_escalated=False)
    assert (
        "Escalate to a supervisor"
        in agent_client.get(f"/tickets/{decision.ticket_id}/").content.decode()
    )
