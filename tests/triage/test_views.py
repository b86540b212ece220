"""Triage pages: agents correct labels on the ticket page; supervisors work the escalation queue."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import FeedbackEvent
from supportdesk.models import Ticket
from tests.factories import CustomerFactory, EscalationFactory, TriageResultFactory
from triage.models import Escalation

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def triaged(categories):
    return TriageResultFactory(
        category="delivery",
        emotion="neutral",
        message__ticket__category=categories["delivery"],
        message__ticket__emotion="neutral",
        message__ticket__urgency=Ticket.Urgency.LOW,
    )


def _correct(client, ticket_id: int, *, htmx: bool = True, **data):
    return client.post(
        reverse("triage-correct", args=[ticket_id]),
        {"category": "refund", "emotion": "angry", "urgency": "high", **data},
        headers=HTMX if htmx else {},
    )


def test_correction_returns_the_updated_summary(agent_client, triaged):
    response = _correct(agent_client, triaged.ticket_id)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<aside id="ticket-summary"')
    assert "Corrected by an agent: Refunds · angry · high" in page
    assert FeedbackEvent.objects.get().kind == "triage_corrected"


def test_correction_without_htmx_redirects_to_the_ticket(agent_client, triaged):
    response = _correct(agent_client, triaged.ticket_id, htmx=False)

    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{triaged.ticket_id}/"
    assert Ticket.objects.get(pk=triaged.ticket_id).emotion == "angry"


def test_invalid_correction_is_400_and_changes_nothing(agent_client, triaged):
    response = _correct(agent_client, triaged.ticket_id, emotion="furious", category="nope")

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    ticket = Ticket.objects.get(pk=triaged.ticket_id)
    assert (ticket.category.slug, ticket.emotion) == ("delivery", "neutral")
    assert not FeedbackEvent.objects.exists()


def test_correction_to_out_of_scope_clears_the_category(agent_client, triaged):
    _correct(agent_client, triaged.ticket_id, category="")

    assert Ticket.objects.get(pk=triaged.ticket_id).category is None


def test_correction_needs_a_post_and_the_agent_role(agent_client, client, outsider, triaged):
    assert agent_client.get(reverse("triage-correct", args=[triaged.ticket_id])).status_code == 405
    client.force_login(outsider)
    assert _correct(client, triaged.ticket_id).status_code == 403
    assert Ticket.objects.get(pk=triaged.ticket_id).emotion == "neutral"


def test_correcting_a_missing_ticket_is_404(agent_client):
    assert _correct(agent_client, 999).status_code == 404


# -- supervisors -------------------------------------------------------------------------------


def test_supervisor_queue_lists_open_escalations_with_why(supervisor_client):
    escalation = EscalationFactory(
        reason="VIP customer; High urgency",
        ticket__subject="Charged twice",
        ticket__customer=CustomerFactory(name="Margaret Okafor", is_vip=True),
    )
    EscalationFactory(reason="already handled", acknowledged_at=escalation.created_at)

    page = supervisor_client.get(reverse("supervisor")).content.decode()

    assert f'id="escalation-{escalation.pk}"' in page
    assert "Charged twice" in page
    assert "<strong>Why:</strong> VIP customer; High urgency" in page
    assert "already handled" not in page
    assert 'aria-label="1 open escalation">1</span>' in page  # the badge in the top bar


def test_supervisor_queue_htmx_request_returns_only_the_list(supervisor_client):
    EscalationFactory()

    page = supervisor_client.get(reverse("supervisor"), headers=HTMX).content.decode()

    assert page.lstrip().startswith('<section id="escalation-list"')
    assert "<html" not in page


def test_assign_to_me_acknowledges_and_assigns(supervisor_client, supervisor):
    escalation = EscalationFactory()

    response = supervisor_client.post(
        reverse("escalation-ack", args=[escalation.pk]), {"assign": "1"}, headers=HTMX
    )

    assert response.status_code == 200
    assert "No open escalations." in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.acknowledged_by == supervisor
    assert Ticket.objects.get(pk=escalation.ticket_id).assignee == supervisor


def test_acknowledge_without_assign_leaves_the_ticket_unassigned(supervisor_client):
    escalation = EscalationFactory()

    response = supervisor_client.post(reverse("escalation-ack", args=[escalation.pk]))

    assert response.status_code == 302
    assert response["Location"] == "/supervisor/"
    assert Escalation.objects.get().acknowledged_at is not None
    assert Ticket.objects.get(pk=escalation.ticket_id).assignee is None


def test_agents_cannot_acknowledge_escalations(agent_client):
    escalation = EscalationFactory()

    response = agent_client.post(reverse("escalation-ack", args=[escalation.pk]), headers=HTMX)

    assert response.status_code == 403
    assert Escalation.objects.get().acknowledged_at is None
