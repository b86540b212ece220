"""Every ticket has a composer, in every state: a further reply, or an internal note for the team.
A refused action says why and gives the agent their text back."""

from __future__ import annotations

import pytest
from django.core import mail

from replies.models import Draft
from replies.services import draft_send
from supportdesk.models import Message, Note, Ticket
from tests.factories import DraftFactory, MessageFactory, TicketFactory
from tests.mailbox import written

pytestmark = pytest.mark.django_db


def _post(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


def test_after_the_draft_is_sent_the_agent_can_still_write_a_follow_up(
    agent_client, agent, django_capture_on_commit_callbacks
):
    draft = DraftFactory()
    with django_capture_on_commit_callbacks(execute=True):
        draft_send(draft_id=draft.pk, actor=agent)

    page = agent_client.get(f"/tickets/{draft.ticket_id}/").content.decode()
    assert "Draft sent by alice" in page
    assert 'id="compose-text"' in page and "Send reply" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            agent_client,
            f"/tickets/{draft.ticket_id}/reply/",
            {"text": "One more thing: the refund shows within 5 days."},
        )
    assert response.status_code == 200
    sent = Message.objects.filter(ticket_id=draft.ticket_id, direction=Message.Direction.OUTBOUND)
    assert sent.count() == 2
    assert written(mail.outbox[-1]) == "One more thing: the refund shows within 5 days."


def test_an_internal_note_shows_in_the_thread_and_is_never_mailed(
    agent_client, django_capture_on_commit_callbacks
):
    ticket = MessageFactory(body_text="My parcel is late.").ticket
    status = ticket.status
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            agent_client,
            f"/tickets/{ticket.pk}/notes/",
            {"text": "Courier confirmed a delay in the depot; check again Monday."},
        )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Internal note" in html and "Courier confirmed a delay" in html
    assert Note.objects.get(ticket=ticket).author.username == "alice"
    assert mail.outbox == []
    assert not Message.objects.filter(ticket=ticket, direction=Message.Direction.OUTBOUND).exists()
    ticket.refresh_from_db()
    assert ticket.status == status != Ticket.Status.WAITING  # a note is not an answer


def test_a_note_is_offered_next_to_a_proposed_draft(agent_client):
    draft = DraftFactory()
    page = agent_client.get(f"/tickets/{draft.ticket_id}/").content.decode()
    assert 'id="draft-text"' in page
    assert 'id="compose-note"' in page
    assert "Send this instead of the draft" in page


def test_an_empty_note_is_refused_with_its_reason(agent_client):
    ticket = TicketFactory()
    response = _post(agent_client, f"/tickets/{ticket.pk}/notes/", {"text": "   "})
    assert response.status_code == 400
    assert response["X-Desk-Swap-Error"] == "1"  # the page shows this panel, with the reason
    assert "The note is empty." in response.content.decode()
    assert not Note.objects.exists()


def test_losing_a_concurrent_send_keeps_the_agents_edit_and_says_who_sent_first(
    agent_client, other_agent, django_capture_on_commit_callbacks
):
    draft = DraftFactory()
    with django_capture_on_commit_callbacks(execute=True):
        draft_send(draft_id=draft.pk, actor=other_agent)

    mine = "Hello,\n\nI checked: your refund left us today.\n\nBest wishes"
    response = _post(agent_client, f"/drafts/{draft.pk}/send/", {"action": "edit", "text": mine})

    assert response.status_code == 409
    assert response["X-Desk-Swap-Error"] == "1"
    html = response.content.decode()
    assert "already sent by bob" in html
    assert "Your text is kept below" in html
    assert "I checked: your refund left us today." in html  # back in the composer
    assert Draft.objects.get(pk=draft.pk).decided_by == other_agent


def test_escalated_tickets_are_for_supervisors_when_the_policy_says_so(
    settings, agent_client, supervisor_client, django_capture_on_commit_callbacks
):
    settings.ESCALATED_REPLIES = "supervisors"
    ticket = MessageFactory(body_text="This is the third time I write!!").ticket
    Ticket.objects.filter(pk=ticket.pk).update(is_escalated=True)

    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "a supervisor answers it" in page
    assert 'id="compose-send"' not in page and 'id="compose-note"' in page

    refused = _post(agent_client, f"/tickets/{ticket.pk}/reply/", {"text": "Sorry about that."})
    assert refused.status_code == 403
    assert "Sorry about that." in refused.content.decode()  # kept for a note
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()

    with django_capture_on_commit_callbacks(execute=True):
        answered = _post(
            supervisor_client, f"/tickets/{ticket.pk}/reply/", {"text": "I am on it myself."}
        )
    assert answered.status_code == 200
    assert [written(m) for m in mail.outbox] == ["I am on it myself."]


def test_by_default_agents_answer_escalated_tickets_too(
    agent_client, django_capture_on_commit_callbacks
):
    ticket = MessageFactory(body_text="Still nothing?").ticket
    Ticket.objects.filter(pk=ticket.pk).update(is_escalated=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(agent_client, f"/tickets/{ticket.pk}/reply/", {"text": "Checking now."})
    assert response.status_code == 200
    assert [written(m) for m in mail.outbox] == ["Checking now."]
