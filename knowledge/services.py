"""Writes for the knowledge base: articles and their versions, and FAQ suggestions and their
review into articles."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from knowledge.models import Article, ArticleVersion, FAQSuggestion


def article_create(
    *,
    title: str,
    body: str,
    language: str,
    category=None,
    translation_of: Article | None = None,
    published: bool = True,
    author: AbstractBaseUser | None = None,
    change: str = ArticleVersion.Change.CREATED,
    note: str = "",
    external_source: str = "",
    external_id: str = "",
    external_url: str = "",
    external_updated_at: datetime | None = None,
) -> Article:
    """Runs inside the caller's transaction. The article and its first version."""
    article = Article.objects.create(
        title=title[:250],
        body=body,
        language=language,
        category=category,
        translation_of=translation_of,
        published=published,
        version=1,
        external_source=external_source,
        external_id=external_id,
        external_url=external_url[:500],
        external_updated_at=external_updated_at,
    )
    ArticleVersion.objects.create(
        article=article,
        number=1,
        title=article.title,
        body=body,
        change=change,
        note=note[:250],
        author=author,
    )
    return article


@transaction.atomic
def article_update(
    *,
    article_id: int,
    author: AbstractBaseUser | None,
    title: str | None = None,
    body: str | None = None,
    change: str = ArticleVersion.Change.EDITED,
    note: str = "",
) -> Article:
    """A new version of the article when its title or body changed; the article as it was
    otherwise. Locks the article row: two editors never get the same version number."""
    article = Article.objects.select_for_update().get(pk=article_id)
    title = article.title if title is None else title.strip()[:250]
    body = article.body if body is None else body.strip()
    if not title or not body:
        raise ValueError(gettext("An article needs a title and a text."))
    if (title, body) == (article.title, article.body):
        return article
    article.title, article.body = title, body
    article.version = (
        max(article.version, _last_version_number(article)) + 1
    )  # never reuse a number
    article.save(update_fields=["title", "body", "version", "updated_at"])
    ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=title,
        body=body,
        change=change,
        note=note[:250],
        author=author,
    )
    return article


@transaction.atomic
def article_link_external(
    *,
    article_id: int,
    source: str,
    external_id: str,
    url: str,
    updated_at: datetime | None,
    published: bool | None = None,
) -> Article:
    """Record where the article is kept in step with (knowledge/sync), and publish or unpublish
    it as its source does when `published` is given. Title and body change through
    `article_update` only, so they always get a version."""
    article = Article.objects.select_for_update().get(pk=article_id)
    article.external_source, article.external_id = source, external_id
    article.external_url, article.external_updated_at = url[:500], updated_at
    fields = ["external_source", "external_id", "external_url", "external_updated_at"]
    if published is not None:
        article.published = published
        fields.append("published")
    article.save(update_fields=[*fields, "updated_at"])
    return article


def _last_version_number(article: Article) -> int:
    last = article.versions.order_by("-number").values_list("number", flat=True).first()
    return last or 0


def article_revert(*, article_id: int, number: int, author: AbstractBaseUser) -> Article:
    """Make version `number`'s title and body current again, as a new version: the history
    keeps everything, including what was reverted."""
    old = ArticleVersion.objects.get(article_id=article_id, number=number)
    return article_update(
        article_id=article_id,
        author=author,
        title=old.title,
        body=old.body,
        change=ArticleVersion.Change.REVERTED,
        note=gettext("Back to version %(number)s") % {"number": number},
    )


def faq_suggestion_create(*, question: str, language: str, source_ticket) -> FAQSuggestion:
    """Runs inside the caller's transaction. One pending suggestion per source ticket."""
    suggestion, _ = FAQSuggestion.objects.get_or_create(
        source_ticket=source_ticket,
        status=FAQSuggestion.Status.PENDING,
        defaults={"question": question, "language": language, "gap_count": 1},
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
    article = article_create(
        title=(title or suggestion.title or suggestion.question.splitlines()[0])[:250],
        body=answer,
        language=suggestion.language or "en",
        author=actor,
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
