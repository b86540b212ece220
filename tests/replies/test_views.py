"""The draft editor: sources beside the draft with their passages, confidence, regenerate."""

from __future__ import annotations

import pytest

from replies.models import Draft
from replies.services import draft_create, draft_send
from tests.factories import CustomerFactory, MessageFactory, TriageResultFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafted(demo_kb):
    message = MessageFactory(
        ticket__subject="Password",
        ticket__customer=CustomerFactory(name="Ana", plan="paying"),
        body_text="I forgot my password. How do I reset it?",
    )
    TriageResultFactory(message=message, language="en")
    return draft_create(message_id=message.pk)


def test_editor_shows_each_source_with_the_passage_it_quotes(agent_client, drafted, demo_kb):
    page = agent_client.get(f"/tickets/{drafted.ticket_id}/").content.decode()

    article = demo_kb["account-access"]
    assert f'<details id="citation-1"><summary>[1] {article.title}</summary>' in page
    assert '<blockquote class="passage" lang="en">To reset a forgotten password:<br>' in page
    assert f"Confidence: {drafted.confidence_level}</label>" in page
    # Agents read the cited article on the desk's own article page, not in the admin.
    assert f'<a href="/knowledge/articles/{article.pk}/">Open article</a>' in page
    for label in ("Shorter", "More formal", "Add steps"):
        assert f'value="{label.lower().split()[-1]}">{label}</button>' in page


def test_regenerate_shorter_swaps_in_the_new_draft(agent_client, drafted):
    response = agent_client.post(
        f"/drafts/{drafted.pk}/regenerate/", {"instruction": "shorter"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    new = Draft.objects.get(status=Draft.Status.PROPOSED)
    assert new.pk != drafted.pk and len(new.text) < len(drafted.text)
    body = response.content.decode()
    assert 'id="draft-panel"' in body and "regenerated: shorter" in body
    assert "Thanks for reaching out." not in body


def test_regenerating_a_draft_someone_sent_is_a_409_saying_who(agent_client, other_agent, drafted):
    draft_send(draft_id=drafted.pk, actor=other_agent)

    response = agent_client.post(
        f"/drafts/{drafted.pk}/regenerate/", {"instruction": "formal"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 409
    assert "This draft was already sent by bob at" in response.content.decode()


def test_unknown_instruction_is_a_400_with_the_choices(agent_client, drafted):
    response = agent_client.post(
        f"/drafts/{drafted.pk}/regenerate/", {"instruction": "louder"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert "Choose how to change the draft: shorter, more formal, add steps." in (
        response.content.decode()
    )


def test_needs_translation_banner_names_the_source_article(agent_client, demo_kb):
    message = MessageFactory(
        ticket__subject="Invoice",
        ticket__customer=CustomerFactory(name="Ana", plan="paying"),
        body_text="Necesito descargar el invoice PDF de mi pedido",
    )
    TriageResultFactory(message=message, language="es")
    draft = draft_create(message_id=message.pk)

    page = agent_client.get(f"/tickets/{draft.ticket_id}/").content.decode()

    title = demo_kb["download-invoice"].title
    assert "<strong>Needs translation.</strong>" in page
    assert f"quotes “{title}” (en). Translate the quoted part before sending." in page


def test_agents_read_plain_words_and_supervisors_can_open_the_engine_details(
    agent_client, supervisor_client, drafted
):
    agent_page = agent_client.get(f"/tickets/{drafted.ticket_id}/").content.decode()
    supervisor_page = supervisor_client.get(f"/tickets/{drafted.ticket_id}/").content.decode()

    number = f"({drafted.confidence:.2f})"
    assert "confidence</span>" in agent_page  # "Category: … · high confidence"
    assert "Engine details" not in agent_page and " ms · " not in agent_page
    assert number not in agent_page and "· match " not in agent_page
    assert "Engine details" in supervisor_page and " ms · " in supervisor_page
    assert f"Confidence: {drafted.confidence_level} {number}" in supervisor_page
