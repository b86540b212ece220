"""Reads of the knowledge base, including the in-process retrieval index."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from knowledge.models import Article, ArticleVersion, FAQSuggestion, KnowledgeGap
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


def suggestions_for_review(*, status: str, order: str) -> QuerySet[FAQSuggestion]:
    """Suggestions of one status for the review list: most asked first (then most recent),
    or most recent first (`order` "recent")."""
    # The centroid's vectors are large: only its per-language counts are read.
    rows = (
        FAQSuggestion.objects.filter(status=status)
        .defer("centroid")
        .annotate(language_counts=KeyTransform("languages", "centroid"))
    )
    if order == "recent":
        return rows.order_by("-last_gap_at", "-pk")
    return rows.order_by("-gap_count", "-last_gap_at", "-pk")


@dataclass(frozen=True)
class Trend:
    this_week: int
    last_week: int

    @property
    def rising(self) -> bool:
        """Asked more this week than the week before, when it was asked then too (a question
        new this week is not "rising" yet)."""
        return self.this_week > self.last_week > 0


def suggestion_trends(ids: list[int]) -> dict[int, Trend]:
    """Gaps of the last 7 days and of the 7 before, per suggestion: one query for a page."""
    now = timezone.now()
    week, fortnight = now - timedelta(days=7), now - timedelta(days=14)
    rows = (
        KnowledgeGap.objects.filter(suggestion_id__in=ids, created_at__gte=fortnight)
        .values("suggestion_id")
        .annotate(
            this_week=Count("pk", filter=Q(created_at__gte=week)),
            last_week=Count("pk", filter=Q(created_at__lt=week)),
        )
    )
    found = {r["suggestion_id"]: Trend(r["this_week"], r["last_week"]) for r in rows}
    return {pk: found.get(pk, Trend(0, 0)) for pk in ids}


def suggestion_languages(suggestion: FAQSuggestion) -> list[tuple[str, int]]:
    """(language, gaps) of the suggestion, most asked first."""
    if hasattr(suggestion, "language_counts"):
        counts = suggestion.language_counts or {}
    else:
        counts = (suggestion.centroid or {}).get("languages", {})
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def suggestion_gaps(suggestion: FAQSuggestion) -> QuerySet[KnowledgeGap]:
    return (
        KnowledgeGap.objects.filter(suggestion=suggestion)
        .select_related("ticket", "article")
        .order_by("-created_at", "-pk")
    )


def merge_candidates(suggestion: FAQSuggestion) -> list[Article]:
    """The published articles the suggestion is most likely an addition to: those it was
    flagged against, then those its questions were weakly matched to (at most five)."""
    ids = [flag["article_id"] for flag in suggestion.flags or []]
    ids += list(
        KnowledgeGap.objects.filter(suggestion=suggestion, article__isnull=False)
        .values_list("article_id", flat=True)
        .distinct()[:5]
    )
    ids = list(dict.fromkeys(ids))[:5]
    found = {a.pk: a for a in Article.objects.filter(pk__in=ids, published=True)}
    return [found[pk] for pk in ids if pk in found]


def next_pending_suggestion(after: FAQSuggestion) -> FAQSuggestion | None:
    """The pending suggestion to review after `after`, in the review list's default order."""
    return (
        suggestions_for_review(status=FAQSuggestion.Status.PENDING, order="asked")
        .exclude(pk=after.pk)
        .first()
    )


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
