"""Background tasks of the knowledge room. They take plain arguments and call services."""

from __future__ import annotations

import logging

from knowledge.sync.services import configured_sources, kb_sync_run

logger = logging.getLogger(__name__)


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
