"""Writes for the knowledge base: FAQ suggestions and their approval into articles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from knowledge.models import Article, FAQSuggestion


def faq_suggestion_create(*, question: str, language: str, source_ticket) -> FAQSuggestion:
    """Runs inside the caller's transaction. One pending suggestion per source ticket."""
    suggestion, _ = FAQSuggestion.objects.get_or_create(
        source_ticket=source_ticket,
        status=FAQSuggestion.Status.PENDING,
        defaults={"question": question, "language": language},
    )
    return suggestion


class SuggestionNotPending(Exception):
    pass


@transaction.atomic
def faq_suggestion_approve(
    *, suggestion_id: int, actor: AbstractBaseUser, title: str = "", answer: str = ""
) -> Article:
    """Publish the suggestion as a KB article. The answer must be written by a person."""
    suggestion = FAQSuggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != FAQSuggestion.Status.PENDING:
        raise SuggestionNotPending(f"suggestion {suggestion_id} is already {suggestion.status}")
    answer = (answer or suggestion.proposed_answer).strip()
    if not answer:
        raise ValueError("write a proposed answer before approving this suggestion")
    article = Article.objects.create(
        title=(title or suggestion.question.splitlines()[0])[:250],
        body=answer,
        language=suggestion.language or "en",
        published=True,
    )
    suggestion.status = FAQSuggestion.Status.APPROVED
    suggestion.article = article
    suggestion.reviewed_by = actor
    suggestion.reviewed_at = timezone.now()
    suggestion.save(update_fields=["status", "article", "reviewed_by", "reviewed_at"])
    return article


@transaction.atomic
def faq_suggestion_reject(*, suggestion_id: int, actor: AbstractBaseUser) -> FAQSuggestion:
    suggestion = FAQSuggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != FAQSuggestion.Status.PENDING:
        raise SuggestionNotPending(f"suggestion {suggestion_id} is already {suggestion.status}")
    suggestion.status = FAQSuggestion.Status.REJECTED
    suggestion.reviewed_by = actor
    suggestion.reviewed_at = timezone.now()
    suggestion.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return suggestion
