"""Worker tasks of the knowledge room: they take ids and plain arguments and call services."""

from __future__ import annotations

import logging

from knowledge import gaps, translations
from knowledge.sync.services import configured_sources, kb_sync_run

logger = logging.getLogger(__name__)


def suggestion_refresh(suggestion_id: int) -> None:
    gaps.suggestion_refresh(suggestion_id=suggestion_id)


def translations_propose(article_id: int, languages: list[str] | None = None) -> None:
    """An article was published (or an admin asked): propose its missing translations."""
    translations.translations_propose(article_id=article_id, languages=languages)


def kb_sync() -> None:
    """Every KB_SYNC_MINUTES: import from every configured source (the export to Notion is
    only run by hand, `manage.py kb_sync --export-notion`)."""
    for report in kb_sync_run(sources=configured_sources()):
        logger.info(
            "knowledge sync %s: %s created, %s updated, %s unchanged, %s unpublished",
            report.source,
            report.created,
            report.updated,
            report.unchanged,
            report.unpublished,
        )
        for error in report.errors:
            logger.warning("knowledge sync %s: %s", report.source, error)
