"""Optional IMAP polling: unseen mail in one mailbox is filed like any other e-mail.

Each message is fetched with ``BODY.PEEK[]`` (which, unlike ``RFC822``, leaves it unseen),
filed by ``email_ingest``, and flagged ``\\Seen`` only once that ingest has committed. A crash
in between leaves it unseen, so the next poll fetches it again; the unique Message-ID makes
that second delivery a no-op. Mail we can never file (no sender, not an e-mail) is flagged
``\\Seen \\Flagged`` and stays in the mailbox for a person to look at.

Configured by IMAP_URL (``imaps://user:password@host:993/INBOX``) or IMAP_HOST, IMAP_PORT,
IMAP_USER, IMAP_PASSWORD, IMAP_MAILBOX and IMAP_SECURITY (ssl | starttls | none).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction

from supportdesk.intake.email_in import EmailParseError
from supportdesk.intake.ingest import EmailRejected, email_ingest

logger = logging.getLogger(__name__)

_SECURITY = {"imaps": "ssl", "imap": "none", "imap+starttls": "starttls"}
_DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
_LITERAL = re.compile(rb"\{(\d+)\}$")


class ImapConfigError(ValueError):
    """IMAP_URL or the IMAP_* variables cannot be used as they are."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    mailbox: str = "INBOX"
    security: str = "ssl"  # "ssl" | "starttls" | "none"


@dataclass
class PollResult:
    fetched: int = 0
    filed: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (uid, reason), flagged
    failed: list[tuple[int, str]] = field(default_factory=list)  # (uid, error), left unseen


def imap_config() -> ImapConfig | None:
    """The configured mailbox, or None when IMAP polling is off."""
    if settings.IMAP_URL:
        return parse_imap_url(settings.IMAP_URL)
    if not settings.IMAP_HOST:
        return None
    security = settings.IMAP_SECURITY.lower()
    if security not in _DEFAULT_PORTS:
        raise ImapConfigError(f"IMAP_SECURITY must be ssl, starttls or none, not {security!r}")
    if not settings.IMAP_USER:
        raise ImapConfigError("IMAP_HOST is set but IMAP_USER is not")
    return ImapConfig(
        host=settings.IMAP_HOST,
        port=settings.IMAP_PORT or _DEFAULT_PORTS[security],
        username=settings.IMAP_USER,
        password=settings.IMAP_PASSWORD,
        mailbox=settings.IMAP_MAILBOX or "INBOX",
        security=security,
    )


def parse_imap_url(url: str) -> ImapConfig:
    """``imaps://user:password@host:993/Mailbox``; user and password percent-encoded."""
    parts = urlsplit(url)
    security = _SECURITY.get(parts.scheme.lower())
    if security is None:
        raise ImapConfigError("IMAP_URL must start with imaps://, imap:// or imap+starttls://")
    try:
        port = parts.port
    except ValueError as exc:
        raise ImapConfigError(f"IMAP_URL has a bad port: {exc}") from exc
    if not parts.hostname or not parts.username:
        raise ImapConfigError("IMAP_URL needs a user and a host: imaps://user:password@host/")
    return ImapConfig(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[security],
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
        security=security,
    )


def imap_poll(*, config: ImapConfig | None = None, limit: int | None = None) -> PollResult:
    """File up to ``limit`` unseen messages (oldest first). Must run outside a transaction
    (as tasks do), so each message's ingest commits before it is flagged seen."""
    config = config or imap_config()
    if config is None:
        raise ImapConfigError("IMAP polling is not configured (IMAP_URL or IMAP_HOST)")
    limit = limit or settings.IMAP_BATCH
    result = PollResult()
    client = _connect(config)
    try:
        client.login(config.username, config.password)
        _ok(client.select(_quoted(config.mailbox)), f"SELECT {config.mailbox}")
        uids = [int(uid) for uid in _ok(client.uid("SEARCH", "UNSEEN"), "SEARCH")[0].split()]
        for uid in sorted(uids)[:limit]:
            _file_one(client, uid, result)
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    if uids or result.failed:
        logger.info(
            "IMAP %s/%s: %d fetched, %d filed, %d duplicates, %d rejected, %d failed",
            config.host,
            config.mailbox,
            result.fetched,
            result.filed,
            result.duplicates,
            len(result.rejected),
            len(result.failed),
        )
    return result


def imap_poll_task() -> dict:
    """The scheduled task (django-q2 Schedule or Celery beat): poll the configured mailbox."""
    result = imap_poll()
    return {
        "fetched": result.fetched,
        "filed": result.filed,
        "duplicates": result.duplicates,
        "rejected": len(result.rejected),
        "failed": len(result.failed),
    }


def _file_one(client: imaplib.IMAP4, uid: int, result: PollResult) -> None:
    try:
        raw = _fetch(client, uid)
    except (imaplib.IMAP4.error, OSError) as exc:
        result.failed.append((uid, f"fetch: {exc}"))
        logger.warning("IMAP fetch of UID %s failed, will retry: %s", uid, exc)
        return
    result.fetched += 1
    try:
        ingested = email_ingest(raw=raw)
    except (EmailParseError, EmailRejected) as exc:
        result.rejected.append((uid, str(exc)))
        logger.warning("IMAP UID %s cannot be filed and is flagged in the mailbox: %s", uid, exc)
        _flag(client, uid, r"(\Seen \Flagged)")
        return
    except Exception as exc:  # the database or the pipeline: leave it unseen for the next poll
        result.failed.append((uid, repr(exc)))
        logger.exception("IMAP UID %s was not filed, will retry", uid)
        return
    if ingested.duplicate:
        result.duplicates += 1
    else:
        result.filed += 1
    # Runs at once outside a transaction; inside one, only after it committed.
    transaction.on_commit(partial(_flag, client, uid, r"(\Seen)"))


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes:
    data = _ok(client.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"FETCH {uid}")
    for item in data:
        # A literal comes as (b'1 (UID 7 BODY[] {123}', b'<message bytes>')
        if isinstance(item, tuple) and _LITERAL.search(item[0]):
            return item[1]
    raise imaplib.IMAP4.error(f"FETCH {uid} returned no message body")


def _flag(client: imaplib.IMAP4, uid: int, flags: str) -> None:
    try:
        _ok(client.uid("STORE", str(uid), "+FLAGS.SILENT", flags), f"STORE {uid}")
    except (imaplib.IMAP4.error, OSError) as exc:
        # The message is fetched again next time and recognised as a duplicate.
        logger.warning("IMAP UID %s filed but not flagged %s: %s", uid, flags, exc)


def _connect(config: ImapConfig) -> imaplib.IMAP4:
    timeout = settings.IMAP_TIMEOUT
    if config.security == "ssl":
        return imaplib.IMAP4_SSL(
            config.host, config.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    client = imaplib.IMAP4(config.host, config.port, timeout=timeout)
    if config.security == "starttls":
        client.starttls(ssl_context=ssl.create_default_context())
    return client


def _ok(response: tuple[str, list], what: str) -> list:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {status} {data!r}")
    return data


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'
