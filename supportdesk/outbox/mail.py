"""Outbound e-mail for ticket replies, threaded so customers' mail clients group them."""

from __future__ import annotations

import smtplib
from email.header import Header

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import make_msgid, sanitize_address

from supportdesk.intake.email_in.decode import clean_header
from supportdesk.models import Message
from supportdesk.outbox.delivery import outbox_handover
from supportdesk.outbox.rating_links import rating_footer

# RFC 3834, and Exchange's own header: well-behaved responders stay quiet about our automatic mail.
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


def reply_subject(subject: str, ticket_id: int) -> str:
    # One line without control characters (NUL included), so no header can be injected
    # through a customer's subject.
    clean = clean_header(subject)
    tag = f"[#{ticket_id}]"
    base = clean if clean.lower().startswith("re:") else f"Re: {clean}"
    return base if tag in base else f"{base} {tag}"


def subject_header(subject: str) -> str:
    """The Subject value to hand to ``EmailMessage``. Text that looks like an RFC 2047
    encoded-word (``=?UTF-8?Q?=0A?=``) would be decoded by the recipient's mail client, line
    breaks and all; such a subject is sent encoded as a whole, so it reads exactly as written."""
    if "=?" not in subject:
        return subject
    return Header(subject, "utf-8", header_name="Subject").encode(linesep="")


def send_reply(message: Message) -> str:
    """Send one outbound message. Returns the Message-ID it was sent with (the one stored
    when it was queued, so a retry carries the same id)."""
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
    if message.automatic:  # sent by auto-send, without a person
        headers.update(AUTOMATIC_HEADERS)
    if inbound_ids:
        headers["In-Reply-To"] = inbound_ids[-1]
        headers["References"] = " ".join(inbound_ids)
    email = EmailMessage(
        subject=subject_header(reply_subject(ticket.subject, ticket.pk)),
        body=reply_body(message),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[ticket.customer.email],
        headers=headers,
    )
    connection = get_connection(fail_silently=False)
    if isinstance(connection, SMTPBackend):
        _send_smtp(connection, email, message=message)
    else:
        outbox_handover(message=message)
        connection.send_messages([email])
    return message_id


def reply_body(message: Message) -> str:
    """What the agent (or auto-send) wrote, then the rating links. The links are added here,
    not stored in the message: the thread shows what was written, and a retry signs afresh."""
    footer = rating_footer(message)
    if not footer:
        return message.body_text
    return f"{message.body_text.rstrip()}\n\n{footer}"


def _send_smtp(backend: SMTPBackend, email: EmailMessage, *, message: Message) -> None:
    """SMTP in steps, so the outbox knows whether the server was ever given the message:
    connecting, MAIL FROM and RCPT TO can fail or die without anything being delivered; only
    DATA hands it over. The handover is recorded (and committed) just before DATA."""
    backend.open()
    try:
        smtp = backend.connection
        smtp.ehlo_or_helo_if_needed()
        sender = sanitize_address(email.from_email, email.encoding)
        code, reply = smtp.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        recipients = [sanitize_address(addr, email.encoding) for addr in email.recipients()]
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        outbox_handover(message=message)
        code, reply = smtp.data(email.message().as_bytes(linesep="\r\n"))
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
    finally:
        backend.close()


def is_refusal(exc: Exception) -> bool:
    """The server answered with an error: it does not have the message."""
    return isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused))


def is_permanent_failure(exc: Exception) -> bool:
    """A 5xx answer (address unknown, message refused): trying again will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500
