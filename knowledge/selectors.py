"""Reads of the knowledge base, including the in-process retrieval index."""

from __future__ import annotations

import threading

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from knowledge.models import Article, ArticleVersion
from knowledge.retrieval import ArticleDoc, KBIndex

_lock = threading.Lock()
_cached: tuple[tuple, KBIndex] | None = None


def kb_index() -> KBIndex:
    """The index over published articles, rebuilt only when an article changed. A translation
    awaiting review is never published (a database constraint); the filter says so again."""
    global _cached
    published = Article.objects.filter(published=True, review=Article.Review.REVIEWED)
    stamp = published.aggregate(n=Count("pk"), last=Max("updated_at"))
    key = (stamp["n"], stamp["last"])
    with _lock:
        if _cached is None or _cached[0] != key:
            docs = [
                ArticleDoc(
                    article_id=a.pk,
                    title=a.title,
                    body=a.body,
                    language=a.language,
                    source_id=a.translation_of_id,
                )
                for a in published.only("pk", "title", "body", "language", "translation_of_id")
            ]
            _cached = (key, KBIndex.build(docs))
        return _cached[1]


# -- the article pages ---------------------------------------------------------------------------

# The list's state filter.
STATE_PUBLISHED = "published"
STATE_UNPUBLISHED = "unpublished"
STATE_REVIEW = "review"  # translations waiting for a reviewer or a translator

# One translation's standing, as the pages show it.
T_PUBLISHED = "published"
T_OUT_OF_DATE = "out_of_date"
T_PROPOSED = "proposed"
T_TO_TRANSLATE = "to_translate"
T_UNPUBLISHED = "unpublished"
T_MISSING = "missing"


def article_list(*, q: str = "", language: str = "", state: str = "") -> QuerySet[Article]:
    """Articles matching the list's filters, each with its source and its translations
    (three queries for any page of any length: the count, the page, the translations)."""
    articles = Article.objects.select_related("translation_of").prefetch_related(
        Prefetch(
            "translations",
            queryset=Article.objects.only(
                "pk", "language", "review", "published", "source_version", "translation_of_id"
            ).order_by("language"),
        )
    )
    if q:
        articles = articles.filter(Q(title__icontains=q) | Q(body__icontains=q))
    if language:
        articles = articles.filter(language__iexact=language)
    if state == STATE_PUBLISHED:
        articles = articles.filter(published=True)
    elif state == STATE_UNPUBLISHED:
        articles = articles.filter(published=False, review=Article.Review.REVIEWED)
    elif state == STATE_REVIEW:
        articles = articles.exclude(review=Article.Review.REVIEWED)
    return articles.order_by("title", "pk")


def translation_state(source: Article, translation: Article | None) -> str:
    if translation is None:
        return T_MISSING
    if translation.review == Article.Review.PROPOSED:
        return T_PROPOSED
    if translation.review == Article.Review.TO_TRANSLATE:
        return T_TO_TRANSLATE
    if not translation.published:
        return T_UNPUBLISHED
    if translation_out_of_date(source, translation):
        return T_OUT_OF_DATE
    return T_PUBLISHED


def translation_out_of_date(source: Article, translation: Article) -> bool:
    return translation.source_version is not None and translation.source_version < source.version


def translations_by_language(
    source: Article, languages: list[str]
) -> list[tuple[str, Article | None]]:
    """(language, its translation or None) for each of `languages`, from the prefetched or
    queried translations of `source`."""
    found = {t.language.lower(): t for t in source.translations.all()}
    return [(code, found.get(code.lower())) for code in languages]


def article_detail(*, pk: int) -> Article | None:
    return (
        Article.objects.select_related("translation_of", "category", "reviewed_by")
        .filter(pk=pk)
        .first()
    )


def article_versions(*, article: Article) -> QuerySet[ArticleVersion]:
    return (
        ArticleVersion.objects.filter(article=article).select_related("author").order_by("-number")
    )


def version_pair(*, article: Article, number: int) -> tuple[ArticleVersion, ArticleVersion] | None:
    """Version `number` and the one before it, or None when there is no earlier version."""
    versions = list(
        ArticleVersion.objects.filter(article=article, number__lte=number).order_by("-number")[:2]
    )
    if len(versions) < 2 or versions[0].number != number:
        return None
    return versions[1], versions[0]
