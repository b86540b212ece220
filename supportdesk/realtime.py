"""The one broadcast helper. Only services call it, and it sends only after commit.

Events carry a type and ids, never HTML: each consumer renders the same template partial the
HTTP view renders, for its own user.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import asdict, dataclass, field

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# Event types.
TICKET_CREATED = "ticket.created"  # a new ticket arrived
TICKET_UPDATED = "ticket.updated"  # triage, routing, draft, status or assignee changed
ESCALATIONS_CHANGED = "escalations.changed"  # an escalation was raised or acknowledged
PRESENCE_CHANGED = "presence.changed"  # someone opened or left a ticket page
SESSION_ENDED = "session.ended"  # a sign-in session logged out: its desk sockets close
EVENT_TYPES = (
    TICKET_CREATED,
    TICKET_UPDATED,
    ESCALATIONS_CHANGED,
    PRESENCE_CHANGED,
    SESSION_ENDED,
)

# Groups.
INBOX_GROUP = "inbox"
SUPERVISORS_GROUP = "supervisors"


def ticket_group(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


def session_digest(session_key: str) -> str:
    """How a sign-in session is named on the channel layer. The key itself signs its holder in,
    so it never goes into a group name or an event, where the channel layer's store and logs
    would keep it."""
    return hashlib.sha256(session_key.encode()).hexdigest()


def session_group(digest: str) -> str:
    """Every desk socket opened with that session; `digest` comes from `session_digest`."""
    return f"session-{digest}"


@dataclass(frozen=True)
class DeskEvent:
    event: str
    ticket_id: int | None = None
    # Only for SESSION_ENDED, and only ever the digest of the session key.
    session_digest: str | None = None
    # Consumers dispatch on "type": every event lands in their desk_event handler.
    type: str = "desk.event"
    # Names this one event: the sockets of a process that receive it read and render what it
    # changed once, together (supportdesk/inbox/fanout.py), not once each.
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    def __post_init__(self) -> None:
        if self.event not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.event!r}")
        if self.event == SESSION_ENDED:
            if self.session_digest is None:
                raise ValueError(f"{SESSION_ENDED!r} needs the digest of the session that ended")
            if self.ticket_id is not None:
                raise ValueError(f"{SESSION_ENDED!r} is about a session, not a ticket")
        elif self.session_digest is not None:
            raise ValueError(f"only {SESSION_ENDED!r} names a session")


def groups_for(event: DeskEvent) -> list[str]:
    if event.event == SESSION_ENDED:
        return [session_group(event.session_digest)]
    if event.event == ESCALATIONS_CHANGED:
        groups = [SUPERVISORS_GROUP]
    elif event.event == PRESENCE_CHANGED:
        groups = []
    else:
        groups = [INBOX_GROUP]
    if event.ticket_id is not None:
        groups.append(ticket_group(event.ticket_id))
    return groups


def broadcast(
    event_type: str, *, ticket_id: int | None = None, session_digest: str | None = None
) -> None:
    """Queue an event for every interested socket once the current transaction commits."""
    event = DeskEvent(event=event_type, ticket_id=ticket_id, session_digest=session_digest)
    transaction.on_commit(lambda: send_now(event))


def send_now(event: DeskEvent) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    payload = asdict(event)
    for group in groups_for(event):
        try:
            async_to_sync(layer.group_send)(group, payload)
        except Exception:  # a live update must never break the write that caused it
            logger.exception("broadcast of %s to %s failed", event.event, group)
