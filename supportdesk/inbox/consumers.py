"""The live desk socket. Read-only: it authorises, joins groups and renders the same template
partials the HTTP views render. Writes go through hx-post → view → service."""

from __future__ import annotations

import time
import zoneinfo
from importlib import import_module
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
from supportdesk.inbox.forms import InboxFilterForm
from supportdesk.inbox.selectors import InboxFilters, ticket_detail, ticket_for_inbox_row
from supportdesk.inbox.views import ticket_context
from supportdesk.models import Category, Ticket
from supportdesk.preferences import time_zone_of
from supportdesk.services import presence_join, presence_leave
from triage.selectors import escalations_open_count, escalations_open_page
from triage.services import agent_session_close, agent_session_open

FORBIDDEN = 4403
# The sign-in this socket was opened with is over (logged out, expired, password changed, user
# deactivated). The page says so and offers to sign in again instead of reconnecting.
SIGN_IN_AGAIN = 4401


class DeskConsumer(AsyncWebsocketConsumer):
    """`/ws/desk/?view=inbox&<filters>` | `?view=ticket&id=N` | `?view=supervisor`.

    Before it sends anything, it makes sure the session it was opened with still signs its user
    in. A logout closes the session's sockets at once (a `realtime.SESSION_ENDED` event); an
    expired or deleted session is noticed at the next event; a deactivated user, a changed
    password or a lost permission at the first event once `USER_RECHECK_SECONDS` have passed."""

    # Reading the session is one primary-key lookup and happens for every event; the user and
    # their permissions cost three more queries, so they are read again at most this often.
    USER_RECHECK_SECONDS = 30.0

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
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "ticket_id", None) is not None:
            await database_sync_to_async(presence_leave)(channel_name=self.channel_name)
        if getattr(self, "session_open", False):
            await database_sync_to_async(agent_session_close)(channel_name=self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Clients send nothing that changes state here."""

    async def desk_event(self, event: dict) -> None:
        if self.ended:
            return  # closed; events may still arrive until the server confirms the close
        if event["event"] == realtime.SESSION_ENDED:
            await self._end(SIGN_IN_AGAIN)
            return
        refused = await self._recheck()
        if refused is not None:
            await self._end(refused)
            return
        html = await database_sync_to_async(self._render)(event["event"], event.get("ticket_id"))
        if html:
            await self.send(text_data=html)

    async def _end(self, code: int) -> None:
        self.ended = True
        await self.close(code=code)

    async def _recheck(self) -> int | None:
        """The close code if this socket may no longer show the desk, else None."""
        recheck_user = time.monotonic() - self.user_checked_at >= self.USER_RECHECK_SECONDS
        user = await database_sync_to_async(self._signed_in_user)(reload=recheck_user)
        if user is None:
            return SIGN_IN_AGAIN
        if not recheck_user:
            return None
        allowed = await self._permissions(user)
        self.user, self.user_checked_at = user, time.monotonic()
        if not allowed["work_inbox"] or (self.view == "supervisor" and not allowed["supervise"]):
            return FORBIDDEN
        self.can_supervise = allowed["supervise"]
        return None

    # -- sync helpers (run in a thread) ---------------------------------------------------

    def _signed_in_user(self, *, reload: bool) -> AbstractBaseUser | None:
        """The user this socket's session still signs in, or None once it does not.

        Reads a fresh copy of the session from the store: the one in the scope was loaded at
        connect. Unlike Django's own check it never writes (no flush, no key rotation), so the
        socket stays read-only. With `reload`, also reads the user again, as the session
        middleware would: None for a deactivated user or one whose password changed."""
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=self.session_key)
        data = store.load()  # {} once the session was logged out, expired or deleted
        try:
            user_id = get_user_model()._meta.pk.to_python(data[SESSION_KEY])
            backend_path = data[BACKEND_SESSION_KEY]
        except KeyError:
            return None
        if user_id != self.user.pk or backend_path not in settings.AUTHENTICATION_BACKENDS:
            return None
        if not reload:
            return self.user
        user = load_backend(backend_path).get_user(user_id)
        if user is None:  # deactivated (or deleted)
            return None
        if hasattr(user, "get_session_auth_hash"):
            session_hash = data.get(HASH_SESSION_KEY) or ""
            current = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
            if not session_hash or not any(constant_time_compare(session_hash, h) for h in current):
                return None
        return user

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

    def _render(self, event_type: str, ticket_id: int | None) -> str:
        zone = zoneinfo.ZoneInfo(self.time_zone) if getattr(self, "time_zone", "") else None
        with timezone.override(zone), translation.override(getattr(self, "language", None)):
            return self._render_parts(event_type, ticket_id)

    def _render_parts(self, event_type: str, ticket_id: int | None) -> str:
        parts: list[str] = []
        if event_type == realtime.ESCALATIONS_CHANGED and self.can_supervise:
            parts.append(self._render_badge())
            if self.view == "supervisor":
                parts.append(self._render_escalations())
        if self.view == "inbox" and event_type in (
            realtime.TICKET_CREATED,
            realtime.TICKET_UPDATED,
        ):
            parts.append(self._render_row(event_type, ticket_id))
        if self.view == "ticket" and ticket_id == self.ticket_id:
            parts.append(self._render_ticket(event_type))
        return "".join(p for p in parts if p)

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

    def _render_row(self, event_type: str, ticket_id: int) -> str:
        ticket = ticket_for_inbox_row(ticket_id=ticket_id, user=self.user, filters=self.filters)
        if ticket is None:
            # No longer matches this inbox's filters: drop the row if the page shows it.
            return f'<div id="ticket-{int(ticket_id)}" hx-swap-oob="delete"></div>'
        if event_type == realtime.TICKET_CREATED and self.filters.sort == "oldest":
            # Longest waiting first: a new ticket belongs at the far end of the queue, past the
            # pages this inbox has loaded; it shows there when the agent gets to it.
            return ""
        swap = "afterbegin:#ticket-rows" if event_type == realtime.TICKET_CREATED else "true"
        return render_to_string(
            "supportdesk/inbox.html#ticket-row",
            {"ticket": ticket, "oob_swap": swap, "is_new": True},
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


def _page_language(code: str) -> str:
    """One of LANGUAGES for the page's `lang`; the default language for anything else."""
    try:
        return translation.get_supported_language_variant(code) if code else settings.LANGUAGE_CODE
    except LookupError:
        return settings.LANGUAGE_CODE
