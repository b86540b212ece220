"""When the AI could not help, an agent still answers the customer — and can retry the AI."""

from __future__ import annotations

import pytest
from django.core import mail

from replies.models import Draft
from replies.services import reply_send_manual
from supportdesk.models import Message, Ticket
from supportdesk.services import ticket_retry_ai
from tests.factories import DraftFactory, MessageFactory, TicketFactory
from tests.mailbox import written

pytestmark = pytest.mark.django_db


def test_agent_answers_a_ticket_whose_ai_failed(
    agent_client, agent, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(needs_manual_triage=True, ai_error="triage: boom")
    MessageFactory(ticket=ticket, direction=Message.Direction.INBOUND)

    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Retry AI" in page and "Your reply or an internal note" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            f"/tickets/{ticket.pk}/reply/", {"text": "Hello, we are on it."}, HTTP_HX_REQUEST="true"
        )

    assert response.status_code == 200
    outbound = Message.objects.get(ticket=ticket, direction=Message.Direction.OUTBOUND)
    assert outbound.body_text == "Hello, we are on it."
    assert outbound.author_user == agent
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING
    assert [written(m) for m in mail.outbox] == ["Hello, we are on it."]


def test_empty_manual_reply_is_refused_with_a_message(agent_client):
    ticket = TicketFactory()
    response = agent_client.post(
        f"/tickets/{ticket.pk}/reply/", {"text": "  "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "The reply is empty." in response.content.decode()
    assert not Message.objects.filter(ticket=ticket, direction=Message.Direction.OUTBOUND).exists()


def test_a_manual_reply_retires_the_pending_draft(agent):
    draft = DraftFactory()
    reply_send_manual(ticket_id=draft.ticket_id, actor=agent, text="Written by hand")
    draft.refresh_from_db()
    assert draft.status == Draft.Status.SUPERSEDED


def test_retry_clears_the_flag_and_runs_the_pipeline_again(
    stub_triage, categories, django_capture_on_commit_callbacks
):
    stub_triage(category="delivery")
    ticket = TicketFactory(needs_manual_triage=True, ai_error="triage: timeout")
    MessageFactory(
        ticket=ticket, direction=Message.Direction.INBOUND, body_text="Where is my parcel?"
    )

    with django_capture_on_commit_callbacks(execute=True):
        ticket_retry_ai(ticket_id=ticket.pk)

    ticket.refresh_from_db()
    assert not ticket.needs_manual_triage
    assert ticket.ai_error == ""
    assert ticket.category is not None and ticket.category.slug == "delivery"
    assert Draft.objects.filter(ticket=ticket).exists()
