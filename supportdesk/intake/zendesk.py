"""Zendesk in: signed webhooks from a Zendesk trigger open and append to tickets.

A Zendesk trigger posts the JSON body documented in ``WEBHOOK_BODY_TEMPLATE`` to
``/integrations/zendesk/webhook``. Zendesk signs each request with
``X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(secret, timestamp + raw body))`` and sends the
timestamp (ISO 8601, UTC) in ``X-Zendesk-Webhook-Signature-Timestamp``; we reject a wrong
signature or a timestamp more than ``ZENDESK_WEBHOOK_MAX_AGE`` seconds away. The first comment of
a Zendesk ticket opens a SupportDesk ticket (``zendesk_ticket_id`` links them), later ones are
appended; each Zendesk comment id is stored once, so retried deliveries add nothing. Replies go
back out through supportdesk/outbox/zendesk.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from supportdesk.models import Message, Ticket
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
_SUBJECT_MAX = Ticket._meta.get_field("subject").max_length


class WebhookRejected(ValueError):
    """The request is not a genuine, fresh Zendesk delivery."""


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
