"""Writes for inbound e-mail: raw MIME in, a threaded ticket message out, each delivery once.

Lives beside ``services.py`` (same conventions: atomic, keyword-only, typed) only to keep that
module under 300 lines.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction

from supportdesk import realtime
from supportdesk.intake.attachments import message_attachments_store
from supportdesk.intake.email_in import (
    Attachment,
    ParsedEmail,
    auto_reply_allowed,
    parse_email,
    split_reply,
)
from supportdesk.intake.threads import external_id_for, find_thread, referenced_ids
from supportdesk.models import Message, Ticket
from supportdesk.outbox.automail import acknowledgement_queue
from supportdesk.outbox.delivery import customer_outbound_block
from supportdesk.services import customer_get_or_create, message_append, ticket_create

logger = logging.getLogger(__name__)

_SUBJECT_MAX = Ticket._meta.get_field("subject").max_length
FULL_TEXT_NAME = "full-message-text.txt"
_HEADER_ID = re.compile(rb"^Message-ID:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


class EmailRejected(ValueError):
    """A parseable e-mail we cannot file: no sender address to answer."""


@dataclass(frozen=True)
class IngestResult:
    ticket: Ticket | None  # None only for a bounce that referenced none of our messages
    message: Message | None  # the inbound message; for a bounce, the outbound one that failed
    created_ticket: bool
    duplicate: bool
    bounce: bool = False
    auto_reply_allowed: bool = False
    auto_reply_reason: str = ""


@transaction.atomic
def email_ingest(*, raw: bytes, channel: str = Ticket.Channel.EMAIL) -> IngestResult:
    """File one raw e-mail. Re-delivery of the same message returns the stored one.

    Raises ``EmailParseError`` for input that is no e-mail and ``EmailRejected`` for mail
    without a sender; nothing is saved then.
    """
    parsed = parse_email(raw)
    if parsed.is_bounce:
        return _bounce(parsed, raw)
    if not parsed.from_address:
        problems = [d for d in parsed.defects if d.startswith(("From:", "Sender:"))]
        raise EmailRejected(problems[0] if problems else "no sender address (From/Sender)")
    allowed, reason = auto_reply_allowed(parsed, own_addresses=_own_addresses())
    flags = {"auto_reply_allowed": allowed, "auto_reply_reason": reason}
    external_id = external_id_for(parsed.message_id) or _synthetic_id(raw)
    existing = Message.objects.select_related("ticket").filter(external_id=external_id).first()
    if existing is not None:
        return IngestResult(existing.ticket, existing, False, True, **flags)
    try:
        # A concurrent delivery of the same message may commit first: the unique constraint
        # then fails this savepoint only, and we answer with the row the other one stored.
        with transaction.atomic():
            ticket, message, created = _file(parsed, external_id, channel)
            _keep_attachments(parsed, message)
            if not allowed:  # read by the auto-send guardrails: never answer a machine
                message.automated_reason = reason[:200] or "automated mail"
                message.save(update_fields=["automated_reason"])
    except IntegrityError:
        existing = Message.objects.select_related("ticket").filter(external_id=external_id).first()
        if existing is None:
            raise
        return IngestResult(existing.ticket, existing, False, True, **flags)
    acknowledgement_queue(
        ticket=ticket,
        message=message,
        follow_up=not created,
        inbound_allowed=allowed,
        inbound_reason=reason,
    )
    return IngestResult(ticket, message, created, False, **flags)


def _file(parsed: ParsedEmail, external_id: str, channel: str) -> tuple[Ticket, Message, bool]:
    # Triage judges only what the customer just wrote; the signature and quoted earlier mail
    # are kept beside it (in the order they appear in the mail) and shown collapsed.
    new_text, quoted, signature = split_reply(parsed.text)
    body_quoted = "\n\n".join(
        part for part in _in_mail_order(parsed.text, quoted, signature) if part
    )
    # Over-long text is stored cut and flagged, never refused (see _keep_attachments).
    (new_text, body_quoted, html), truncated = _cut(new_text, body_quoted, parsed.html)
    customer = customer_get_or_create(email=parsed.from_address, name=parsed.from_name)
    ticket = find_thread(parsed=parsed, customer=customer)
    if ticket is None:
        ticket = ticket_create(
            email=customer.email,
            subject=(parsed.subject or "(no subject)")[:_SUBJECT_MAX],
            body=new_text,
            channel=channel,
            body_html=html,
            external_id=external_id,
            body_quoted=body_quoted,
        )
        message = ticket.messages.get()
        if truncated:
            message.truncated = True
            message.save(update_fields=["truncated"])
        return ticket, message, True
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    message = message_append(
        ticket=ticket,
        body=new_text,
        body_html=html,
        body_quoted=body_quoted,
        external_id=external_id,
        truncated=truncated,
    )
    return ticket, message, False


def _cut(*texts: str) -> tuple[tuple[str, ...], bool]:
    limit = settings.MESSAGE_TEXT_MAX_CHARS
    return tuple(text[:limit] for text in texts), any(len(text) > limit for text in texts)


def _keep_attachments(parsed: ParsedEmail, message: Message) -> None:
    """The mail's files, plus the full text of a message whose stored text was cut."""
    attachments = list(parsed.attachments)
    if message.truncated:
        full = parsed.text.encode()
        attachments.insert(0, Attachment(FULL_TEXT_NAME, "text/plain", len(full), full))
    if attachments:
        message_attachments_store(message=message, attachments=attachments)


def _in_mail_order(text: str, quoted: str, signature: str) -> list[str]:
    """A top-posted reply has its signature above the quote, a bottom-posted one below it."""
    if quoted and signature and _line_of(text, signature) > _line_of(text, quoted):
        return [quoted, signature]
    return [signature, quoted]


def _line_of(text: str, part: str) -> int:
    first = part.strip().split("\n", 1)[0].strip()
    lines = [line.strip() for line in text.splitlines()]
    return lines.index(first) if first in lines else -1


def _bounce(parsed: ParsedEmail, raw: bytes) -> IngestResult:
    """Bounces never open tickets: they mark the outbound message they report as failed."""
    ids = referenced_ids(parsed) + [external_id_for(mid) for mid in _returned_ids(raw)]
    outbound = (
        Message.objects.select_for_update()
        .select_related("ticket")
        .filter(external_id__in=ids, direction=Message.Direction.OUTBOUND)
        .first()
    )
    if outbound is None:
        logger.info(
            "Dropped bounce %s: it references none of our outbound messages (%s)",
            parsed.message_id or "without Message-ID",
            ", ".join(ids) or "no ids",
        )
        return IngestResult(None, None, False, False, bounce=True, auto_reply_reason="bounce")
    outbound.delivery_status = Message.Delivery.FAILED
    outbound.delivery_error = _bounce_reason(raw, parsed)
    outbound.save(update_fields=["delivery_status", "delivery_error"])
    customer_outbound_block(customer_id=outbound.ticket.customer_id, reason=outbound.delivery_error)
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=outbound.ticket_id)
    return IngestResult(outbound.ticket, outbound, False, False, True, False, "bounce")


def _returned_ids(raw: bytes) -> list[str]:
    """Message-IDs in the returned headers of a DSN (text/rfc822-headers or message/rfc822)."""
    found = []
    for part in message_from_bytes(raw).walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            found += [m.decode("ascii") for m in _HEADER_ID.findall(payload or b"")]
        elif ctype == "message/rfc822" and isinstance(part.get_payload(), list):
            for inner in part.get_payload()[:1]:
                found += [mid for mid in [str(inner.get("Message-ID", "")).strip()] if mid]
    return found


def _bounce_reason(raw: bytes, parsed: ParsedEmail) -> str:
    for part in message_from_bytes(raw).walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        fields = {}
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            for key in ("Diagnostic-Code", "Status", "Action", "Final-Recipient"):
                if block.get(key) and key not in fields:
                    fields[key] = " ".join(str(block[key]).split())
        if fields:
            return "bounce: " + "; ".join(f"{k}: {v}" for k, v in fields.items())[:1000]
    return f"bounce: {parsed.subject or 'delivery failed'}"[:1000]


def _synthetic_id(raw: bytes) -> str:
    """Mail without a Message-ID still needs one identity, so a re-delivery is recognised."""
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@no-message-id.supportdesk>"


def _own_addresses() -> list[str]:
    return [parseaddr(settings.DEFAULT_FROM_EMAIL)[1], parseaddr(settings.SERVER_EMAIL)[1]]
