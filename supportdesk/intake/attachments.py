"""Writes for message attachments: sanitised names, size limits, files stored with their rows.

Same conventions as ``services.py``. Files are written inside the caller's transaction; if it
rolls back, the rows go with it but a file already written stays on disk, unreferenced, as do
the files of deleted messages; `attachment_files_sweep` (daily) removes files no row points to.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import re
import time
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from supportdesk.intake.email_in import Attachment
from supportdesk.models import Message, MessageAttachment

logger = logging.getLogger(__name__)

FILENAME_MAX = 150
# Rows listed per message, kept or not: a mail with thousands of parts must not flood the page.
LISTED_MAX = 100
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
_SEPARATORS = re.compile(r"[/\\]+")


def filename_sanitise(name: str, *, content_type: str = "") -> str:
    """A file name safe to show and to offer as a download name.

    No path separators or parent references, no control or format characters, no characters
    Windows forbids, no leading dots, at most ``FILENAME_MAX`` characters (keeping the
    extension). Empty names get "attachment" plus an extension guessed from the content type.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    parts = [part.strip() for part in _SEPARATORS.split(name)]
    name = "_".join(part for part in parts if part.strip(". "))
    name = " ".join(_WINDOWS_RESERVED.sub("_", name).split()).lstrip(". ")
    if not name:
        extension = mimetypes.guess_extension(content_type.split(";")[0].strip().lower()) or ""
        name = f"attachment{'.eml' if content_type.startswith('message/') else extension}"
    if len(name) > FILENAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = stem[: FILENAME_MAX - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:FILENAME_MAX]
    return name


@transaction.atomic
def message_attachments_store(
    *, message: Message, attachments: Iterable[Attachment]
) -> list[MessageAttachment]:
    """Store a message's attachments within the limits; list the rest as not kept.

    Limits (settings): ``ATTACHMENT_MAX_BYTES`` per file, ``ATTACHMENTS_MAX_TOTAL_BYTES`` and
    ``ATTACHMENTS_MAX_COUNT`` per message. At most ``LISTED_MAX`` rows are written.
    """
    stored: list[MessageAttachment] = []
    kept_count = kept_bytes = skipped = 0
    for attachment in attachments:
        if len(stored) >= LISTED_MAX:
            skipped += 1
            continue
        data = attachment.data
        size = len(data)
        row = MessageAttachment(
            message=message,
            filename=filename_sanitise(attachment.filename, content_type=attachment.content_type),
            content_type=attachment.content_type[:255],
            size=size,
        )
        if size > settings.ATTACHMENT_MAX_BYTES:
            row.not_kept_reason = f"not kept: too large ({_mb(size)})"
        elif kept_bytes + size > settings.ATTACHMENTS_MAX_TOTAL_BYTES:
            total = _mb(settings.ATTACHMENTS_MAX_TOTAL_BYTES)
            row.not_kept_reason = f"not kept: the message's attachments exceed {total} in total"
        elif kept_count >= settings.ATTACHMENTS_MAX_COUNT:
            count = settings.ATTACHMENTS_MAX_COUNT
            row.not_kept_reason = f"not kept: more than {count} attachments in one message"
        else:
            row.sha256 = hashlib.sha256(data).hexdigest()
            row.file.save(row.filename, ContentFile(data), save=False)
            kept_count += 1
            kept_bytes += size
        stored.append(row)
    if skipped:
        logger.warning("Message %s: %s more attachments not listed", message.pk, skipped)
    return MessageAttachment.objects.bulk_create(stored)


def _mb(size: int) -> str:
    return str(filesizeformat(size)).replace("\xa0", " ")


# A file younger than this may belong to a transaction still in progress: never swept.
SWEEP_GRACE = timedelta(hours=1)
SWEEP_BATCH = 500


def attachment_files_sweep(*, grace: timedelta = SWEEP_GRACE) -> int:
    """Delete attachment files no row points to: files of deleted messages or tickets, and
    files written by a transaction that rolled back. Returns how many were removed.

    Walks the storage directory in batches (memory stays flat however many files there are);
    files modified within `grace` are left alone."""
    root = Path(settings.ATTACHMENTS_DIR)
    if not root.is_dir():
        return 0
    cutoff = time.time() - grace.total_seconds()
    removed = 0
    batch: dict[str, Path] = {}

    def flush() -> int:
        known = set(
            MessageAttachment.objects.filter(file__in=list(batch)).values_list("file", flat=True)
        )
        gone = 0
        for name, path in batch.items():
            if name not in known:
                path.unlink(missing_ok=True)
                gone += 1
        batch.clear()
        return gone

    for directory, _, files in os.walk(root):
        for filename in files:
            path = Path(directory) / filename
            try:
                if path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            batch[path.relative_to(root).as_posix()] = path
            if len(batch) >= SWEEP_BATCH:
                removed += flush()
    if batch:
        removed += flush()
    if removed:
        logger.info("Removed %s attachment files that no message refers to", removed)
    return removed
