"""Which ticket does an inbound e-mail belong to? Plain reads, no writes.

Headers first (In-Reply-To, then References newest first), then the ``[#123]`` token we put in
reply subjects. Both only ever match a ticket of the same customer: a forwarded thread or a
guessed ticket number must not let one customer write into another customer's ticket.
"""

from __future__ import annotations

import hashlib
import re

from supportdesk.intake.email_in import ParsedEmail
from supportdesk.models import Customer, Message, Ticket

_SUBJECT_TOKEN = re.compile(r"\[#(\d{1,18})\]")
_MAX_EXTERNAL_ID = Message._meta.get_field("external_id").max_length


def external_id_for(message_id: str) -> str:
    """The stored form of a Message-ID: as-is when it fits the column, else a stable digest.

    Threading and duplicate detection both go through this, so an over-long id still matches.
    """
    if len(message_id) <= _MAX_EXTERNAL_ID:
        return message_id
    return f"<sha256.{hashlib.sha256(message_id.encode()).hexdigest()}@long-id.supportdesk>"


def referenced_ids(parsed: ParsedEmail) -> list[str]:
    """Message-IDs this mail replies to, most specific first, in stored form."""
    ids = [parsed.in_reply_to, *reversed(parsed.references)]
    return list(dict.fromkeys(external_id_for(mid) for mid in ids if mid))


def find_thread(*, parsed: ParsedEmail, customer: Customer) -> Ticket | None:
    return _by_headers(parsed, customer) or _by_subject_token(parsed.subject, customer)


def _by_headers(parsed: ParsedEmail, customer: Customer) -> Ticket | None:
    ids = referenced_ids(parsed)
    if not ids:
        return None
    found = dict(
        Message.objects.filter(external_id__in=ids, ticket__customer=customer).values_list(
            "external_id", "ticket_id"
        )
    )
    for mid in ids:
        if mid in found:
            return Ticket.objects.get(pk=found[mid])
    return None


def _by_subject_token(subject: str, customer: Customer) -> Ticket | None:
    numbers = [int(number) for number in _SUBJECT_TOKEN.findall(subject)]
    if not numbers:
        return None
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=numbers, customer=customer)}
    return next((tickets[n] for n in numbers if n in tickets), None)
