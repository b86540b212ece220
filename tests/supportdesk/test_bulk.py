"""Bulk actions: assign or solve many inbox tickets, acknowledge many escalations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import FeedbackEvent
from supportdesk.models import Ticket
from tests.factories import EscalationFactory, TicketFactory
from triage.models import Escalation

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_an_agent_assigns_several_tickets_to_a_colleague(agent_client, other_agent):
    picked = TicketFactory.create_batch(3)
    left = TicketFactory()

    response = agent_client.post(
        reverse("inbox-bulk"),
        {"ticket": [t.pk for t in picked], "action": "assign", "assignee": other_agent.pk},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "3 tickets assigned." in response.content.decode()
    assert {t.assignee_id for t in Ticket.objects.filter(pk__in=[t.pk for t in picked])} == {
        other_agent.pk
    }
    assert Ticket.objects.get(pk=left.pk).assignee_id is None


def test_bulk_solve_takes_the_tickets_off_the_active_list(agent_client):
    picked = TicketFactory.create_batch(2)
    html = agent_client.post(
        reverse("inbox-bulk"),
        {"ticket": [t.pk for t in picked], "action": "solve", "status": ""},
        headers=HTMX,
    ).content.decode()

    assert "2 tickets marked solved." in html
    assert all(f'id="ticket-{t.pk}"' not in html for t in picked)  # the list shown is current
    assert set(Ticket.objects.values_list("status", flat=True)) == {Ticket.Status.SOLVED}


def test_nothing_selected_is_refused_with_its_reason(agent_client):
    response = agent_client.post(reverse("inbox-bulk"), {"action": "solve"}, headers=HTMX)
    assert response.status_code == 400
    assert "Select one or more tickets first." in response.content.decode()


def test_a_supervisor_acknowledges_several_escalations_at_once(supervisor_client, supervisor):
    cards = EscalationFactory.create_batch(3)
    kept = EscalationFactory()

    html = supervisor_client.post(
        reverse("escalations-bulk"),
        {"escalation": [e.pk for e in cards], "assign": "1"},
        headers=HTMX,
    ).content.decode()

    assert "3 escalations acknowledged." in html
    assert f'id="escalation-{kept.pk}"' in html
    assert all(f'id="escalation-{e.pk}"' not in html for e in cards)
    taken = Ticket.objects.filter(escalations__in=cards).values_list("assignee_id", flat=True)
    assert set(taken) == {supervisor.pk}
    assert Escalation.objects.filter(acknowledged_at__isnull=True).count() == 1


def test_agents_cannot_use_the_supervisors_bulk_action(agent_client):
    card = EscalationFactory()
    response = agent_client.post(reverse("escalations-bulk"), {"escalation": [card.pk]})
    assert response.status_code == 403
    assert Escalation.objects.get(pk=card.pk).acknowledged_at is None


def test_bulk_assignment_is_recorded_like_one_by_one(agent_client, other_agent):
    from tests.factories import RoutingDecisionFactory

    decision = RoutingDecisionFactory()
    agent_client.post(
        reverse("inbox-bulk"),
        {"ticket": [decision.ticket_id], "action": "assign", "assignee": other_agent.pk},
        headers=HTMX,
    )
    assert FeedbackEvent.objects.filter(kind="reassigned", ticket_id=decision.ticket_id).exists()
