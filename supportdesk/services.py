"""Writes for the core desk: customers, tickets, messages, tokens, presence."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.utils import timezone
from django.utils.translation import gettext

from supportdesk import realtime
from supportdesk.hours import HOLIDAYS_BACK, Hours, schedule_hours
from supportdesk.html import sanitize_html
from supportdesk.models import (
    ApiToken,
    Customer,
    Message,
    Note,
    Presence,
    SavedView,
    Tag,
    Ticket,
)
from supportdesk.queue import enqueue_on_commit
from supportdesk.search import DOCUMENT_MAX_CHARS, search_document
from supportdesk.sla import resume

SATISFACTION_TASK = "feedback.tasks.satisfaction_estimate"


def customer_get_or_create(*, email: str, name: str = "", locale: str = "") -> Customer:
    """Runs inside the caller's transaction. Fills in name/locale we did not know yet."""
    customer, created = Customer.objects.get_or_create(
        email=email.strip().lower(), defaults={"name": name.strip(), "locale": locale.strip()}
    )
    changed = []
    if not created and name and not customer.name:
        customer.name = name.strip()
        changed.append("name")
    if not created and locale and not customer.locale:
        customer.locale = locale.strip()
        changed.append("locale")
    if changed:
        customer.save(update_fields=changed)
    return customer


@transaction.atomic
def ticket_create(
    *,
    email: str,
    subject: str,
    body: str,
    channel: str,
    name: str = "",
    locale: str = "",
    body_html: str = "",
    external_id: str = "",
    body_quoted: str = "",
    received_at: datetime | None = None,
) -> Ticket:
    """Create a ticket and its first message, then start the AI pipeline after commit."""
    customer = customer_get_or_create(email=email, name=name, locale=locale)
    received_at = received_at or timezone.now()
    ticket = Ticket.objects.create(
        customer=customer, subject=subject.strip(), channel=channel, created_at=received_at
    )
    message = _inbound_message_create(
        ticket=ticket,
        body=body,
        body_html=body_html,
        body_quoted=body_quoted,
        external_id=external_id,
        created_at=received_at,
    )
    search_index(ticket, [ticket.subject, customer.name, customer.email, message.body_text])
    # Announce first: on-commit callbacks run in order, so inboxes see "created" before the
    # pipeline's "updated" events even with an inline task backend.
    realtime.broadcast(realtime.TICKET_CREATED, ticket_id=ticket.pk)
    enqueue_on_commit("supportdesk.tasks.process_message", message.pk)
    return ticket


@transaction.atomic
def ticket_message_add(
    *, ticket_id: int, body: str, external_id: str = "", body_html: str = ""
) -> tuple[Message, bool]:
    """Append a customer message to a ticket, reopen it, and run the AI pipeline on it.

    Returns (message, created). A message whose ``external_id`` is already stored is a
    re-delivery: the stored message is returned and nothing changes. Raises
    ``Ticket.DoesNotExist``, and ``ExternalIdTaken`` when the id belongs to another ticket.
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if external_id:
        existing = Message.objects.filter(external_id=external_id).first()
        if existing is not None:
            return _redelivered(existing, ticket_id), False
    try:
        # A concurrent delivery of the same id may commit first: the unique constraint fails
        # this savepoint only, and the caller gets the message the other request stored.
        with transaction.atomic():
            message = message_append(
                ticket=ticket, body=body, body_html=body_html, external_id=external_id
            )
    except IntegrityError:
        existing = Message.objects.filter(external_id=external_id).first() if external_id else None
        if existing is None:
            raise
        return _redelivered(existing, ticket_id), False
    return message, True


def message_append(
    *,
    ticket: Ticket,
    body: str,
    body_html: str = "",
    body_quoted: str = "",
    external_id: str = "",
    truncated: bool = False,
) -> Message:
    """A customer wrote again on an existing ticket, by any channel: store the message, bring
    the ticket back to open (a solved one counts a repeat contact) and run the AI pipeline on
    the message after commit. The caller holds the ticket row and has checked `external_id`
    for a re-delivery."""
    message = _inbound_message_create(
        ticket=ticket,
        body=body,
        body_html=body_html,
        body_quoted=body_quoted,
        external_id=external_id,
        truncated=truncated,
        reopened=ticket.status == Ticket.Status.SOLVED,
    )
    ticket_touch(ticket, *ticket_customer_wrote(ticket))  # broadcasts after commit
    search_index(ticket, [message.body_text], append=True)
    enqueue_on_commit("supportdesk.tasks.process_message", message.pk)
    return message


def search_index(ticket: Ticket, parts: list[str], *, append: bool = False) -> None:
    """Make `ticket` findable by `parts` (added to what it is found by already, with
    `append`). One UPDATE; the tsvector only on PostgreSQL."""
    document = search_document(parts)
    if append and ticket.search_document:
        document = f"{ticket.search_document} {document}"[:DOCUMENT_MAX_CHARS]
    ticket.search_document = document
    fields: dict[str, object] = {"search_document": document}
    if connection.vendor == "postgresql":
        fields["search_vector"] = SearchVector(Value(document), config="simple")
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


def _inbound_message_create(
    *,
    ticket: Ticket,
    body: str,
    body_html: str,
    body_quoted: str,
    external_id: str,
    truncated: bool = False,
    reopened: bool = False,
    created_at: datetime | None = None,
) -> Message:
    return Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.INBOUND,
        body_text=body.strip(),
        body_html=sanitize_html(body_html) if body_html else "",
        body_quoted=body_quoted.strip(),
        external_id=external_id,
        truncated=truncated,
        reopened=reopened,
        created_at=created_at or timezone.now(),
        # Every caller enqueues the pipeline on commit. Counted from now, not from
        # `created_at`: a message dated in the past (an imported mail, the demo's tickets) is
        # not overdue for the pipeline sweeper the moment it is stored.
        pipeline_queued_at=timezone.now(),
    )


def ticket_customer_wrote(ticket: Ticket) -> list[str]:
    """A customer message arrived on the ticket (caller holds the row and saves the returned
    fields): it needs us again. A solved ticket reopens and counts as a repeat contact, which
    routing reads; a ticket waiting on the customer goes back to open."""
    fields = []
    if ticket.status == Ticket.Status.SOLVED:
        ticket.reopen_count += 1
        fields.append("reopen_count")
    if ticket.status in (Ticket.Status.SOLVED, Ticket.Status.WAITING):
        fields += ticket_status_change(ticket, Ticket.Status.OPEN)
    return fields


def ticket_status_change(ticket: Ticket, status: str) -> list[str]:
    """Set the status (caller holds the row and saves the returned fields). Waiting on the
    customer pauses the resolution timer; leaving "waiting" resumes it with the (working) time
    it had left (supportdesk.sla). The periodic SLA pass then recomputes the state at once."""
    if ticket.status == status:
        return []
    now = timezone.now()
    ticket.status = status
    ticket.solved_at = now if status == Ticket.Status.SOLVED else None
    fields = ["status", "solved_at"]
    if status == Ticket.Status.WAITING:
        if ticket.resolution_due_at is not None and ticket.sla_paused_at is None:
            ticket.sla_paused_at = now
            fields.append("sla_paused_at")
    elif ticket.sla_paused_at is not None:
        ticket.resolution_due_at, waited = resume(
            resolution_due=ticket.resolution_due_at,
            paused_at=ticket.sla_paused_at,
            now=now,
            hours=_sla_hours(ticket),
        )
        ticket.sla_paused_for += waited
        ticket.sla_paused_at = None
        fields += ["resolution_due_at", "sla_paused_for", "sla_paused_at"]
    if ticket.first_response_due_at is not None:
        ticket.sla_next_check_at = now
        fields.append("sla_next_check_at")
    if status == Ticket.Status.SOLVED:
        # The feedback room reads the finished conversation; named by path, as the floor may
        # not import the rooms above it (the task table lists it).
        enqueue_on_commit(SATISFACTION_TASK, ticket.pk)
    return fields


def _sla_hours(ticket: Ticket) -> Hours | None:
    """The business hours the ticket's SLA timers count (None: around the clock), read through
    the ticket's own relation. An invalid schedule counts every hour, as the SLA pass does."""
    schedule = ticket.sla_hours
    if schedule is None:
        return None
    since = timezone.localdate() - HOLIDAYS_BACK
    holidays = schedule.holidays.filter(date__gte=since).values_list("date", flat=True)
    try:
        return schedule_hours(schedule, holidays)
    except ValueError:
        return None


class ExternalIdTaken(ValueError):
    """The external id is already stored on a message of another ticket."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"external_id is already used by a message on ticket {ticket_id}")
        self.ticket_id = ticket_id


def _redelivered(message: Message, ticket_id: int) -> Message:
    if message.ticket_id != ticket_id:
        raise ExternalIdTaken(message.ticket_id)
    return message


@transaction.atomic
def ticket_flag_ai_failure(*, ticket_id: int, step: str, error: str) -> None:
    """An AI step failed: keep the ticket in the inbox, visibly waiting for manual triage."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    ticket.needs_manual_triage = True
    ticket.needs_human = True
    ticket.ai_error = f"{step}: {error}"[:2000]
    if ticket.status == Ticket.Status.NEW:
        ticket.status = Ticket.Status.OPEN
    if ticket.urgency == Ticket.Urgency.UNKNOWN:
        ticket.urgency = Ticket.Urgency.MEDIUM
    ticket.version += 1
    ticket.save()
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=ticket.pk)


@transaction.atomic
def ticket_retry_ai(*, ticket_id: int) -> None:
    """Clear the failure flag and run the pipeline again for the latest customer message.
    Steps that already succeeded are kept (each is idempotent per message)."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    message = (
        ticket.messages.filter(direction=Message.Direction.INBOUND).order_by("-created_at").first()
    )
    if message is None:
        return
    ticket.needs_manual_triage = False
    ticket.ai_error = ""
    ticket_touch(ticket, "needs_manual_triage", "ai_error")
    # Pending again, with fresh tries: if this enqueue is lost too, the sweeper runs it.
    Message.objects.filter(pk=message.pk).update(
        pipeline_done_at=None, pipeline_attempts=0, pipeline_queued_at=timezone.now()
    )
    enqueue_on_commit("supportdesk.tasks.process_message", message.pk)


def message_pipeline_start(*, message_id: int) -> int | None:
    """The pipeline task begins on this message: count the try (the sweeper flags a message
    whose tries keep dying) and return its ticket id; None when it is already done."""
    started = Message.objects.filter(pk=message_id, pipeline_done_at__isnull=True).update(
        pipeline_attempts=F("pipeline_attempts") + 1, pipeline_queued_at=timezone.now()
    )
    if not started:
        Message.objects.get(pk=message_id)  # a message that does not exist is an error
        return None
    return Message.objects.values_list("ticket_id", flat=True).get(pk=message_id)


def message_pipeline_done(*, message_id: int) -> None:
    """The pipeline finished with this message, or flagged its ticket: the sweeper leaves it."""
    Message.objects.filter(pk=message_id, pipeline_done_at__isnull=True).update(
        pipeline_done_at=timezone.now()
    )


@transaction.atomic
def ticket_solve(*, ticket_id: int) -> Ticket:
    """An agent marks the ticket solved: it leaves the open queues and its resolution timer
    stops. The customer writing again reopens it (`ticket_message_add`)."""
    return _status_set(ticket_id, Ticket.Status.SOLVED)


@transaction.atomic
def ticket_reopen(*, ticket_id: int) -> Ticket:
    """Back to open (solved by mistake, or more to do); the resolution timer runs again."""
    return _status_set(ticket_id, Ticket.Status.OPEN)


def _status_set(ticket_id: int, status: str) -> Ticket:
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    fields = ticket_status_change(ticket, status)
    if fields:
        ticket_touch(ticket, *fields)
    return ticket


NOTE_MAX_CHARS = 10_000


class ReplyNotAllowed(ValueError):
    """The actor may not answer this ticket (an escalated ticket, supervisors only)."""


def reply_refusal(*, ticket: Ticket, actor: AbstractBaseUser) -> str:
    """Why `actor` may not answer `ticket` now, or "" when they may."""
    if (
        ticket.is_escalated
        and settings.ESCALATED_REPLIES == "supervisors"
        and not actor.has_perm("supportdesk.supervise")
    ):
        return gettext(
            "This ticket is escalated: a supervisor answers it. Add an internal note for "
            "them, or ask them to de-escalate it."
        )
    return ""


def reply_check(*, ticket: Ticket, actor: AbstractBaseUser) -> None:
    refusal = reply_refusal(ticket=ticket, actor=actor)
    if refusal:
        raise ReplyNotAllowed(refusal)


@transaction.atomic
def note_add(*, ticket_id: int, actor: AbstractBaseUser, text: str) -> Note:
    """An internal note for the team; it never reaches the customer."""
    text = text.strip()
    if not text:
        raise ValueError(gettext("The note is empty."))
    if len(text) > NOTE_MAX_CHARS:
        raise ValueError(
            gettext("A note holds at most %(count)s characters.") % {"count": f"{NOTE_MAX_CHARS:,}"}
        )
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    note = Note.objects.create(ticket=ticket, author=actor, body=text)
    ticket_touch(ticket)
    return note


SAVED_VIEWS_MAX = 20


@transaction.atomic
def saved_view_save(*, user: AbstractBaseUser, name: str, query: str) -> SavedView:
    """Save (or replace) the user's view called `name`. `query` is the inbox's query string,
    already read back through its form by the caller."""
    name = " ".join(name.split())[:60]
    if not name:
        raise ValueError(gettext("Give the view a name."))
    existing = SavedView.objects.filter(user=user)
    if not existing.filter(name=name).exists() and existing.count() >= SAVED_VIEWS_MAX:
        raise ValueError(
            gettext("You can keep %(count)s views; delete one first.") % {"count": SAVED_VIEWS_MAX}
        )
    view, _ = SavedView.objects.update_or_create(user=user, name=name, defaults={"query": query})
    return view


def saved_view_delete(*, user: AbstractBaseUser, view_id: int) -> None:
    SavedView.objects.filter(user=user, pk=view_id).delete()


_TAG_CHARS = re.compile(r"[^\w-]+", re.UNICODE)


def tag_name(raw: str) -> str:
    """How a tag is written: lower case, words joined by hyphens ("Refund abuse" → refund-abuse)."""
    return _TAG_CHARS.sub("-", raw.strip().lower()).strip("-")[:40]


@transaction.atomic
def ticket_tag_add(*, ticket_id: int, name: str) -> Tag:
    name = tag_name(name)
    if not name:
        raise ValueError("A tag needs a letter or a digit.")
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    tag, _ = Tag.objects.get_or_create(name=name)
    ticket.tags.add(tag)
    ticket_touch(ticket)
    return tag


@transaction.atomic
def ticket_tag_remove(*, ticket_id: int, tag_id: int) -> None:
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    ticket.tags.remove(tag_id)
    ticket_touch(ticket)


def ticket_touch(ticket: Ticket, *fields: str) -> None:
    """Save the given fields and bump the optimistic-locking version. Caller holds the row."""
    ticket.version += 1
    ticket.save(update_fields=[*fields, "version", "updated_at"])
    realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=ticket.pk)


# How exactly a token's "last used" time is kept.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> str:
    """Create a token and return it. Only its hash is stored: it cannot be shown again."""
    raw = "sd_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_hash_token(raw), prefix=raw[:8])
    return raw


def api_token_authenticate(raw: str) -> AbstractBaseUser | None:
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=_hash_token(raw.strip())).first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        # At most one write a minute per token: an integration posting many tickets a second
        # would otherwise queue every request behind the others' lock on this one row.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def presence_join(*, ticket_id: int, user_id: int, channel_name: str) -> None:
    Presence.objects.update_or_create(
        channel_name=channel_name, defaults={"ticket_id": ticket_id, "user_id": user_id}
    )
    realtime.broadcast(realtime.PRESENCE_CHANGED, ticket_id=ticket_id)


@transaction.atomic
def presence_leave(*, channel_name: str) -> None:
    presence = Presence.objects.filter(channel_name=channel_name).first()
    if presence is None:
        return
    presence.delete()
    realtime.broadcast(realtime.PRESENCE_CHANGED, ticket_id=presence.ticket_id)


def presence_editing(*, ticket_id: int, user_id: int, editing: bool) -> None:
    """`user_id` started (or stopped) typing on the ticket: the other viewers' pages say so."""
    changed = Presence.objects.filter(ticket_id=ticket_id, user_id=user_id).update(
        editing_at=timezone.now() if editing else None
    )
    if changed:
        realtime.broadcast(realtime.PRESENCE_CHANGED, ticket_id=ticket_id)


def auth_session_end(*, session_key: str) -> None:
    """A sign-in session ended (the user logged out): close the desk sockets opened with it.
    Runs in the caller's transaction, if any; the sockets hear of it after commit."""
    realtime.broadcast(realtime.SESSION_ENDED, session_digest=realtime.session_digest(session_key))
