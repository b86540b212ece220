"""Import knowledge-base articles from Zendesk Help Center, Notion and Confluence, and export
the FAQ articles written here to Notion. See docs/knowledge-sync.md."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from knowledge.sync import NOTION, SOURCES
from knowledge.sync.services import (
    REQUIRED_SETTINGS,
    configured_sources,
    kb_sync_run,
    source_configured,
)


class Command(BaseCommand):
    help = "Bring knowledge-base articles in from external sources (and FAQ articles to Notion)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", choices=[*SOURCES, "all"], default="all")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--export-notion",
            action="store_true",
            help="First create Notion pages for the FAQ articles approved here.",
        )

    def handle(self, *args, source: str, dry_run: bool, export_notion: bool, **options) -> None:
        if source == "all":
            sources = configured_sources()
            if not sources:
                raise CommandError(
                    gettext("No knowledge-base source is configured. Set, for one source: %s")
                    % "; ".join(
                        f"{name}: {', '.join(needed)}" for name, needed in REQUIRED_SETTINGS.items()
                    )
                )
        else:
            sources = [source]
        if export_notion and NOTION not in sources:
            sources.append(NOTION)
        for name in sources:
            if not source_configured(name):
                missing = [s for s in REQUIRED_SETTINGS[name] if not getattr(settings, s)]
                raise CommandError(
                    gettext("%(source)s is not configured: set %(settings)s.")
                    % {"source": name, "settings": ", ".join(missing)}
                )
        reports = kb_sync_run(sources=sources, dry_run=dry_run, export_notion=export_notion)
        if dry_run:
            self.stdout.write(gettext("Dry run: nothing was written."))
        for report in reports:
            self.stdout.write(
                gettext(
                    "%(source)s: %(created)s created, %(updated)s updated, %(unchanged)s "
                    "unchanged, %(unpublished)s unpublished, %(errors)s errors"
                )
                % {**vars(report), "errors": len(report.errors)}
            )
            for error in report.errors:
                self.stderr.write(f"  {error}")
        failed = [report.source for report in reports if report.errors]
        if failed:
            raise CommandError(gettext("Finished with errors in: %s") % ", ".join(failed))
