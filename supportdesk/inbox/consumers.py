"""The live desk socket. Read-only: it authorises, joins groups and renders the same template
partials the HTTP views render. Writes go through hx-post → view → service."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zoneinfo
from collections.abc import Callable
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.models import AbstractBaseUser
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare

from supportdesk import realtime
from supportdesk.inbox import fanout
from supportdesk.inbox.forms import InboxFilterForm
from supportdesk.inbox.selectors import (
    InboxFilters,
    inbox_row,
    inbox_row_matches,
    inbox_row_matches_search,
)
from supportdesk.inbox.ticket_page import ticket_detail
from supportdesk.inbox.views import ticket_context
from supportdesk.models import Category, Ticket
from supportdesk.preferences import time_zone_of
from supportdesk.services import presence_join, presence_leave
from triage.selectors import escalations_open_count, escalations_open_page
from triage.services import agent_session_close, agent_session_open

logger = logging.getLogger(__name__)

ROW_EVENTS = (realtime.TICKET_CREATED, realtime.TICKET_UPDATED)
FORBIDDEN = 4403
# The sign-in this socket was opened with is over (logged out, expired, password changed, user
# deactivated). The page says so and offers to sign in again instead of reconnecting.
SIGN_IN_AGAIN = 4401


class DeskConsumer(AsyncWebsocketConsumer):
    """`/ws/desk/?view=inbox&<filters>` | `?view=ticket&id=N` | `?view=supervisor`.

    Before it sends anything, it makes sure the session it was opened with still signs its user
    in. A logout closes the session's sockets at once (a `realtime.SESSION_ENDED` event); an
    expired or deleted session is noticed at the next event; a deactivated user, a changed
    password or a lost permission at the first event once `USER_RECHECK_SECONDS` have passed.

    The work an event causes is done once per process, not once per socket (`fanout`): one read
    of every open socket's session, one read of a user's permissions, one read of the ticket's
    row and one render per language and time zone, shared by all the sockets that receive the
    event. Updates of one ticket that arrive within `COALESCE_SECONDS` become one row update."""

    # Every event re-reads the sessions of the process's open sockets (a query per 500, shared
    # by all of them); the user and their permissions cost three more queries per user, so they
    # are read again at most this often.
    USER_RECHECK_SECONDS = 30.0
    # A burst of updates to one ticket (triage, routing, a draft, in quick succession) is sent
    # to an open inbox as one row, read after the last of them.
    COALESCE_SECONDS = 0.075

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.groups_joined: list[str] = []
        self.ticket_id: int | None = None
        self.draft_state: str | None = None
        self.ended = False
        if self.user is None or not self.user.is_authenticated:
            # A code sent while refusing the handshake never reaches the page (browsers report
            # 1006, which the page answers by reconnecting, forever): accept, then say why.
            await self.accept()
            await self._end(SIGN_IN_AGAIN)
            return
        self.session_key: str = self.scope["session"].session_key
        fanout.session_opened(self.session_key)
        self.session_registered = True
        allowed = await self._permissions(self.user)
        self.user_checked_at = time.monotonic()
        # Dates in the fragments this socket renders are shown in its person's time zone.
        self.time_zone = await database_sync_to_async(time_zone_of)(self.user)
        if not allowed["work_inbox"]:
            await self.close(code=FORBIDDEN)
            return
        query = {
            k: v[-1] for k, v in parse_qs(self.scope.get("query_string", b"").decode()).items()
        }
        self.view = query.get("view", "inbox")
        # Fragments speak the language of the page that opened the socket.
        self.language = _page_language(query.get("lang", ""))
        self.can_supervise = allowed["supervise"]
        groups = [realtime.session_group(realtime.session_digest(self.session_key))]
        if self.can_supervise:
            groups.append(realtime.SUPERVISORS_GROUP)
        if self.view == "ticket":
            try:
                self.ticket_id = int(query.get("id", ""))
            except ValueError:
                await self.close(code=4400)
                return
            self.draft_state = await self._draft_state()
            if self.draft_state is None:
                await self.close(code=4404)
                return
            # The page says which draft it was rendered with (`draft`, as its data-draft). If
            # the draft changed between that render and this connect, no later event would
            # bring the panel: send it right after accepting.
            shown = query.get("draft")
            self.catch_up = shown is not None and shown != self.draft_state
            groups.append(realtime.ticket_group(self.ticket_id))
        elif self.view == "supervisor":
            if not self.can_supervise:
                await self.close(code=FORBIDDEN)
                return
        else:
            self.view = "inbox"
            self.filters = await self._filters(query)
            # Row events waiting to be sent, ticket id -> id of the latest event about it.
            self.rows_created: dict[int, str] = {}
            self.rows_updated: dict[int, str] = {}
            self.rows_latest = ""  # the id of the row event that arrived last
            self.rows_flush: asyncio.Task | None = None
            groups.append(realtime.INBOX_GROUP)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.accept()
        # An open desk page means the agent is online and can be assigned tickets.
        await database_sync_to_async(agent_session_open)(
            user_id=self.user.pk, channel_name=self.channel_name
        )
        self.session_open = True
        if self.view == "ticket":
            await database_sync_to_async(presence_join)(
                ticket_id=self.ticket_id, user_id=self.user.pk, channel_name=self.channel_name
            )
            if self.catch_up:
                self.draft_state = None  # what the page shows is not the current draft
                await self.desk_event(
                    {"event": realtime.TICKET_UPDATED, "ticket_id": self.ticket_id}
                )

    async def disconnect(self, code: int) -> None:
        if getattr(self, "session_registered", False):
            self.session_registered = False
            fanout.session_closed(self.session_key)
        flush = getattr(self, "rows_flush", None)
        if flush is not None:
            flush.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "ticket_id", None) is not None:
            await database_sync_to_async(presence_leave)(channel_name=self.channel_name)
        if getattr(self, "session_open", False):
            await database_sync_to_async(agent_session_close)(channel_name=self.channel_name)

    async def dispatch(self, message: dict) -> None:
        if message["type"] == "desk.event":
            # Channels closes stale database connections before every handler: a hop to the
            # one database thread for every socket at every event, which queues them all behind
            # each other. This handler reads only through database_sync_to_async, which closes
            # them around each read itself.
            await self.desk_event(message)
            return
        await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients send nothing that changes state here."""

    async def desk_event(self, event: dict) -> None:
        if self.ended:
            return  # closed; events may still arrive until the server confirms the close
        if event["event"] == realtime.SESSION_ENDED:
            await self._end(SIGN_IN_AGAIN)
            return
        # An event from before events were named (or the catch-up below) shares nothing.
        event_id = event.get("event_id") or uuid.uuid4().hex
        if self.view == "inbox" and event["event"] in ROW_EVENTS:
            self._queue_row(event["event"], event["ticket_id"], event_id)
            return
        refused = await self._recheck(event_id)
        if refused is not None:
            await self._end(refused)
            return
        html = await self._render_shared(event["event"], event.get("ticket_id"), event_id)
        if html:
            await self.send(text_data=html)

    # -- inbox rows: coalesced, read and rendered once per process ------------------------------

    def _queue_row(self, event_type: str, ticket_id: int, event_id: str) -> None:
        if event_type == realtime.TICKET_CREATED:
            self.rows_created[ticket_id] = event_id
        else:
            self.rows_updated[ticket_id] = event_id
        self.rows_latest = event_id
        if self.rows_flush is None or self.rows_flush.done():
            # A new row goes out at once; updates wait a moment for the rest of their burst.
            delay = 0 if event_type == realtime.TICKET_CREATED else self.COALESCE_SECONDS
            self.rows_flush = asyncio.create_task(self._flush_rows(delay))

    async def _flush_rows(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            while (self.rows_created or self.rows_updated) and not self.ended:
                await self._send_rows()
        except Exception:  # the next event tries again; the socket stays open
            logger.exception("live inbox rows for %s failed", self.channel_name)

    async def _send_rows(self) -> None:
        created, self.rows_created = self.rows_created, {}
        updated, self.rows_updated = self.rows_updated, {}
        # The session is read for the event that arrived last, so after all of these were
        # sent: a session that ended before any of them is noticed here.
        refused = await self._recheck(self.rows_latest)
        if refused is not None:
            await self._end(refused)
            return
        parts = [
            await self._row_fragment(realtime.TICKET_CREATED, ticket_id, event_id)
            for ticket_id, event_id in created.items()
        ]
        # An update after the creation in the same flush still goes out: the page has the row
        # only once the created fragment is swapped in.
        parts += [
            await self._row_fragment(realtime.TICKET_UPDATED, ticket_id, event_id)
            for ticket_id, event_id in updated.items()
        ]
        html = "".join(p for p in parts if p)
        if html and not self.ended:
            await self.send(text_data=html)

    async def _row_fragment(self, event_type: str, ticket_id: int, event_id: str) -> str:
        work = fanout.event_work()
        ticket = await work.once(
            event_id,
            ("row", ticket_id),
            lambda: database_sync_to_async(inbox_row)(ticket_id=ticket_id),
        )
        shown = ticket is not None and inbox_row_matches(
            ticket, filters=self.filters, user_id=self.user.pk
        )
        if shown is None:  # depends on the search words too
            q = self.filters.q
            shown = await work.once(
                event_id,
                ("search", ticket_id, q),
                lambda: database_sync_to_async(inbox_row_matches_search)(ticket_id=ticket_id, q=q),
            )
        if not shown:
            # No longer matches this inbox's filters: drop the row if the page shows it.
            return f'<div id="ticket-{int(ticket_id)}" hx-swap-oob="delete"></div>'
        if event_type == realtime.TICKET_CREATED and self.filters.sort == "oldest":
            # Longest waiting first: a new ticket belongs at the far end of the queue, past the
            # pages this inbox has loaded; it shows there when the agent gets to it.
            return ""
        swap = "afterbegin:#ticket-rows" if event_type == realtime.TICKET_CREATED else "true"
        language, zone = self.language, getattr(self, "time_zone", "")
        return await work.once(
            event_id,
            ("render-row", ticket_id, swap, language, zone),
            lambda: database_sync_to_async(self._in_locale)(
                language,
                zone,
                render_to_string,
                "supportdesk/inbox.html#ticket-row",
                {"ticket": ticket, "oob_swap": swap, "is_new": True},
            ),
        )

    async def _render_shared(self, event_type: str, ticket_id: int | None, event_id: str) -> str:
        """What this socket's page shows of an event other than an inbox row: the escalation
        badge and list, read and rendered once per language (and time zone) for the process;
        the open ticket, per socket."""
        parts: list[str] = []
        if event_type == realtime.ESCALATIONS_CHANGED and self.can_supervise:
            work, language = fanout.event_work(), self.language
            parts.append(
                await work.once(
                    event_id,
                    ("render-badge", language),
                    lambda: database_sync_to_async(self._in_locale)(
                        language, "", self._render_badge
                    ),
                )
            )
            if self.view == "supervisor":
                zone = getattr(self, "time_zone", "")
                parts.append(
                    await work.once(
                        event_id,
                        ("render-escalations", language, zone),
                        lambda: database_sync_to_async(self._in_locale)(
                            language, zone, self._render_escalations
                        ),
                    )
                )
        if self.view == "ticket" and ticket_id == self.ticket_id:
            # Per socket: the viewers leave out the socket's own user, and the editor is sent
            # only when the draft this page shows changed.
            parts.append(
                await database_sync_to_async(self._in_locale)(
                    self.language, getattr(self, "time_zone", ""), self._render_ticket, event_type
                )
            )
        return "".join(p for p in parts if p)

    async def _end(self, code: int) -> None:
        self.ended = True
        await self.close(code=code)

    async def _recheck(self, event_id: str) -> int | None:
        """The close code if this socket may no longer show the desk, else None.

        The session and the user are read once for every socket of this process that handles
        the event `event_id`."""
        recheck_user = time.monotonic() - self.user_checked_at >= self.USER_RECHECK_SECONDS
        data = await self._session_data(event_id)
        user = self._session_user(data)
        if user is None:
            return SIGN_IN_AGAIN
        if not recheck_user:
            return None
        user_id, backend = user.pk, data[BACKEND_SESSION_KEY]
        user, allowed = await fanout.event_work().once(
            event_id,
            ("user", backend, user_id),
            lambda: database_sync_to_async(_user_and_permissions)(backend, user_id),
        )
        if user is None or not _session_hash_current(data, user):
            return SIGN_IN_AGAIN
        self.user, self.user_checked_at = user, time.monotonic()
        if not allowed["work_inbox"] or (self.view == "supervisor" and not allowed["supervise"]):
            return FORBIDDEN
        self.can_supervise = allowed["supervise"]
        return None

    async def _session_data(self, event_id: str) -> dict:
        """A fresh copy of this socket's session data ({} once it ended): the one in the scope
        was loaded at connect. Unlike Django's own check it never writes (no flush, no key
        rotation), so the socket stays read-only."""
        sessions = await fanout.event_work().once(
            event_id,
            ("sessions",),
            lambda: database_sync_to_async(fanout.session_data)(fanout.open_session_keys()),
        )
        if self.session_key in sessions:
            return sessions[self.session_key]
        # Opened after the event's read began: its own read.
        mine = frozenset([self.session_key])
        return (await database_sync_to_async(fanout.session_data)(mine))[self.session_key]

    def _session_user(self, data: dict) -> AbstractBaseUser | None:
        """This socket's user while `data` (its session's) still signs them in, else None."""
        try:
            user_id = get_user_model()._meta.pk.to_python(data[SESSION_KEY])
            backend_path = data[BACKEND_SESSION_KEY]
        except KeyError:
            return None
        if user_id != self.user.pk or backend_path not in settings.AUTHENTICATION_BACKENDS:
            return None
        return self.user

    # -- sync helpers (run in a thread) ---------------------------------------------------

    @database_sync_to_async
    def _permissions(self, user: AbstractBaseUser) -> dict[str, bool]:
        return {
            "work_inbox": user.has_perm("supportdesk.work_inbox"),
            "supervise": user.has_perm("supportdesk.supervise"),
        }

    @database_sync_to_async
    def _filters(self, query: dict[str, str]) -> InboxFilters:
        return InboxFilterForm(query, categories=Category.objects.filter(active=True)).filters()

    @database_sync_to_async
    def _draft_state(self) -> str | None:
        try:
            return ticket_detail(ticket_id=self.ticket_id).draft_state
        except Ticket.DoesNotExist:
            return None

    def _in_locale(self, language: str, zone: str, render: Callable[..., str], *args) -> str:
        """`render(*args)` in `language`, with dates shown in the time zone `zone`."""
        with (
            timezone.override(zoneinfo.ZoneInfo(zone) if zone else None),
            translation.override(language),
        ):
            return render(*args)

    def _render_badge(self) -> str:
        return render_to_string(
            "base.html#escalation-badge",
            {"escalation_count": escalations_open_count(), "oob": True},
        )

    def _render_escalations(self) -> str:
        return render_to_string(
            "supportdesk/supervisor.html#escalation-list",
            {"escalations": escalations_open_page(), "oob": True},
        )

    def _render_ticket(self, event_type: str) -> str:
        context = ticket_context(ticket_detail(ticket_id=self.ticket_id), user=self.user)
        context["oob"] = True
        if event_type == realtime.PRESENCE_CHANGED:
            return render_to_string("supportdesk/ticket.html#viewers", context)
        html = render_to_string("supportdesk/ticket.html#ticket-summary", context)
        html += render_to_string("supportdesk/ticket.html#thread", context)
        state = context["detail"].draft_state
        # Never replace the editor under an agent's fingers unless the draft itself changed.
        if state != self.draft_state:
            self.draft_state = state
            html += render_to_string("supportdesk/ticket.html#draft-panel", context)
        return html


def _user_and_permissions(
    backend_path: str, user_id: object
) -> tuple[AbstractBaseUser | None, dict[str, bool]]:
    """The user as the session middleware would load them again (None once deactivated or
    deleted), and the permissions the desk asks for."""
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return None, {}
    return user, {
        "work_inbox": user.has_perm("supportdesk.work_inbox"),
        "supervise": user.has_perm("supportdesk.supervise"),
    }


def _session_hash_current(data: dict, user: AbstractBaseUser) -> bool:
    """Whether the session was signed in with the user's current password (Django's check)."""
    if not hasattr(user, "get_session_auth_hash"):
        return True
    session_hash = data.get(HASH_SESSION_KEY) or ""
    current = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return bool(session_hash) and any(constant_time_compare(session_hash, h) for h in current)


def _page_language(code: str) -> str:
    """One of LANGUAGES for the page's `lang`; the default language for anything else."""
    try:
        return translation.get_supported_language_variant(code) if code else settings.LANGUAGE_CODE
    except LookupError:
        return settings.LANGUAGE_CODE
