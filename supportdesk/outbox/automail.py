"""Automatic e-mail policy: what we may send without a person pressing "send", and how.

Every automatic mail (acknowledgements now, automatic replies later) obeys three rules:

1. It is marked as automatic (``Auto-Submitted: auto-replied``, RFC 3834, and
   ``X-Auto-Response-Suppress: All`` for Exchange), so well-behaved responders stay quiet.
2. It never answers mail that is itself automatic, bulk, from a list, a bounce, or from a
   no-reply sender (``email_in.loops`` decides; the caller passes its verdict in).
3. At most ``AUTO_MAIL_LIMIT`` go to one recipient about one ticket within
   ``AUTO_MAIL_WINDOW_HOURS``, counted in ``AutomaticMail`` rows, so the limit holds across every
   process. A badly behaved auto-responder that answers each of our mails therefore gets a few
   and then silence, and its mails still land in the ticket for a person to see.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import transaction
from django.template.loader import select_template
from django.utils import timezone

from supportdesk.intake.email_in.loops import is_automated_sender
from supportdesk.models import AutomaticMail, Message, Ticket
from supportdesk.outbox.mail import AUTOMATIC_HEADERS, reply_subject, subject_header
from supportdesk.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

_COUNTED = (AutomaticMail.Status.QUEUED, AutomaticMail.Status.SENDING, AutomaticMail.Status.SENT)
_TEMPLATES = {
    AutomaticMail.Kind.ACKNOWLEDGEMENT: "supportdesk/email/acknowledgement.txt",
    AutomaticMail.Kind.FOLLOW_UP: "supportdesk/email/follow_up_acknowledgement.txt",
}


def automatic_mail_allowed(
    *, ticket: Ticket, recipient: str, now: datetime | None = None
) -> tuple[bool, str]:
    """``(True, "")`` when one more automatic mail to ``recipient`` about ``ticket`` is within
    policy, else ``(False, reason)``. A read: callers that then send must do it through
    ``automatic_mail_claim``, which checks again under the ticket's row lock."""
    address = parseaddr(recipient)[1].strip().lower()
    if not address or "@" not in address:
        return False, "no recipient address"
    if is_automated_sender(address):
        return False, f"automated address {address}"
    if address in _own_addresses():
        return False, "the desk's own address"
    now = now or timezone.now()
    since = now - timedelta(hours=settings.AUTO_MAIL_WINDOW_HOURS)
    sent = AutomaticMail.objects.filter(
        ticket=ticket, recipient=address, created_at__gt=since, status__in=_COUNTED
    ).count()
    if sent >= settings.AUTO_MAIL_LIMIT:
        return False, (
            f"limit reached: {sent} automatic mails to {address} about {ticket.reference} "
            f"in {settings.AUTO_MAIL_WINDOW_HOURS:g} h"
        )
    return True, ""


@transaction.atomic
def automatic_mail_claim(
    *,
    ticket: Ticket,
    recipient: str,
    kind: str,
    in_reply_to: Message | None = None,
    inbound_allowed: bool = True,
    inbound_reason: str = "",
) -> tuple[AutomaticMail, str]:
    """Record one automatic mail, or why it must not go out.

    Returns the row and ``""`` when the mail may be sent (status ``queued``), else the row with
    status ``suppressed`` and the reason. ``inbound_allowed``/``inbound_reason`` are the loop
    guard's verdict on the mail being answered. Locks the ticket row, so two processes cannot
    both take the last place under the limit.
    """
    Ticket.objects.select_for_update().only("pk").get(pk=ticket.pk)
    address = parseaddr(recipient)[1].strip().lower() or recipient
    allowed, reason = (
        automatic_mail_allowed(ticket=ticket, recipient=address)
        if inbound_allowed
        else (False, f"answers automatic mail ({inbound_reason})")
    )
    mail = AutomaticMail.objects.create(
        ticket=ticket,
        recipient=address[: AutomaticMail._meta.get_field("recipient").max_length],
        kind=kind,
        in_reply_to=in_reply_to,
        status=AutomaticMail.Status.QUEUED if allowed else AutomaticMail.Status.SUPPRESSED,
        detail=reason,
    )
    if not allowed:
        logger.info("No %s for ticket %s: %s", mail.get_kind_display(), ticket.pk, reason)
    return mail, reason


def acknowledgement_queue(
    *,
    ticket: Ticket,
    message: Message,
    follow_up: bool = False,
    inbound_allowed: bool = True,
    inbound_reason: str = "",
) -> AutomaticMail | None:
    """Acknowledge a customer's message by e-mail after commit, if settings and policy allow.

    Runs inside the caller's transaction (the one that stored ``message``)."""
    enabled = settings.ACKNOWLEDGE_FOLLOW_UPS if follow_up else settings.ACKNOWLEDGE_NEW_TICKETS
    if not enabled:
        return None
    kind = AutomaticMail.Kind.FOLLOW_UP if follow_up else AutomaticMail.Kind.ACKNOWLEDGEMENT
    mail, reason = automatic_mail_claim(
        ticket=ticket,
        recipient=ticket.customer.email,
        kind=kind,
        in_reply_to=message,
        inbound_allowed=inbound_allowed,
        inbound_reason=inbound_reason,
    )
    if not reason:
        enqueue_on_commit("supportdesk.tasks.send_automatic_mail", mail.pk)
    return mail


def automatic_mail_deliver(*, automatic_mail_id: int) -> None:
    """Send one queued automatic mail. A second run finds it already claimed and does nothing."""
    claimed = AutomaticMail.objects.filter(
        pk=automatic_mail_id, status=AutomaticMail.Status.QUEUED
    ).update(status=AutomaticMail.Status.SENDING)
    if not claimed:
        return
    mail = AutomaticMail.objects.select_related("ticket__customer", "in_reply_to").get(
        pk=automatic_mail_id
    )
    message_id = make_msgid(domain="supportdesk.local")
    try:
        automatic_email(mail, message_id=message_id).send(fail_silently=False)
    except Exception as exc:
        logger.exception("automatic mail %s failed", automatic_mail_id)
        AutomaticMail.objects.filter(pk=mail.pk).update(
            status=AutomaticMail.Status.FAILED, detail=repr(exc)[:2000]
        )
        return
    AutomaticMail.objects.filter(pk=mail.pk).update(
        status=AutomaticMail.Status.SENT, message_id=message_id, sent_at=timezone.now()
    )


def automatic_email(mail: AutomaticMail, *, message_id: str) -> EmailMessage:
    """The e-mail for one automatic mail. Header values come from normalised fields only:
    the subject is whitespace-collapsed, the recipient a stored, validated address."""
    ticket = mail.ticket
    headers = {"Message-ID": message_id, **AUTOMATIC_HEADERS}
    answered = mail.in_reply_to.external_id if mail.in_reply_to else ""
    if answered.startswith("<"):
        headers["In-Reply-To"] = answered
        headers["References"] = answered
    language = mail_language(mail)
    headers["Content-Language"] = language
    base = _TEMPLATES[mail.kind].removesuffix(".txt")
    names = [f"{base}.{language}.txt", f"{base}.{language.split('-')[0]}.txt", f"{base}.txt"]
    body = select_template(names).render(
        {"ticket": ticket, "customer": ticket.customer, "brand": settings.BRAND_NAME}
    )
    return EmailMessage(
        subject=subject_header(reply_subject(ticket.subject, ticket.pk)),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.recipient],
        headers=headers,
    )


def mail_language(mail: AutomaticMail) -> str:
    """The language to acknowledge in: the one the acknowledged message is written in, as
    triage reads it (the customer's locale decides only when the text is too short to say).
    Without a supported language the mail goes out in English."""
    # Loaded when first used: lingua is large, and only the worker writes the mail.
    from supportdesk.language import detect_language

    customer = mail.ticket.customer
    message = mail.in_reply_to
    if message is None:
        return customer.locale or mail.ticket.language or "en"
    text = f"{mail.ticket.subject}\n{message.body_text}"
    candidates = list(settings.SUPPORTED_LANGUAGES) or ["en"]
    return detect_language(text, candidates=candidates, hint=customer.locale)[0]


def _own_addresses() -> set[str]:
    return {
        parseaddr(address)[1].lower()
        for address in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)
        if parseaddr(address)[1]
    }
