"""Write people's decisions on drafts as an evaluation set or an OpenAI fine-tuning file."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from replies.engine.export import OUTCOMES
from replies.exports import (
    FORMATS,
    ExportFilters,
    decisions_count,
    decisions_for_export,
    export_lines,
)
from supportdesk.models import Category

PROGRESS_EVERY = 5000
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


class Command(BaseCommand):
    help = (
        "Export every decision on an AI draft (sent as proposed, edited, written by hand, "
        "auto-sent, escalated) as JSON Lines: an evaluation set (--format eval) or an OpenAI "
        "chat fine-tuning file (--format finetune: only replies a person approved, edited or "
        "wrote). Personal data is redacted. Prints the count at the end."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=FORMATS, help="eval or finetune")
        parser.add_argument(
            "--output", required=True, help="file to write (replaced when done), or - for stdout"
        )
        parser.add_argument("--since", help="decided on or after this day, YYYY-MM-DD")
        parser.add_argument("--until", help="decided on or before this day, YYYY-MM-DD")
        parser.add_argument("--category", default="", help="category slug")
        parser.add_argument(
            "--language", default="", help="language code; zh also matches zh-Hant and zh-Hans"
        )
        parser.add_argument("--outcome", default="", choices=OUTCOMES)

    def handle(self, *args, **options):
        filters = ExportFilters(
            since=_day(options["since"], "--since"),
            until=_day(options["until"], "--until"),
            category=_category(options["category"]),
            language=_language(options["language"]),
            outcome=options["outcome"],
        )
        if filters.since and filters.until and filters.since > filters.until:
            raise CommandError(
                f"--since {filters.since} is after --until {filters.until}: nothing can match."
            )
        output = options["output"]
        to_stdout = output == "-"
        # Progress and the count go to stderr when the export itself is on stdout.
        report = self.stderr if to_stdout else self.stdout
        total = decisions_count(filters=filters)
        lines = export_lines(decisions_for_export(filters=filters), format=options["format"])
        if to_stdout:
            written = self._write(self.stdout, lines, total, report)
        else:
            written = self._write_file(Path(output), lines, total, report)
        kind = "evaluation rows" if options["format"] == "eval" else "fine-tuning examples"
        report.write(f"{written} {kind} from {total} decisions written to {output}.")

    def _write_file(self, path: Path, lines, total: int, report) -> int:
        """Written beside the target and moved into place at the end: an interrupted export
        leaves the previous file, never half of a new one."""
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise CommandError(f"--output {path}: the folder {folder} does not exist.")
        if path.is_dir():
            raise CommandError(f"--output {path} is a folder; give a file name.")
        try:
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
        except OSError as exc:
            raise CommandError(f"--output {path}: cannot write there ({exc.strerror}).") from exc
        try:
            with open(fd, "w", encoding="utf-8") as handle:
                written = self._write(handle, lines, total, report)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return written

    def _write(self, handle, lines, total: int, report) -> int:
        written = 0
        for written, line in enumerate(lines, start=1):
            handle.write(line)
            if written % PROGRESS_EVERY == 0:
                report.write(f"… {written} rows written ({total} decisions to read)")
        return written


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value!r} is not a date; use YYYY-MM-DD.") from None


def _category(slug: str) -> str:
    if not slug:
        return ""
    if not Category.objects.filter(slug=slug).exists():
        known = ", ".join(Category.objects.order_by("slug").values_list("slug", flat=True)[:50])
        raise CommandError(f"--category {slug!r} is no category here; known: {known or 'none'}.")
    return slug


def _language(code: str) -> str:
    if code and not _LANGUAGE_RE.fullmatch(code):
        raise CommandError(f"--language {code!r} is not a language code such as en, ja or zh-Hant.")
    return code
