"""Writes for translations of articles: proposed by the language model when one is configured
(a task for a person otherwise), and approved separately before retrieval reads them."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from knowledge.engine import translate
from knowledge.models import Article
from knowledge.services import article_create, article_update
from supportdesk.llm.attempt import llm_attempt
from supportdesk.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

TRANSLATIONS_TASK = "knowledge.tasks.translations_propose"


# -- translations ------------------------------------------------------------------------------


class TranslationNotPending(Exception):
    """The translation is not in the review state the action needs (someone else acted)."""


def translation_languages(source: Article) -> list[str]:
    """The supported languages a source may be translated into: all but its own."""
    own = source.language.lower()
    return [code for code in settings.SUPPORTED_LANGUAGES if code.lower() != own]


def _missing_languages(source: Article, languages: list[str] | None) -> list[str]:
    present = {code.lower() for code in source.translations.values_list("language", flat=True)}
    wanted = translation_languages(source)
    if languages is not None:
        asked = {code.lower() for code in languages}
        wanted = [code for code in wanted if code.lower() in asked]
    return [code for code in wanted if code.lower() not in present]


def translations_propose(*, article_id: int, languages: list[str] | None = None) -> list[Article]:
    """For every supported language (or each of `languages`) the article has no translation
    in yet: a proposal written by the language model when the installation uses one for
    writing, or a task for a person otherwise, and whenever the model gives no usable
    translation (timeout, invalid answer, lost link or placeholder, wrong script, budget used).
    Neither is published: a person approves each one (`translation_approve`).

    A translation of a translation is a translation of its source. Runs outside any
    transaction: a model call must not hold a row lock, and the ledger rows are written in
    autocommit. Each translation is stored in its own short transaction that checks again
    that its language is still missing, so two runs at once propose each language once."""
    source = Article.objects.select_related("translation_of").filter(pk=article_id).first()
    if source is None:
        return []  # deleted before the worker got to it
    if source.translation_of_id is not None:
        source = source.translation_of
    if source.review:
        return []  # an unreviewed article is translated once it is approved
    created = []
    for language in _missing_languages(source, languages):
        proposal, note = _machine_translation(source, language)
        article = _translation_store(
            source_id=source.pk, language=language, proposal=proposal, note=note
        )
        if article is not None:
            created.append(article)
    return created


def translations_propose_later(*, article_id: int, languages: list[str] | None = None) -> None:
    """Runs inside the caller's transaction: the proposals are made by the worker after commit."""
    if languages:
        enqueue_on_commit(TRANSLATIONS_TASK, article_id, list(languages))
    else:
        enqueue_on_commit(TRANSLATIONS_TASK, article_id)


def _machine_translation(
    source: Article, language: str
) -> tuple[translate.Translation | None, str]:
    """The model's translation and "", or None and why a person has to write it."""
    if len(source.title) + len(source.body) > translate.MAX_CHARS:
        return None, gettext("Too long for the language model")
    article = translate.SourceArticle(
        title=source.title,
        body=source.body,
        language=source.language,
        target=language,
        keep=[settings.BRAND_NAME],
    )

    def ask(client, redactor, on_call):
        engine = translate.LLMTranslationEngine(client)
        return engine.translate(article, redactor=redactor, on_call=on_call)

    attempt = llm_attempt(
        purpose="translation", ticket=None, text=f"{source.title}\n{source.body}", call=ask
    )
    if attempt.answer is not None:
        return attempt.answer, ""
    return None, attempt.fallback or gettext("No language model writes translations here")


@transaction.atomic
def _translation_store(
    *, source_id: int, language: str, proposal: translate.Translation | None, note: str
) -> Article | None:
    """Locks the source row, so two runs never both add a language. None when the language
    got a translation meanwhile."""
    source = Article.objects.select_for_update().get(pk=source_id)
    if source.translations.filter(language__iexact=language).exists():
        return None
    if proposal is not None:
        article = article_create(
            title=proposal.title,
            body=proposal.body,
            language=language,
            category=source.category,
            translation_of=source,
            published=False,
            note=gettext("Written by the language model (%(engine)s)")
            % {"engine": proposal.engine_version},
        )
        review, review_note = Article.Review.PROPOSED, gettext("Written by the language model")
    else:
        # A task has no text and so no version yet: the translator's text is version 1.
        article = Article.objects.create(
            title=source.title,
            body="",
            language=language,
            category=source.category,
            translation_of=source,
            published=False,
            version=0,
        )
        review, review_note = Article.Review.TO_TRANSLATE, note
    article.review = review
    article.review_note = review_note[:250]
    article.source_version = source.version
    article.save(update_fields=["review", "review_note", "source_version", "updated_at"])
    return article


def _pending_translation(article_id: int, *states: str) -> Article:
    article = Article.objects.select_for_update().get(pk=article_id)
    if article.translation_of_id is None or article.review not in states:
        raise TranslationNotPending(
            gettext("This translation is no longer waiting for that; reload the page.")
        )
    return article


@transaction.atomic
def translation_write(
    *, article_id: int, title: str, body: str, author: AbstractBaseUser
) -> Article:
    """A person's translation for a task (or a better one for a proposal): a new version,
    proposed for review like the model's. It translates the source as it is now."""
    article = _pending_translation(article_id, Article.Review.TO_TRANSLATE, Article.Review.PROPOSED)
    source_version = (
        Article.objects.filter(pk=article.translation_of_id).values_list("version", flat=True).get()
    )
    article = article_update(
        article_id=article.pk,
        author=author,
        title=title,
        body=body,
        note=gettext("Translated by a person"),
    )
    article.review = Article.Review.PROPOSED
    article.review_note = (gettext("Written by %(name)s") % {"name": author.get_username()})[:250]
    article.source_version = source_version
    article.save(update_fields=["review", "review_note", "source_version", "updated_at"])
    return article


@transaction.atomic
def translation_approve(
    *,
    article_id: int,
    actor: AbstractBaseUser,
    title: str | None = None,
    body: str | None = None,
) -> Article:
    """Publish a proposed translation, with the reviewer's edits (a new version) when they
    made any. From now on retrieval and the answer model read it."""
    article = _pending_translation(article_id, Article.Review.PROPOSED)
    if title is not None or body is not None:
        article = article_update(
            article_id=article.pk,
            author=actor,
            title=title,
            body=body,
            note=gettext("Edited in review"),
        )
    article.review = Article.Review.REVIEWED
    article.review_note = ""
    article.published = True
    article.reviewed_by = actor
    article.reviewed_at = timezone.now()
    article.save(
        update_fields=[
            "review", "review_note", "published", "reviewed_by", "reviewed_at", "updated_at"
        ]
    )  # fmt: skip
    return article


@transaction.atomic
def translation_reject(*, article_id: int, actor: AbstractBaseUser, reason: str = "") -> Article:
    """A proposal not good enough to publish becomes a task for a person. Its text stays, as
    the article's text and in its history, for the translator to start from or replace; it is
    never published."""
    article = _pending_translation(article_id, Article.Review.PROPOSED)
    reason = " ".join(reason.split())
    note = gettext("Proposal rejected by %(name)s") % {"name": actor.get_username()}
    if reason:
        note = f"{note}: {reason}"
    article.review = Article.Review.TO_TRANSLATE
    article.review_note = note[:250]
    article.reviewed_by = actor
    article.reviewed_at = timezone.now()
    article.save(
        update_fields=["review", "review_note", "reviewed_by", "reviewed_at", "updated_at"]
    )
    return article
