"""FAQ suggestions become KB articles only through a person's approval."""

from __future__ import annotations

import pytest
from django.urls import reverse

from knowledge.models import Article, FAQSuggestion
from knowledge.selectors import kb_index
from knowledge.services import (
    SuggestionNotPending,
    faq_suggestion_approve,
    faq_suggestion_reject,
)
from tests.factories import FAQSuggestionFactory

pytestmark = pytest.mark.django_db


def test_approve_publishes_an_article_the_drafts_can_cite(desk_admin):
    suggestion = FAQSuggestionFactory(
        question="Do you ship to Antarctica?\nI work at a research station.", language="en"
    )

    article = faq_suggestion_approve(
        suggestion_id=suggestion.pk,
        actor=desk_admin,
        answer="We ship to Antarctic research stations through their national programme's depot.",
    )

    assert article.published
    assert article.title == "Do you ship to Antarctica?"
    assert article.language == "en"
    suggestion.refresh_from_db()
    assert suggestion.status == FAQSuggestion.Status.APPROVED
    assert (suggestion.article, suggestion.reviewed_by) == (article, desk_admin)
    assert suggestion.reviewed_at is not None
    hits = kb_index().search("shipping to an Antarctic research station", language="en")
    assert [hit.article_id for hit in hits] == [article.pk]


def test_approve_uses_the_written_proposed_answer_and_a_given_title(desk_admin):
    suggestion = FAQSuggestionFactory(proposed_answer="  Yes, within 3 weeks.  ", language="")

    article = faq_suggestion_approve(
        suggestion_id=suggestion.pk, actor=desk_admin, title="Antarctic shipping"
    )

    assert (article.title, article.body, article.language) == (
        "Antarctic shipping",
        "Yes, within 3 weeks.",
        "en",
    )


def test_approving_twice_is_refused_and_publishes_once(desk_admin):
    suggestion = FAQSuggestionFactory(proposed_answer="Yes.")
    faq_suggestion_approve(suggestion_id=suggestion.pk, actor=desk_admin)

    with pytest.raises(SuggestionNotPending, match="already approved"):
        faq_suggestion_approve(suggestion_id=suggestion.pk, actor=desk_admin)

    assert Article.objects.count() == 1


def test_approving_without_an_answer_is_refused(desk_admin):
    suggestion = FAQSuggestionFactory(proposed_answer="   ")

    with pytest.raises(ValueError, match="Write the answer"):
        faq_suggestion_approve(suggestion_id=suggestion.pk, actor=desk_admin, answer="")

    assert not Article.objects.exists()
    assert FAQSuggestion.objects.get().status == FAQSuggestion.Status.PENDING


def test_reject_closes_the_suggestion_without_an_article(desk_admin):
    suggestion = FAQSuggestionFactory()

    with pytest.raises(ValueError, match="Say why"):
        faq_suggestion_reject(suggestion_id=suggestion.pk, actor=desk_admin, reason=" ")
    faq_suggestion_reject(
        suggestion_id=suggestion.pk, actor=desk_admin, reason="A one-off: we never ship there."
    )

    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.reviewed_by) == ("rejected", desk_admin)
    assert suggestion.reject_reason == "A one-off: we never ship there."
    assert not Article.objects.exists()
    assert not FAQSuggestion.objects.filter(status=FAQSuggestion.Status.PENDING).exists()
    with pytest.raises(SuggestionNotPending):
        faq_suggestion_approve(suggestion_id=suggestion.pk, actor=desk_admin, answer="Yes.")


# -- the admin actions -------------------------------------------------------------------------


def _run_action(client, action: str, suggestions):
    return client.post(
        reverse("admin:knowledge_faqsuggestion_changelist"),
        {"action": action, "_selected_action": [s.pk for s in suggestions]},
        follow=True,
    )


def test_admin_approve_action_publishes_answered_suggestions_and_warns_about_the_rest(
    desk_admin_client,
):
    answered = FAQSuggestionFactory(question="Gift wrapping?", proposed_answer="Yes, for $5.")
    unanswered = FAQSuggestionFactory(question="Telescopes?", proposed_answer="")

    response = _run_action(desk_admin_client, "approve", [answered, unanswered])

    assert response.status_code == 200
    page = response.content.decode()
    assert "Published 1 article(s)." in page
    assert "Write the answer before publishing it." in page
    assert Article.objects.get().body == "Yes, for $5."
    answered.refresh_from_db()
    unanswered.refresh_from_db()
    assert (answered.status, unanswered.status) == ("approved", "pending")


def test_admin_reject_action_rejects_and_reports_suggestions_already_decided(
    desk_admin_client, desk_admin
):
    pending = FAQSuggestionFactory()
    decided = FAQSuggestionFactory(proposed_answer="Yes.")
    faq_suggestion_approve(suggestion_id=decided.pk, actor=desk_admin)

    response = _run_action(desk_admin_client, "reject", [pending, decided])

    assert "This suggestion was already approved." in response.content.decode()
    pending.refresh_from_db()
    decided.refresh_from_db()
    assert (pending.status, decided.status) == ("rejected", "approved")


def test_agents_cannot_reach_the_faq_admin(agent_client):
    suggestion = FAQSuggestionFactory(proposed_answer="Yes.")

    response = _run_action(agent_client, "approve", [suggestion])

    assert "Published" not in response.content.decode()
    assert FAQSuggestion.objects.get().status == FAQSuggestion.Status.PENDING
