"""Zendesk out: an approved reply to a Zendesk ticket becomes a public comment on it, through
``PUT /api/v2/tickets/{id}.json`` with API-token auth (``{email}/token:{token}``)."""

from __future__ import annotations

import logging
import time

import httpx
from django.conf import settings

from supportdesk.intake.zendesk import comment_external_id
from supportdesk.models import Message
from supportdesk.outbox.delivery import outbox_handover

logger = logging.getLogger(__name__)

# A 429 names how long to wait; waits longer than this fail the send instead of blocking.
MAX_RETRY_WAIT = 60
MAX_ATTEMPTS = 3


class ZendeskError(RuntimeError):
    """Zendesk did not take the reply. ``status`` is the HTTP status (0: no response)."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def is_refusal(exc: Exception) -> bool:
    """Zendesk answered 4xx, or could not be connected to: it did not add the comment."""
    if not isinstance(exc, ZendeskError):
        return False
    return 400 <= exc.status < 500 or isinstance(exc.__cause__, httpx.ConnectError)


def is_permanent_failure(exc: Exception) -> bool:
    """A 4xx other than a rate limit (bad credentials, closed ticket): retrying will not help."""
    return isinstance(exc, ZendeskError) and 400 <= exc.status < 500 and exc.status != 429


def send_reply(message: Message) -> str:
    """Post one outbound message as a public comment on its Zendesk ticket.

    Returns the stored id of the new comment (``zendesk-comment-<id>``, so the trigger's echo of
    our own comment is recognised as a duplicate), or of the audit when Zendesk lists no comment
    event. A 429 is waited out (``Retry-After``, up to ``MAX_RETRY_WAIT`` s, ``MAX_ATTEMPTS``
    tries): Zendesk did nothing then. Any other failure raises ``ZendeskError`` without a retry,
    since after a 5xx the comment may already be on the ticket.
    """
    ticket = message.ticket
    if not ticket.zendesk_ticket_id:
        raise ZendeskError(f"ticket {ticket.pk} has no Zendesk ticket id")
    if not (settings.ZENDESK_URL and settings.ZENDESK_EMAIL and settings.ZENDESK_API_TOKEN):
        raise ZendeskError("Zendesk is not configured (ZENDESK_SUBDOMAIN/EMAIL/API_TOKEN)")
    url = f"{settings.ZENDESK_URL}/api/v2/tickets/{ticket.zendesk_ticket_id}.json"
    payload = {"ticket": {"comment": {"body": message.body_text, "public": True}}}
    auth = (f"{settings.ZENDESK_EMAIL}/token", settings.ZENDESK_API_TOKEN)
    # From here a dead worker's claim is never re-sent automatically: Zendesk may have the comment.
    outbox_handover(message=message)
    with httpx.Client(auth=auth, timeout=settings.ZENDESK_TIMEOUT) as client:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = client.put(url, json=payload, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise ZendeskError(f"Zendesk unreachable: {exc!r}") from exc
            if response.status_code == 429 and attempt < MAX_ATTEMPTS:
                wait = _retry_after(response)
                if wait is not None and wait <= MAX_RETRY_WAIT:
                    logger.info("Zendesk rate limit: retrying in %s s", wait)
                    sleep(wait)
                    continue
            break
    if response.status_code >= 400:
        raise ZendeskError(
            f"Zendesk answered {response.status_code}: {response.text[:500]}",
            status=response.status_code,
        )
    return _comment_id(response)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def _retry_after(response: httpx.Response) -> int | None:
    try:
        return max(0, int(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _comment_id(response: httpx.Response) -> str:
    try:
        audit = response.json().get("audit") or {}
    except ValueError as exc:
        raise ZendeskError(f"Zendesk answered {response.status_code} without JSON") from exc
    for event in audit.get("events") or []:
        if event.get("type") == "Comment" and event.get("id"):
            return comment_external_id(event["id"])
    if audit.get("id"):
        return f"zendesk-audit-{audit['id']}"
    raise ZendeskError("Zendesk accepted the comment but returned no audit id")
