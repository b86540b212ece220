"""Writes for the knowledge base: articles and their versions, and the review of FAQ
suggestions into articles. Translations are in knowledge/translations.py, knowledge gaps and
their clustering into suggestions in knowledge/gaps.py."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from knowledge.engine import faq
from knowledge.models import Article, ArticleVersion, FAQSuggestion
from supportdesk.queue import enqueue_on_commit

logger = logging.getLogger(__name__)


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
    source_version: int | None = None,
    external_source: str = "",
    external_id: str = "",
    external_url: str = "",
    external_updated_at: datetime | None = None,
) -> Article:
    """Runs inside the caller's transaction. The article and its first version. A translation
    translates its source's current version unless `source_version` says otherwise."""
    if translation_of is not None and source_version is None:
        source_version = translation_of.version
    article = Article.objects.create(
        title=title[:250],
        body=body,
        language=language,
        category=category,
        translation_of=translation_of,
        published=published,
        version=1,
        source_version=source_version,
        external_source=external_source,
        external_id=external_id,
        external_url=external_url[:500],
        external_updated_at=external_updated_at,
    )
    _version_add(article, change=change, note=note, author=author)
    return article


def _version_add(article: Article, *, change: str, note: str, author) -> ArticleVersion:
    """The article's current title and text, kept as its version `article.version`."""
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        change=change,
        note=note[:250],
        author=author,
    )


@transaction.atomic
def article_update(
    *,
    article_id: int,
    author: AbstractBaseUser | None,
    title: str | None = None,
    body: str | None = None,
    change: str = ArticleVersion.Change.EDITED,
    note: str = "",
    source_version: int | None = None,
) -> Article:
    """A new version of the article when its title or body changed; the article as it was
    otherwise. Locks the article row: two editors never get the same version number.
    `source_version`, for a translation, records which version of its source it now
    translates (an editor brought it up to date), whether or not its text changed."""
    article = Article.objects.select_for_update().get(pk=article_id)
    title = article.title if title is None else title.strip()[:250]
    body = article.body if body is None else body.strip()
    if not title or not body:
        raise ValueError(gettext("An article needs a title and a text."))
    if (
        source_version is not None
        and article.translation_of_id
        and article.source_version != source_version
    ):
        article.source_version = source_version
        article.save(update_fields=["source_version", "updated_at"])
    if (title, body) == (article.title, article.body):
        return article
    article.title, article.body = title, body
    article.version = (
        max(article.version, _last_version_number(article)) + 1
    )  # never reuse a number
    article.save(update_fields=["title", "body", "version", "updated_at"])
    _version_add(article, change=change, note=note, author=author)
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


@transaction.atomic
def articles_delete(*, article_ids: list[int]) -> int:
    """Delete articles with the translation work still waiting on them: an unreviewed
    translation (a proposal or a task for a translator) has nothing left to translate. Approved
    translations stay published as articles of their own. Returns the articles deleted."""
    waiting = Article.objects.filter(translation_of__in=article_ids).exclude(review="")
    deleted = waiting.delete()[1].get(Article._meta.label, 0)
    return deleted + Article.objects.filter(pk__in=article_ids).delete()[1].get(
        Article._meta.label, 0
    )


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


class SuggestionNotPending(Exception):
    pass


def _pending(suggestion_id: int) -> FAQSuggestion:
    """The suggestion, locked; raises SuggestionNotPending when someone already decided it."""
    suggestion = FAQSuggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != FAQSuggestion.Status.PENDING:
        raise SuggestionNotPending(
            gettext("This suggestion was already %(status)s.")
            % {"status": suggestion.get_status_display().lower()}
        )
    return suggestion


@transaction.atomic
def faq_suggestion_save(
    *, suggestion_id: int, actor: AbstractBaseUser, title: str, answer: str, language: str
) -> FAQSuggestion:
    """Keep an admin's edit of the proposed entry without deciding it: from now on the title
    and answer are theirs, and new gaps no longer replace them."""
    suggestion = _pending(suggestion_id)
    suggestion.title = title.strip()[:250]
    suggestion.proposed_answer = answer.strip()
    suggestion.language = language or suggestion.language
    suggestion.answer_source = FAQSuggestion.AnswerSource.PERSON
    suggestion.save(update_fields=["title", "proposed_answer", "language", "answer_source"])
    return suggestion


@transaction.atomic
def faq_suggestion_approve(
    *,
    suggestion_id: int,
    actor: AbstractBaseUser,
    title: str = "",
    answer: str = "",
    language: str = "",
    category=None,
) -> Article:
    """Publish the suggestion as a KB article (retrieval reads it at once), then, after commit,
    teach the answer model its questions and draft the waiting tickets again (replies.gaps)."""
    suggestion = _pending(suggestion_id)
    answer = (answer or suggestion.proposed_answer).strip()
    title = (title or suggestion.title or faq.title_from_question(suggestion.question)).strip()
    if not answer:
        raise ValueError(gettext("Write the answer before publishing it."))
    article = article_create(
        title=title,
        body=answer,
        language=language or suggestion.language or "en",
        category=category,
        author=actor,
        note=ngettext(
            "From an FAQ suggestion asked %(count)s time",
            "From an FAQ suggestion asked %(count)s times",
            suggestion.gap_count,
        )
        % {"count": suggestion.gap_count},
    )
    _decided(suggestion, FAQSuggestion.Status.APPROVED, actor=actor, article=article)
    # Its translations are proposed for every other language the desk serves, each approved
    # separately (knowledge/translations.py).
    enqueue_on_commit("knowledge.tasks.translations_propose", article.pk)
    suggestion.title, suggestion.proposed_answer = title, answer
    suggestion.save(update_fields=["title", "proposed_answer"])
    return article


@transaction.atomic
def faq_suggestion_merge(
    *, suggestion_id: int, article_id: int, actor: AbstractBaseUser, answer: str = ""
) -> Article:
    """Add the suggestion's question and answer to an existing article, as a new version of
    it, instead of publishing an article of its own."""
    suggestion = _pending(suggestion_id)
    answer = (answer or suggestion.proposed_answer).strip()
    if not answer:
        raise ValueError(gettext("Write the answer before adding it to an article."))
    article = Article.objects.get(pk=article_id)
    heading = suggestion.title or faq.title_from_question(suggestion.question)
    article = article_update(
        article_id=article.pk,
        author=actor,
        body=f"{article.body.rstrip()}\n\n{heading}\n{answer}",
        change=ArticleVersion.Change.MERGED,
        note=gettext("FAQ suggestion “%(title)s” added") % {"title": heading[:120]},
    )
    _decided(suggestion, FAQSuggestion.Status.MERGED, actor=actor, article=article)
    return article


@transaction.atomic
def faq_suggestion_reject(
    *, suggestion_id: int, actor: AbstractBaseUser, reason: str
) -> FAQSuggestion:
    """Not an FAQ. Later gaps asking the same still join it (and count), without raising it
    again."""
    if not reason.strip():
        raise ValueError(gettext("Say why this is not an FAQ: the reason is kept."))
    suggestion = _pending(suggestion_id)
    suggestion.reject_reason = reason.strip()
    suggestion.save(update_fields=["reject_reason"])
    _decided(suggestion, FAQSuggestion.Status.REJECTED, actor=actor)
    return suggestion


def _decided(
    suggestion: FAQSuggestion, status: str, *, actor: AbstractBaseUser, article=None
) -> None:
    suggestion.status = status
    suggestion.reviewed_by = actor
    suggestion.reviewed_at = timezone.now()
    fields = ["status", "reviewed_by", "reviewed_at"]
    if article is not None:
        suggestion.article = article
        fields.append("article")
    suggestion.save(update_fields=fields)
    if article is not None:
        enqueue_on_commit("replies.tasks.suggestion_published", suggestion.pk)
