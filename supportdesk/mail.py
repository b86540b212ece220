"""Outbound e-mail for ticket replies, threaded so customers' mail clients group them."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid

from supportdesk.models import Message


def reply_subject(subject: str, ticket_id: int) -> str:
    # Collapse whitespace so no header can be injected through a customer's subject.
    clean = " ".join(subject.split())
    tag = f"[#{ticket_id}]"
    base = clean if clean.lower().startswith("re:") else f"Re: {clean}"
    return base if tag in base else f"{base} {tag}"


def send_reply(message: Message) -> str:
    """Send one outbound message. Returns the Message-ID it was sent with."""
    ticket = message.ticket
    inbound_ids = [
        mid
        for mid in ticket.messages.filter(direction=Message.Direction.INBOUND)
        .exclude(external_id="")
        .values_list("external_id", flat=True)[:20]
        if mid.startswith("<")
    ]
    message_id = message.external_id or make_msgid(domain="supportdesk.local")
    headers = {"Message-ID": message_id, "Auto-Submitted": "no"}
    if inbound_ids:
        headers["In-Reply-To"] = inbound_ids[-1]
        headers["References"] = " ".join(inbound_ids)
    email = EmailMessage(
        subject=reply_subject(ticket.subject, ticket.pk),
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[ticket.customer.email],
        headers=headers,
    )
    email.send(fail_silently=False)
    return message_id
