"""The live desk socket. Read-only: it authorises, joins groups and renders the same template
partials the HTTP views render. Writes go through hx-post → view → service."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from supportdesk import realtime
from supportdesk.forms import InboxFilterForm
from supportdesk.models import Ticket
from supportdesk.selectors import InboxFilters, ticket_detail, ticket_for_inbox_row
from supportdesk.services import presence_join, presence_leave
from triage.services import agent_session_close, agent_session_open

FORBIDDEN = 4403


class DeskConsumer(AsyncWebsocketConsumer):
    """`/ws/desk/?view=inbox&<filters>` | `?view=ticket&id=N` | `?view=supervisor`."""

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.groups_joined: list[str] = []
        self.ticket_id: int | None = None
        self.draft_state: str | None = None
        allowed = await self._permissions()
        if not allowed["work_inbox"]:
            await self.close(code=FORBIDDEN)
            return
        query = {
            k: v[-1] for k, v in parse_qs(self.scope.get("query_string", b"").decode()).items()
        }
        self.view = query.get("view", "inbox")
        self.can_supervise = allowed["supervise"]
        groups = [realtime.SUPERVISORS_GROUP] if self.can_supervise else []
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
        html = await database_sync_to_async(self._render)(event["event"], event.get("ticket_id"))
        if html:
            await self.send(text_data=html)

    # -- sync helpers (run in a thread) ---------------------------------------------------

    @database_sync_to_async
    def _permissions(self) -> dict[str, bool]:
        user = self.user
        if user is None or not user.is_authenticated:
            return {"work_inbox": False, "supervise": False}
        return {
            "work_inbox": user.has_perm("supportdesk.work_inbox"),
            "supervise": user.has_perm("supportdesk.supervise"),
        }

    @database_sync_to_async
    def _filters(self, query: dict[str, str]) -> InboxFilters:
        from triage.models import Category

        return InboxFilterForm(query, categories=Category.objects.filter(active=True)).filters()

    @database_sync_to_async
    def _draft_state(self) -> str | None:
        try:
            return ticket_detail(ticket_id=self.ticket_id).draft_state
        except Ticket.DoesNotExist:
            return None

    def _render(self, event_type: str, ticket_id: int | None) -> str:
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
        from triage.selectors import escalations_open_count

        return render_to_string(
            "base.html#escalation-badge",
            {"escalation_count": escalations_open_count(), "oob": True},
        )

    def _render_escalations(self) -> str:
        from triage.selectors import ESCALATION_PAGE, escalations_open

        return render_to_string(
            "supportdesk/supervisor.html#escalation-list",
            {"escalations": list(escalations_open()[:ESCALATION_PAGE]), "oob": True},
        )

    def _render_row(self, event_type: str, ticket_id: int) -> str:
        ticket = ticket_for_inbox_row(ticket_id=ticket_id, user=self.user, filters=self.filters)
        if ticket is None:
            # No longer matches this inbox's filters: drop the row if the page shows it.
            return f'<div id="ticket-{int(ticket_id)}" hx-swap-oob="delete"></div>'
        swap = "afterbegin:#ticket-rows" if event_type == realtime.TICKET_CREATED else "true"
        return render_to_string(
            "supportdesk/inbox.html#ticket-row",
            {"ticket": ticket, "oob_swap": swap, "is_new": True},
        )

    def _render_ticket(self, event_type: str) -> str:
        from supportdesk.views import ticket_context

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
