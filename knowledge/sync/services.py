"""Writes of the knowledge-base sync: import a source's articles (`article_sync`), export the
FAQ articles written here to Notion (`notion_export`), and both for the configured sources
(`kb_sync_run`, what `manage.py kb_sync` and the periodic task call).

Every title or body change goes through `article_update` (a new version, change "synced");
each article is written in its own transaction, so one that fails leaves nothing half-written
and the others still go through. The rules for articles edited on both sides are in
docs/knowledge-sync.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext

from knowledge.models import Article, ArticleVersion, FAQSuggestion
from knowledge.services import article_create, article_link_external, article_update
from knowledge.sync import (
    CONFLUENCE,
    NOTION,
    SOURCES,
    ZENDESK,
    ExternalArticle,
    SyncSourceError,
    desk_language,
)
from knowledge.sync.confluence import confluence_read
from knowledge.sync.notion import NotionSource
from knowledge.sync.zendesk import zendesk_read

SYNCED = ArticleVersion.Change.SYNCED
CREATED, UPDATED, UNCHANGED, UNPUBLISHED = "created", "updated", "unchanged", "unpublished"


@dataclass
class SyncReport:
    source: str  # "zendesk", "notion", "confluence", or "notion export"
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str | None) -> None:
        if outcome:
            setattr(self, outcome, getattr(self, outcome) + 1)


# -- configuration -----------------------------------------------------------------------------

# The settings each source needs, all of them set (supportdesk/task_table.py checks the same).
REQUIRED_SETTINGS = {
    ZENDESK: ("ZENDESK_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
    NOTION: ("NOTION_TOKEN", "NOTION_DATABASE_ID"),
    CONFLUENCE: ("CONFLUENCE_URL", "CONFLUENCE_USER", "CONFLUENCE_TOKEN", "CONFLUENCE_SPACE"),
}


def source_configured(source: str) -> bool:
    return all(getattr(settings, name) for name in REQUIRED_SETTINGS[source])


def configured_sources() -> list[str]:
    return [source for source in SOURCES if source_configured(source)]


def default_language() -> str:
    supported = settings.SUPPORTED_LANGUAGES
    return desk_language(settings.LANGUAGE_CODE, supported=supported, default=supported[0])


def notion_source() -> NotionSource:
    return NotionSource(
        token=settings.NOTION_TOKEN,
        database_id=settings.NOTION_DATABASE_ID,
        base_url=settings.NOTION_BASE_URL,
        supported=settings.SUPPORTED_LANGUAGES,
        default_language=default_language(),
        timeout=settings.KB_SYNC_TIMEOUT,
    )


def _reader(source: str) -> Callable[[], list[ExternalArticle]]:
    if source == ZENDESK:
        return lambda: zendesk_read(
            url=settings.ZENDESK_URL,
            email=settings.ZENDESK_EMAIL,
            token=settings.ZENDESK_API_TOKEN,
            supported=settings.SUPPORTED_LANGUAGES,
            timeout=settings.ZENDESK_TIMEOUT,
        )
    if source == CONFLUENCE:
        return lambda: confluence_read(
            url=settings.CONFLUENCE_URL,
            user=settings.CONFLUENCE_USER,
            token=settings.CONFLUENCE_TOKEN,
            space=settings.CONFLUENCE_SPACE,
            language=default_language(),
            timeout=settings.KB_SYNC_TIMEOUT,
        )
    return notion_source().read


# -- the whole run -----------------------------------------------------------------------------


def kb_sync_run(
    *, sources: list[str], dry_run: bool = False, export_notion: bool = False
) -> list[SyncReport]:
    """Import from each source in turn (a source that cannot be read is reported and the next
    one still runs). With `export_notion`, the FAQ articles written here go to Notion first,
    from the same reading of the database, and the import that follows finds them in step."""
    reports = []
    for source in sources:
        try:
            if source == NOTION:
                with notion_source() as notion:
                    items = notion.read()
                    if export_notion:
                        exported, items = notion_export(notion=notion, pages=items, dry_run=dry_run)
                        reports.append(exported)
            else:
                items = _reader(source)()
        except SyncSourceError as exc:
            reports.append(SyncReport(source=source, errors=[str(exc)]))
            continue
        reports.append(article_sync(source=source, items=items, dry_run=dry_run))
    return reports


# -- import ------------------------------------------------------------------------------------


def article_sync(*, source: str, items: list[ExternalArticle], dry_run: bool = False) -> SyncReport:
    """Bring the source's articles here, idempotent by (source, external id): a new one is
    created (version 1, "synced"), a changed title or text is a new "synced" version, an
    unchanged one is left alone, and one archived, drafted or gone from the source (`items` is
    the source's complete listing) is unpublished, and published again when it comes back.
    A dry run reports the same counts and writes nothing."""
    report = SyncReport(source=source)
    by_id: dict[str, ExternalArticle] = {}
    for item in items:
        by_id.setdefault(item.external_id, item)
    linked = dict(Article.objects.filter(external_source=source).values_list("external_id", "pk"))
    for external_id, item in by_id.items():
        try:
            report.count(_sync_one(source, item, linked.get(external_id), dry_run=dry_run))
        except (ValueError, DatabaseError) as exc:
            report.errors.append(f"{source} {external_id}: {exc}")
    for external_id, article_id in linked.items():
        if external_id not in by_id:
            try:
                report.count(_unpublish_gone(article_id, dry_run=dry_run))
            except DatabaseError as exc:
                report.errors.append(f"{source} {external_id}: {exc}")
    if not dry_run:
        try:
            _link_translations(source, by_id.values())
        except DatabaseError as exc:
            report.errors.append(f"{source}: {exc}")
    return report


def _link_translations(source: str, items: Iterable[ExternalArticle]) -> None:
    """Articles the source calls translations of another are linked to it here, so the article
    pages show them as its translations. The source keeps them in step: they are published as
    it publishes them, never marked out of date here."""
    wanted = {i.external_id: i.translation_of for i in items if i.translation_of}
    if not wanted:
        return
    ids = dict(
        Article.objects.filter(
            external_source=source, external_id__in=[*wanted, *wanted.values()]
        ).values_list("external_id", "pk")
    )
    with transaction.atomic():
        for external_id, of in wanted.items():
            article_id, source_id = ids.get(external_id), ids.get(of)
            if article_id is None or source_id is None or article_id == source_id:
                continue
            Article.objects.filter(pk=article_id).exclude(translation_of_id=source_id).update(
                translation_of_id=source_id, source_version=None
            )


def _normal(item: ExternalArticle) -> tuple[str, str]:
    """Title and text as `article_update` stores them."""
    return " ".join(item.title.split())[:250], item.body.strip()


def _sync_one(
    source: str, item: ExternalArticle, article_id: int | None, *, dry_run: bool
) -> str | None:
    title, body = _normal(item)
    label = Article.ExternalSource(source).label
    with transaction.atomic():
        if article_id is None:
            if item.archived:
                return None  # a draft never published there is not brought here
            _require_text(title, body, item)
            if not dry_run:
                article_create(
                    title=title,
                    body=body,
                    language=item.language,
                    change=SYNCED,
                    note=gettext("Imported from %(source)s") % {"source": label},
                    external_source=source,
                    external_id=item.external_id,
                    external_url=item.url,
                    external_updated_at=item.updated_at,
                )
            return CREATED
        article = Article.objects.select_for_update().get(pk=article_id)
        current = article.versions.filter(number=article.version).first()
        outcome = UNCHANGED
        if (title, body) != (article.title, article.body) and not _local_edit_wins(
            article, current, item
        ):
            _require_text(title, body, item)
            note = gettext("From %(source)s") % {"source": label}
            if current is not None and current.change != SYNCED:
                note = gettext(
                    "From %(source)s, replacing the edit made here in version %(number)s"
                ) % {"source": label, "number": current.number}
            if not dry_run:
                article_update(
                    article_id=article.pk,
                    author=None,
                    title=title,
                    body=body,
                    change=SYNCED,
                    note=note,
                )
            outcome = UPDATED
        published = not item.archived
        if published != article.published:
            outcome = UPDATED if published else UNPUBLISHED
        link = (item.url[:500], item.updated_at)
        if not dry_run and (
            published != article.published
            or link != (article.external_url, article.external_updated_at)
        ):
            article_link_external(
                article_id=article.pk,
                source=source,
                external_id=item.external_id,
                url=item.url,
                updated_at=item.updated_at,
                published=published,
            )
        return outcome


def _local_edit_wins(
    article: Article, current: ArticleVersion | None, item: ExternalArticle
) -> bool:
    """An article written here (its first version is not a sync) keeps an edit made here after
    the source last changed it: the next export to the source carries it there. An article
    that came from the source takes the source's text (the local edit stays in its history)."""
    if current is None or current.change == SYNCED:
        return False
    first = article.versions.filter(number=1).values_list("change", flat=True).first()
    if first == SYNCED:
        return False
    return item.updated_at is None or current.created_at > item.updated_at


def _require_text(title: str, body: str, item: ExternalArticle) -> None:
    if not title or not body:
        raise ValueError(
            gettext("“%(title)s” has no title or no text; it was not imported")
            % {"title": title or item.external_id}
        )


def _unpublish_gone(article_id: int, *, dry_run: bool) -> str | None:
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article_id)
        if not article.published:
            return None
        if not dry_run:
            article_link_external(
                article_id=article.pk,
                source=article.external_source,
                external_id=article.external_id,
                url=article.external_url,
                updated_at=article.external_updated_at,
                published=False,
            )
        return UNPUBLISHED


# -- export to Notion --------------------------------------------------------------------------


def notion_export(
    *, notion: NotionSource, pages: list[ExternalArticle], dry_run: bool = False
) -> tuple[SyncReport, list[ExternalArticle]]:
    """The FAQ articles approved here go to the Notion database: an unlinked one (published,
    not a translation) becomes a new page and is linked to it, so importing that page finds it
    in step; a linked one is written over its page only when it was edited here after the page
    last changed. Returns the report and `pages` as they now are in Notion."""
    report = SyncReport(source=f"{NOTION} export")
    by_id = {page.external_id: page for page in pages}
    approved = FAQSuggestion.objects.filter(
        status=FAQSuggestion.Status.APPROVED, article__isnull=False
    ).values("article_id")
    faq_articles = Article.objects.filter(pk__in=approved)
    new = faq_articles.filter(external_source="", published=True, translation_of=None)
    created_now = set()
    for article in new.order_by("pk"):
        if dry_run:
            report.created += 1
            continue
        try:
            page = notion.create_page(
                title=article.title, body=article.body.strip(), language=article.language
            )
        except SyncSourceError as exc:
            report.errors.append(f"“{article.title}”: {exc}")
            continue
        try:
            article_link_external(
                article_id=article.pk,
                source=NOTION,
                external_id=page.external_id,
                url=page.url,
                updated_at=page.updated_at,
            )
        except DatabaseError as exc:
            # Unlinked, the page would come back at the next import as a second article: take
            # it out of Notion again, or say which page to delete by hand.
            report.errors.append(_unlinked_page(notion, article=article, page=page, error=exc))
            continue
        by_id[page.external_id] = page
        created_now.add(article.pk)
        report.created += 1
    linked = faq_articles.filter(external_source=NOTION).exclude(pk__in=created_now)
    for article in linked.order_by("pk"):
        page = by_id.get(article.external_id)
        if page is None or page.archived:
            continue  # gone or archived in Notion: the import unpublishes it
        current = article.versions.filter(number=article.version).first()
        in_step = _normal(page) == (article.title, article.body.strip())
        if in_step or current is None or not _local_edit_wins(article, current, page):
            report.unchanged += 1
            continue
        if not dry_run:
            try:
                page = notion.replace_page(
                    page_id=page.external_id,
                    title=article.title,
                    body=article.body.strip(),
                    language=article.language,
                )
                article_link_external(
                    article_id=article.pk,
                    source=NOTION,
                    external_id=page.external_id,
                    url=page.url or article.external_url,
                    updated_at=page.updated_at,
                )
            except (SyncSourceError, DatabaseError) as exc:
                report.errors.append(f"“{article.title}”: {exc}")
                continue
            by_id[page.external_id] = page
        report.updated += 1
    return report, list(by_id.values())


def _unlinked_page(
    notion: NotionSource, *, article: Article, page: ExternalArticle, error: Exception
) -> str:
    try:
        notion.trash_page(page.external_id)
    except SyncSourceError as trash_error:
        return (
            f"“{article.title}”: exported, but the link to its Notion page could not be saved "
            f"({error}), and the page could not be moved to the trash ({trash_error}). Delete "
            f"{page.url or page.external_id} in Notion, or the next import adds it as a second "
            "article."
        )
    return (
        f"“{article.title}”: the link to its new Notion page could not be saved ({error}); the "
        "page was moved to Notion's trash and the next export creates it again."
    )
