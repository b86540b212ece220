"""Zendesk as an intake channel: signed webhooks in, public comments back out.

In: a Zendesk trigger posts the JSON body documented in ``WEBHOOK_BODY_TEMPLATE`` to
``/integrations/zendesk/webhook``. Zendesk signs each request with
``X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp + raw body))`` and sends the
timestamp (ISO 8601, UTC) in ``X-Zendesk-Webhook-Signature-Timestamp``; we reject a wrong
signature or a timestamp more than ``ZENDESK_WEBHOOK_MAX_AGE`` seconds away. The first comment of
a Zendesk ticket opens a SupportDesk ticket (``zendesk_ticket_id`` links them), later ones are
appended; each Zendesk comment id is stored once, so retried deliveries add nothing.

Out: ``send_reply`` adds the approved reply as a public comment through
``PUT /api/v2/tickets/{id}.json`` with API-token auth (``{email}/token:{token}``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from supportdesk.models import Message, Ticket
from supportdesk.outbox.delivery import outbox_handover
from supportdesk.services import message_append, ticket_create

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
# What the Zendesk admin pastes as the trigger's webhook JSON body (see the README).
WEBHOOK_BODY_TEMPLATE = """{
  "ticket_id": "{{ticket.id}}",
  "subject": "{{ticket.title}}",
  "requester_email": "{{ticket.requester.email}}",
  "requester_name": "{{ticket.requester.name}}",
  "comment_id": "{{ticket.latest_public_comment.id}}",
  "comment_body": "{{ticket.latest_public_comment.value}}",
  "comment_author_email": "{{ticket.latest_public_comment.author.email}}"
}"""
# A 429 names how long to wait; waits longer than this fail the send instead of blocking.
MAX_RETRY_WAIT = 60
MAX_ATTEMPTS = 3
_SUBJECT_MAX = Ticket._meta.get_field("subject").max_length


class WebhookRejected(ValueError):
    """The request is not a genuine, fresh Zendesk delivery."""


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


# -- in ----------------------------------------------------------------------------------------


def signature_for(*, body: bytes, timestamp: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_verify(
    *, body: bytes, signature: str, timestamp: str, secret: str, now: datetime | None = None
) -> None:
    """Raise ``WebhookRejected`` unless ``signature`` signs ``timestamp + body`` with ``secret``
    and the timestamp is within ``ZENDESK_WEBHOOK_MAX_AGE`` seconds of ``now``."""
    if not signature or not timestamp:
        raise WebhookRejected(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
    expected = signature_for(body=body, timestamp=timestamp, secret=secret)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookRejected("signature does not match")
    try:
        signed_at = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        raise WebhookRejected("timestamp is not ISO 8601") from None
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    age = abs(((now or timezone.now()) - signed_at).total_seconds())
    if age > settings.ZENDESK_WEBHOOK_MAX_AGE:
        raise WebhookRejected(
            f"timestamp is {int(age)} s old (limit {settings.ZENDESK_WEBHOOK_MAX_AGE} s)"
        )


class ZendeskWebhookForm(forms.Form):
    """The webhook's JSON body (``WEBHOOK_BODY_TEMPLATE``). Over-long text is cut, not refused:
    Zendesk does not redeliver a rejected webhook, so refusing would lose the comment."""

    ticket_id = forms.IntegerField(min_value=1)
    comment_id = forms.IntegerField(min_value=1)
    requester_email = forms.EmailField(max_length=254)
    requester_name = forms.CharField(required=False, strip=True)
    subject = forms.CharField(required=False)
    comment_body = forms.CharField(required=False)
    comment_author_email = forms.EmailField(required=False, max_length=254)

    def clean_requester_name(self) -> str:
        return self.cleaned_data["requester_name"][:200]

    def clean_subject(self) -> str:
        return " ".join(self.cleaned_data["subject"].split())[:_SUBJECT_MAX] or "(no subject)"

    def clean_comment_body(self) -> str:
        text = self.cleaned_data["comment_body"].strip()
        return text[: settings.MAX_MESSAGE_CHARS] or "(comment without text)"


@dataclass(frozen=True)
class WebhookResult:
    outcome: str  # "created" | "appended" | "duplicate" | "ignored"
    ticket: Ticket | None
    message: Message | None
    reason: str = ""


def comment_external_id(comment_id: int | str) -> str:
    return f"zendesk-comment-{comment_id}"


@transaction.atomic
def zendesk_webhook_ingest(
    *,
    ticket_id: int,
    comment_id: int,
    requester_email: str,
    comment_body: str,
    subject: str = "(no subject)",
    requester_name: str = "",
    comment_author_email: str = "",
) -> WebhookResult:
    """File one Zendesk comment: a new ticket for a new Zendesk ticket, else appended to it.

    The same comment delivered twice (Zendesk's retries, concurrent deliveries) is stored once:
    the ``Message.external_id`` and ``Ticket.zendesk_ticket_id`` unique constraints decide.
    Comments by anyone but the requester (agents working in Zendesk, our own replies) are not
    customer messages and are ignored.
    """
    external_id = comment_external_id(comment_id)
    existing = Message.objects.select_related("ticket").filter(external_id=external_id).first()
    if existing is not None:
        return WebhookResult("duplicate", existing.ticket, existing)
    author = comment_author_email.strip().lower()
    if author and author != requester_email.strip().lower():
        return WebhookResult("ignored", None, None, f"comment by {author}, not the requester")
    try:
        with transaction.atomic():
            return _file(
                ticket_id=ticket_id,
                external_id=external_id,
                requester_email=requester_email,
                requester_name=requester_name,
                subject=subject,
                body=comment_body,
            )
    except IntegrityError:
        # A concurrent delivery stored this comment or opened this ticket first.
        existing = Message.objects.select_related("ticket").filter(external_id=external_id).first()
        if existing is not None:
            return WebhookResult("duplicate", existing.ticket, existing)
        with transaction.atomic():
            return _file(
                ticket_id=ticket_id,
                external_id=external_id,
                requester_email=requester_email,
                requester_name=requester_name,
                subject=subject,
                body=comment_body,
            )


def _file(
    *,
    ticket_id: int,
    external_id: str,
    requester_email: str,
    requester_name: str,
    subject: str,
    body: str,
) -> WebhookResult:
    ticket = Ticket.objects.select_for_update().filter(zendesk_ticket_id=ticket_id).first()
    if ticket is None:
        ticket = ticket_create(
            email=requester_email,
            name=requester_name,
            subject=subject,
            body=body,
            channel=Ticket.Channel.ZENDESK,
            external_id=external_id,
        )
        Ticket.objects.filter(pk=ticket.pk).update(zendesk_ticket_id=ticket_id)
        ticket.zendesk_ticket_id = ticket_id
        return WebhookResult("created", ticket, ticket.messages.get())
    message = message_append(ticket=ticket, body=body, external_id=external_id)
    return WebhookResult("appended", ticket, message)


# -- out ---------------------------------------------------------------------------------------


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
