"""File raw e-mail from a file or stdin: one message, or every message of an mbox."""

from __future__ import annotations

import mailbox
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from supportdesk.intake.email_in import EmailParseError
from supportdesk.intake.ingest import EmailRejected, IngestResult, email_ingest


class Command(BaseCommand):
    help = (
        "Ingest raw RFC 5322 e-mail from FILE (or - for stdin); --mbox for a whole mailbox. "
        "Prints one line per message; exits 1 if any message failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="path, or - for stdin")
        parser.add_argument("--mbox", action="store_true", help="the input is an mbox file")

    def handle(self, *args, file: str, mbox: bool, **options):
        data = self._read(file)
        failed = 0
        for number, raw in enumerate(_mbox_messages(data) if mbox else [data], start=1):
            try:
                result = email_ingest(raw=raw)
            except (EmailParseError, EmailRejected) as exc:
                failed += 1
                self.stderr.write(f"message {number}: error: {exc}")
                continue
            self.stdout.write(f"message {number}: {_describe(result)}")
        if failed:
            raise SystemExit(1)

    def _read(self, file: str) -> bytes:
        if file == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc


def _mbox_messages(data: bytes) -> Iterator[bytes]:
    # mailbox needs a path; a copy also lets stdin be an mbox.
    with tempfile.NamedTemporaryFile(suffix=".mbox") as handle:
        handle.write(data)
        handle.flush()
        box = mailbox.mbox(handle.name, create=False)
        try:
            for key in box.iterkeys():
                yield box.get_bytes(key)
        finally:
            box.close()


def _describe(result: IngestResult) -> str:
    if result.bounce:
        target = f"ticket #{result.ticket.pk}" if result.ticket else "no ticket (dropped)"
        return f"{target} bounce"
    outcome = "duplicate" if result.duplicate else "new" if result.created_ticket else "appended"
    return f"ticket #{result.ticket.pk} {outcome}"
