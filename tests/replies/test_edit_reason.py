"""Why an agent changed a draft: one click beside the send buttons, kept with the edit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback.models import FeedbackEvent
from replies.models import Draft
from tests.factories import DraftFactory

pytestmark = pytest.mark.django_db


def _send(client, draft, data):
    return client.post(f"/drafts/{draft.pk}/send/", data, HTTP_HX_REQUEST="true")


def test_the_reason_an_agent_clicks_is_kept_with_the_edit(
    agent_client, django_capture_on_commit_callbacks
):
    draft = DraftFactory(text="Hello,\n\nYour refund left us.\n\nBest")
    page = agent_client.get(f"/tickets/{draft.ticket_id}/").content.decode()
    assert 'name="edit_reason" value="wrong_facts"' in page and "Missing step" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = _send(
            agent_client,
            draft,
            {
                "action": "edit",
                "text": "Hello,\n\nYour refund left us on Monday; allow 5 days.\n\nBest",
                "edit_reason": "missing_step",
            },
        )

    assert response.status_code == 200
    event = FeedbackEvent.objects.get(draft=draft)
    assert event.kind == "draft_edited" and event.reason == "missing_step"
    assert event.get_reason_display() == "Missing step"


def test_an_approval_keeps_no_reason_even_if_one_was_clicked(
    agent_client, django_capture_on_commit_callbacks
):
    draft = DraftFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _send(agent_client, draft, {"action": "approve", "edit_reason": "tone"})

    event = FeedbackEvent.objects.get(draft=draft)
    assert event.kind == "draft_approved" and event.reason == ""


def test_an_unknown_reason_is_refused_and_the_edit_is_kept(agent_client):
    draft = DraftFactory()
    mine = "Hello,\n\nA better answer.\n\nBest"

    response = _send(agent_client, draft, {"action": "edit", "text": mine, "edit_reason": "vibes"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose why you changed the draft from the list." in html
    assert "A better answer." in html
    assert Draft.objects.get(pk=draft.pk).status == Draft.Status.PROPOSED
    assert not FeedbackEvent.objects.filter(draft=draft).exists()


def test_the_reasons_read_in_the_agents_language(agent_client):
    draft = DraftFactory()
    agent_client.post(reverse("preferences"), {"language": "ja", "time_zone": ""})
    page = agent_client.get(f"/tickets/{draft.ticket_id}/").content.decode()
    assert "手順の不足" in page
