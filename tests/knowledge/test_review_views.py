"""The FAQ review pages: the list an admin works through, and one suggestion's page where it
is edited, published, merged or rejected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from knowledge.models import Article, FAQSuggestion, KnowledgeGap
from tests.factories import ArticleFactory, FAQSuggestionFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _suggestion(question: str, *, asked: int = 1, languages=("en",), **fields) -> FAQSuggestion:
    suggestion = FAQSuggestionFactory(
        question=question,
        gap_count=asked,
        centroid={"languages": {lang: 1 for lang in languages}},
        **fields,
    )
    for i in range(asked):
        message = MessageFactory(body_text=f"{question} ({i})")
        KnowledgeGap.objects.create(
            suggestion=suggestion,
            ticket=message.ticket,
            message=message,
            reason=KnowledgeGap.Reason.NO_ANSWER,
            question=question,
            language=languages[i % len(languages)],
        )
    return suggestion


def test_the_list_shows_the_most_asked_first_with_languages_and_this_weeks_count(
    desk_admin_client,
):
    _suggestion("Do you gift wrap?", asked=2)
    watch = _suggestion(
        "Does the strap fit an Apple Watch?", asked=3, languages=("en", "zh-Hant", "pt")
    )
    old = _suggestion("Do you ship to Mars?", asked=1)
    KnowledgeGap.objects.filter(suggestion=old).update(
        created_at=timezone.now() - timedelta(days=30)
    )

    page = desk_admin_client.get(reverse("knowledge-review")).content.decode()

    assert page.index("Apple Watch") < page.index("gift wrap") < page.index("Mars")
    assert "zh-Hant" in page and "pt" in page
    assert "3 this week" in page
    assert f'href="{reverse("knowledge-suggestion", args=[watch.pk])}"' in page


def test_the_list_reads_a_fixed_number_of_queries_however_many_suggestions(desk_admin_client):
    for i in range(3):
        _suggestion(f"Question {i}?", asked=2)
    with CaptureQueriesContext(connection) as few:
        desk_admin_client.get(reverse("knowledge-review"))
    for i in range(20):
        _suggestion(f"More question {i}?", asked=2)
    with CaptureQueriesContext(connection) as many:
        desk_admin_client.get(reverse("knowledge-review"))

    assert len(many) == len(few)


def test_agents_and_supervisors_cannot_review(agent_client, supervisor_client):
    suggestion = _suggestion("Do you gift wrap?")

    for client in (agent_client, supervisor_client):
        assert client.get(reverse("knowledge-review")).status_code == 403
        response = client.post(
            reverse("knowledge-suggestion", args=[suggestion.pk]),
            {"action": "reject", "reason": "no"},
        )
        assert response.status_code == 403
    assert FAQSuggestion.objects.get().status == FAQSuggestion.Status.PENDING


def test_publishing_creates_the_article_and_moves_on_to_the_next_suggestion(
    desk_admin_client, desk_admin
):
    first = _suggestion("Do you gift wrap?", asked=3, proposed_answer="Yes, for $5.")
    following = _suggestion("Do you sell gift cards?", asked=2)

    response = desk_admin_client.post(
        reverse("knowledge-suggestion", args=[first.pk]),
        {
            "action": "approve",
            "title": "Gift wrapping",
            "answer": "We wrap any order for $5: tick Gift wrap at checkout.",
            "language": "en",
        },
        follow=True,
    )

    article = Article.objects.get(title="Gift wrapping")
    assert article.published and article.body.startswith("We wrap any order for $5")
    assert response.redirect_chain[-1][0] == reverse("knowledge-suggestion", args=[following.pk])
    assert "Published “Gift wrapping”" in response.content.decode()
    first.refresh_from_db()
    assert (first.status, first.article, first.reviewed_by) == ("approved", article, desk_admin)


def test_an_empty_answer_is_refused_with_the_form_kept(desk_admin_client):
    suggestion = _suggestion("Do you gift wrap?")

    response = desk_admin_client.post(
        reverse("knowledge-suggestion", args=[suggestion.pk]),
        {"action": "approve", "title": "Gift wrapping", "answer": "", "language": "en"},
    )

    assert response.status_code == 400
    assert "Gift wrapping" in response.content.decode()
    assert not Article.objects.exists()


def test_saving_keeps_the_admins_text_pending(desk_admin_client):
    suggestion = _suggestion("Do you gift wrap?")

    desk_admin_client.post(
        reverse("knowledge-suggestion", args=[suggestion.pk]),
        {"action": "save", "title": "Gift wrap", "answer": "Yes, $5.", "language": "es"},
    )

    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.proposed_answer, suggestion.language) == (
        "pending",
        "Yes, $5.",
        "es",
    )
    assert suggestion.answer_source == FAQSuggestion.AnswerSource.PERSON


def test_merging_adds_the_answer_to_a_flagged_article_as_a_new_version(desk_admin_client):
    article = ArticleFactory(title="Delivery times", body="We deliver in 3 to 5 days.")
    suggestion = _suggestion(
        "Do you deliver on Saturdays?",
        flags=[{"kind": "duplicate", "article_id": article.pk, "title": "x", "detail": "y"}],
    )
    page = desk_admin_client.get(reverse("knowledge-suggestion", args=[suggestion.pk]))
    assert f'<option value="{article.pk}">Delivery times (en)</option>' in page.content.decode()

    desk_admin_client.post(
        reverse("knowledge-suggestion", args=[suggestion.pk]),
        {"action": "merge", "article": article.pk, "answer": "Yes, on Saturdays until noon."},
    )

    article.refresh_from_db()
    assert article.version == 2
    assert article.body.endswith("Do you deliver on Saturdays?\nYes, on Saturdays until noon.")
    assert FAQSuggestion.objects.get().status == FAQSuggestion.Status.MERGED


def test_rejecting_needs_a_reason_and_keeps_it(desk_admin_client):
    suggestion = _suggestion("Is this a real shop?")

    response = desk_admin_client.post(
        reverse("knowledge-suggestion", args=[suggestion.pk]), {"action": "reject", "reason": ""}
    )
    assert response.status_code == 400
    assert FAQSuggestion.objects.get().status == FAQSuggestion.Status.PENDING

    desk_admin_client.post(
        reverse("knowledge-suggestion", args=[suggestion.pk]),
        {"action": "reject", "reason": "Spam wave, not a question customers ask."},
    )
    suggestion.refresh_from_db()
    assert suggestion.status == FAQSuggestion.Status.REJECTED
    assert suggestion.reject_reason == "Spam wave, not a question customers ask."
    rejected = desk_admin_client.get(reverse("knowledge-review") + "?status=rejected")
    assert "Spam wave" in rejected.content.decode()


def test_a_decided_suggestion_cannot_be_decided_again(desk_admin_client, desk_admin):
    suggestion = _suggestion("Do you gift wrap?", proposed_answer="Yes.")
    desk_admin_client.post(
        reverse("knowledge-suggestion", args=[suggestion.pk]),
        {"action": "approve", "title": "Gift wrap", "answer": "Yes.", "language": "en"},
    )

    response = desk_admin_client.post(
        reverse("knowledge-suggestion", args=[suggestion.pk]),
        {"action": "reject", "reason": "duplicate"},
        follow=True,
    )

    assert "This suggestion was already approved." in response.content.decode()
    assert Article.objects.count() == 1


def test_customer_text_is_escaped(desk_admin_client):
    suggestion = _suggestion("<img src=x onerror=alert(1)> can you help?")

    page = desk_admin_client.get(reverse("knowledge-suggestion", args=[suggestion.pk]))

    assert "<img src=x" not in page.content.decode()
    assert "&lt;img src=x" in page.content.decode()


def test_the_next_page_keeps_the_tab_and_order_the_admin_chose(desk_admin_client, monkeypatch):
    monkeypatch.setattr("knowledge.views.PAGE_SIZE", 2)
    for i in range(3):
        FAQSuggestionFactory(
            question=f"Rejected question {i}", status=FAQSuggestion.Status.REJECTED
        )
    page = desk_admin_client.get(
        reverse("knowledge-review"), {"status": "rejected", "order": "recent"}
    ).content.decode()
    assert 'href="?status=rejected&amp;order=recent&amp;page=2" rel="next"' in page
    assert "Page 1 of 2" in page
