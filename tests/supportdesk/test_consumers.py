"""The live desk socket, through the real ASGI stack (origin check, session auth) and the real
Redis channel layer: who may connect, and what each open page receives after a commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.utils import timezone

from replies.services import draft_send
from supportdesk import realtime
from supportdesk.asgi import application
from supportdesk.inbox import consumers
from supportdesk.inbox.consumers import DeskConsumer
from supportdesk.models import Presence, Ticket
from supportdesk.services import ticket_create, ticket_solve
from tests.factories import (
    DEFAULT_PASSWORD,
    CustomerFactory,
    DraftFactory,
    TicketFactory,
    TriageResultFactory,
)
from tests.sockets import desk_socket
from triage.escalations import escalation_raise
from triage.services import triage_correct

# Consumers read through their own threads and connections: rows must really be committed.
pytestmark = pytest.mark.django_db(transaction=True)

ARRIVE = 5.0  # seconds to wait for a frame that must come
QUIET = 0.6  # seconds of silence that count as "nothing more is coming"
# Seconds a consumer gets to run its disconnect handler (database writes) on a loaded machine.
HANG_UP = 10.0
SIGN_IN_AGAIN = 4401  # the close code the page answers with "Your session ended"


_socket = desk_socket


async def _until(socket: WebsocketCommunicator, marker: str) -> list[str]:
    """Frames up to and including the first one containing `marker`."""
    frames: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ARRIVE
    while loop.time() < deadline:
        try:
            frame = await socket.receive_from(timeout=deadline - loop.time())
        except TimeoutError:
            break
        frames.append(frame)
        if marker in frame:
            return frames
    raise AssertionError(f"no frame with {marker!r} within {ARRIVE}s; got {frames!r}")


async def _drain(socket: WebsocketCommunicator) -> list[str]:
    """Every frame until the socket has been quiet for QUIET seconds."""
    frames: list[str] = []
    # receive_nothing, unlike a receive that times out, leaves the consumer running.
    while not await socket.receive_nothing(timeout=QUIET):
        frames.append(await socket.receive_from())
    return frames


async def _hang_up(socket: WebsocketCommunicator) -> None:
    """End the connection as a server does, refused or not: the consumer gets its
    websocket.disconnect and stops its channel-layer reader itself. Leaving it running for
    asyncio.run to cancel could hang the test on the Redis reader's cancellation."""
    await socket.disconnect(timeout=HANG_UP)


async def _close_code(socket: WebsocketCommunicator) -> tuple[int, list[str]]:
    """The code the server closes with, and the frames it sent before closing."""
    frames: list[str] = []
    while True:
        try:
            output = await socket.receive_output(timeout=ARRIVE)
        except TimeoutError:
            raise AssertionError(f"not closed within {ARRIVE}s; sent {frames!r}") from None
        if output["type"] == "websocket.close":
            return output["code"], frames
        frames.append(output["text"])


def _signed_in(username: str) -> Client:
    """A browser that signed in through the login form: a real session with its auth hash."""
    client = Client()
    response = client.post("/login/", {"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, "the sign-in was refused"
    return client


def _connect_result(path: str, client: Client | None = None):
    async def attempt():
        socket = _socket(path, client)
        result = await socket.connect()
        await _hang_up(socket)
        return result

    return async_to_sync(attempt)()


def _new_ticket(subject: str = "Where is my parcel?") -> Ticket:
    return ticket_create(
        email="maria@example.com",
        name="Maria Lopez",
        subject=subject,
        body="The tracking still says dispatched.",
        channel=Ticket.Channel.WEB,
    )


# -- who may connect ---------------------------------------------------------------------------


def test_socket_without_a_session_is_told_to_sign_in(db):
    """The code must reach the page: a refused handshake shows up there as 1006, which the page
    answers by reconnecting."""

    async def attempt():
        socket = _socket("/ws/desk/?view=inbox")
        connected, _ = await socket.connect()
        code, frames = await _close_code(socket)
        await _hang_up(socket)
        return connected, code, frames

    assert async_to_sync(attempt)() == (True, SIGN_IN_AGAIN, [])


def test_socket_from_a_foreign_origin_is_refused(agent_client):
    async def attempt():
        socket = WebsocketCommunicator(
            application,
            "/ws/desk/?view=inbox",
            headers=[
                (b"origin", b"http://evil.example"),
                (b"cookie", f"sessionid={agent_client.cookies['sessionid'].value}".encode()),
            ],
        )
        connected, _ = await socket.connect()
        await _hang_up(socket)
        return connected

    assert async_to_sync(attempt)() is False


def test_user_without_a_role_is_refused(client, outsider):
    client.force_login(outsider)

    assert _connect_result("/ws/desk/?view=inbox", client) == (False, 4403)


def test_agent_may_not_open_the_supervisor_socket(agent_client):
    assert _connect_result("/ws/desk/?view=supervisor", agent_client) == (False, 4403)


def test_ticket_socket_for_a_missing_or_malformed_ticket_is_refused(agent_client):
    assert _connect_result("/ws/desk/?view=ticket&id=999", agent_client) == (False, 4404)
    assert _connect_result("/ws/desk/?view=ticket&id=abc", agent_client) == (False, 4400)


# -- the inbox ---------------------------------------------------------------------------------


def test_inbox_socket_receives_the_row_of_a_new_ticket(agent_client, stub_triage):
    stub_triage()

    async def scenario():
        socket = _socket("/ws/desk/?view=inbox", agent_client)
        assert (await socket.connect())[0]
        ticket = await database_sync_to_async(_new_ticket)()
        # With TASK_BACKEND=sync the pipeline's updates may arrive first; the new row is the
        # frame that prepends to the list.
        frames = await _until(socket, "afterbegin:#ticket-rows")
        await _hang_up(socket)
        return ticket, frames

    ticket, frames = async_to_sync(scenario)()

    row = frames[-1]
    assert row.strip().startswith('<div hx-swap-oob="afterbegin:#ticket-rows">')
    assert f'<article id="ticket-{ticket.pk}"' in row
    assert "Where is my parcel?" in row
    assert "Maria Lopez" in row


def test_inbox_socket_only_sends_rows_that_match_its_filters(agent_client, stub_triage):
    stub_triage(urgency="low")

    async def scenario():
        socket = _socket("/ws/desk/?view=inbox&urgency=high", agent_client)
        assert (await socket.connect())[0]
        ticket = await database_sync_to_async(_new_ticket)()
        frames = await _until(socket, f'id="ticket-{ticket.pk}"')
        frames += await _drain(socket)
        await _hang_up(socket)
        return ticket, frames

    ticket, frames = async_to_sync(scenario)()

    assert frames
    assert all(f == f'<div id="ticket-{ticket.pk}" hx-swap-oob="delete"></div>' for f in frames)


def test_an_inbox_sorted_longest_waiting_first_gets_no_new_row_at_its_top(
    agent_client, stub_triage
):
    stub_triage()

    async def scenario():
        socket = _socket("/ws/desk/?view=inbox&sort=oldest", agent_client)
        assert (await socket.connect())[0]
        ticket = await database_sync_to_async(_new_ticket)()
        # The pipeline's update of the row still comes (it changes the row if it is shown).
        frames = await _until(socket, f'<article id="ticket-{ticket.pk}"')
        frames += await _drain(socket)
        await _hang_up(socket)
        return frames

    frames = async_to_sync(scenario)()

    assert not any("afterbegin:#ticket-rows" in f for f in frames)


def test_inbox_row_is_replaced_in_place_when_triage_labels_the_ticket(
    agent_client, stub_triage, categories
):
    stub_triage(category="delivery", emotion="anxious", urgency="medium")

    async def scenario():
        socket = _socket("/ws/desk/?view=inbox", agent_client)
        assert (await socket.connect())[0]
        ticket = await database_sync_to_async(_new_ticket)()
        frames = await _until(socket, 'hx-swap-oob="true"')
        await _hang_up(socket)
        return ticket, frames

    ticket, frames = async_to_sync(scenario)()

    assert "afterbegin:#ticket-rows" in frames[0]  # "created" is announced before any update
    updated = frames[-1]
    assert "emotion-anxious" in updated
    assert f'<article id="ticket-{ticket.pk}"' in updated
    assert 'hx-swap-oob="true"' in updated
    assert "afterbegin" not in updated
    assert "Delivery" in updated


# -- the ticket page ---------------------------------------------------------------------------


def test_ticket_socket_shows_who_else_is_viewing(agent_client, other_agent_client):
    ticket = TicketFactory()
    path = f"/ws/desk/?view=ticket&id={ticket.pk}"

    async def scenario():
        alice = _socket(path, agent_client)
        assert (await alice.connect())[0]
        await _until(alice, 'id="viewers"')  # her own arrival
        bob = _socket(path, other_agent_client)
        assert (await bob.connect())[0]
        joined = await _until(alice, "bob")
        await _hang_up(bob)
        left = await _until(alice, 'id="viewers"')
        await _hang_up(alice)
        return joined[-1], left[-1]

    joined, left = async_to_sync(scenario)()

    assert 'id="viewers"' in joined and 'hx-swap-oob="true"' in joined
    assert '<span class="viewer">bob</span>' in joined
    assert "alice" not in joined  # nobody is told they are watching themselves
    assert "bob" not in left
    assert not Presence.objects.filter(ticket=ticket).exists()


def test_ticket_socket_refreshes_summary_but_keeps_the_editor_until_the_draft_changes(
    agent_client, agent, other_agent, categories
):
    draft = DraftFactory(
        in_reply_to__ticket__category=categories["delivery"],
        in_reply_to__ticket__emotion="neutral",
    )
    TriageResultFactory(message=draft.in_reply_to, category="delivery", emotion="neutral")
    path = f"/ws/desk/?view=ticket&id={draft.ticket_id}"

    async def scenario():
        socket = _socket(path, agent_client)
        assert (await socket.connect())[0]
        await _until(socket, 'id="viewers"')
        await database_sync_to_async(triage_correct)(
            ticket_id=draft.ticket_id, actor=other_agent, category="refund", emotion="angry",
            urgency="high",
        )  # fmt: skip
        corrected = await _until(socket, 'id="ticket-summary"')
        await database_sync_to_async(draft_send)(draft_id=draft.pk, actor=other_agent)
        sent = await _until(socket, 'id="draft-panel"')
        await _hang_up(socket)
        return corrected, sent

    corrected, sent = async_to_sync(scenario)()

    assert "Corrected by an agent: Refunds · angry · high" in corrected[-1]
    assert not any('id="draft-panel"' in frame for frame in corrected)
    assert "Draft sent by bob" in sent[-1]


def test_ticket_socket_brings_a_draft_written_after_the_page_was_rendered(agent_client):
    """The page was rendered before the draft existed (data-draft "-"), and the draft was
    written before the socket connected: no later event would bring it, so connecting does."""
    draft = DraftFactory()
    stale = f"/ws/desk/?view=ticket&id={draft.ticket_id}&draft=-"
    current = f"/ws/desk/?view=ticket&id={draft.ticket_id}&draft={draft.pk}-{draft.status}"

    async def scenario():
        late = _socket(stale, agent_client)
        assert (await late.connect())[0]
        caught_up = await _until(late, 'id="draft-panel"')
        await _hang_up(late)
        fresh = _socket(current, agent_client)
        assert (await fresh.connect())[0]
        frames = await _drain(fresh)
        await _hang_up(fresh)
        return caught_up[-1], frames

    caught_up, frames = async_to_sync(scenario)()

    assert f'data-draft="{draft.pk}-{draft.status}"' in caught_up
    assert 'id="draft-text"' in caught_up
    # A page that already shows the current draft gets no second copy of the editor.
    assert not any('id="draft-panel"' in frame for frame in frames)


# -- supervisors -------------------------------------------------------------------------------


def test_supervisor_socket_receives_the_new_escalation_and_badge(supervisor_client):
    ticket = TicketFactory(
        subject="Charged twice", customer=CustomerFactory(name="Margaret Okafor")
    )

    def escalate() -> None:
        from django.db import transaction

        with transaction.atomic():
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            escalation_raise(ticket=locked, reason="VIP customer")

    async def scenario():
        socket = _socket("/ws/desk/?view=supervisor", supervisor_client)
        assert (await socket.connect())[0]
        await database_sync_to_async(escalate)()
        frames = await _until(socket, 'id="escalation-list"')
        await _hang_up(socket)
        return frames[-1]

    frame = async_to_sync(scenario)()

    assert '<span id="escalation-badge" class="badge" hx-swap-oob="true"' in frame
    assert 'aria-label="1 open escalation">1</span>' in frame
    assert '<section id="escalation-list"' in frame
    assert "Charged twice" in frame
    assert "Margaret Okafor" in frame
    assert "<strong>Why:</strong> VIP customer" in frame


# -- the end of a sign-in ----------------------------------------------------------------------


def test_logging_out_closes_the_sessions_ticket_socket(agent):
    client = _signed_in("alice")
    ticket = TicketFactory()

    async def scenario():
        socket = _socket(f"/ws/desk/?view=ticket&id={ticket.pk}", client)
        assert (await socket.connect())[0]
        await _until(socket, 'id="viewers"')  # her own arrival
        response = await database_sync_to_async(client.post)("/logout/")
        assert response.status_code == 302
        code, frames = await _close_code(socket)
        await database_sync_to_async(ticket_solve)(ticket_id=ticket.pk)
        quiet = await socket.receive_nothing(timeout=QUIET)
        await _hang_up(socket)
        return code, frames, quiet

    code, frames, quiet = async_to_sync(scenario)()

    assert code == SIGN_IN_AGAIN
    assert frames == []
    assert quiet, "the closed socket still received the ticket"
    assert not Presence.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("ending", ["expired", "deleted"])
def test_a_session_that_ended_without_logout_is_closed_at_the_next_event(agent, ending):
    client = _signed_in("alice")
    ticket = TicketFactory()
    session = Session.objects.filter(session_key=client.cookies["sessionid"].value)

    def end_session() -> None:
        if ending == "expired":
            session.update(expire_date=timezone.now() - timedelta(seconds=1))
        else:
            session.delete()

    async def scenario():
        socket = _socket(f"/ws/desk/?view=ticket&id={ticket.pk}", client)
        assert (await socket.connect())[0]
        await _until(socket, 'id="viewers"')
        await database_sync_to_async(end_session)()
        await database_sync_to_async(ticket_solve)(ticket_id=ticket.pk)
        closed = await _close_code(socket)
        await _hang_up(socket)
        return closed

    # Closed instead of being sent the solved ticket.
    assert async_to_sync(scenario)() == (SIGN_IN_AGAIN, [])


def test_another_session_of_the_same_user_stays_connected(agent):
    laptop, phone = _signed_in("alice"), _signed_in("alice")
    ticket = TicketFactory()
    path = f"/ws/desk/?view=ticket&id={ticket.pk}"

    async def scenario():
        on_laptop = _socket(path, laptop)
        assert (await on_laptop.connect())[0]
        await _until(on_laptop, 'id="viewers"')
        on_phone = _socket(path, phone)
        assert (await on_phone.connect())[0]
        await _until(on_phone, 'id="viewers"')
        await _drain(on_laptop)  # the phone's arrival
        await database_sync_to_async(laptop.post)("/logout/")
        laptop_closed = await _close_code(on_laptop)
        await database_sync_to_async(ticket_solve)(ticket_id=ticket.pk)
        phone_frames = await _until(on_phone, 'id="ticket-summary"')
        laptop_quiet = await on_laptop.receive_nothing(timeout=QUIET)
        await _hang_up(on_laptop)
        await _hang_up(on_phone)
        return laptop_closed, phone_frames[-1], laptop_quiet

    (code, _), summary, laptop_quiet = async_to_sync(scenario)()

    assert code == SIGN_IN_AGAIN
    assert "status-solved" in summary
    assert laptop_quiet


@pytest.mark.parametrize(
    ("change", "code"),
    [("deactivated", SIGN_IN_AGAIN), ("password", SIGN_IN_AGAIN), ("role", 4403)],
)
def test_a_socket_whose_user_may_no_longer_work_the_inbox_is_closed(
    agent, monkeypatch, change, code
):
    monkeypatch.setattr(DeskConsumer, "USER_RECHECK_SECONDS", 0)
    client = _signed_in("alice")
    ticket = TicketFactory()

    def change_user() -> None:
        if change == "deactivated":
            agent.is_active = False
        elif change == "password":
            agent.set_password("a new one, set elsewhere")
        else:
            agent.groups.clear()
        agent.save()

    async def scenario():
        socket = _socket(f"/ws/desk/?view=ticket&id={ticket.pk}", client)
        assert (await socket.connect())[0]
        await _until(socket, 'id="viewers"')
        await database_sync_to_async(change_user)()
        await database_sync_to_async(ticket_solve)(ticket_id=ticket.pk)
        closed = await _close_code(socket)
        await _hang_up(socket)
        return closed

    assert async_to_sync(scenario)() == (code, [])


# -- many open inboxes: the work per event does not grow with them -----------------------------


def _send(event: str, ticket_id: int) -> None:
    """Broadcast as a service does once its transaction committed."""
    realtime.send_now(realtime.DeskEvent(event=event, ticket_id=ticket_id))


class _Spy:
    """Counts the SQL every thread runs and the row fragments rendered, while `on`."""

    def __init__(self, monkeypatch) -> None:
        self.on = False
        self.sql: list[str] = []
        self.rows_rendered = 0
        real_execute = CursorWrapper.execute
        real_render = consumers.render_to_string

        def execute(cursor, sql, params=None):
            if self.on:
                self.sql.append(sql)
            return real_execute(cursor, sql, params)

        def render(template_name, context=None, *args, **kwargs):
            if self.on and template_name.endswith("#ticket-row"):
                self.rows_rendered += 1
            return real_render(template_name, context, *args, **kwargs)

        monkeypatch.setattr(CursorWrapper, "execute", execute)
        monkeypatch.setattr(consumers, "render_to_string", render)

    def reads_of(self, table: str) -> int:
        return sum(1 for sql in self.sql if sql.startswith("SELECT") and f'"{table}"' in sql)


async def _open_all(paths_and_clients) -> list[WebsocketCommunicator]:
    sockets = [_socket(path, client) for path, client in paths_and_clients]
    for socket in sockets:
        assert (await socket.connect())[0]
    return sockets


async def _settled(sockets: list[WebsocketCommunicator]) -> None:
    """Once every socket answered an event, each has finished connecting (a consumer handles
    its messages one after another; connecting marks its agent online, with queries)."""
    warm_up = await database_sync_to_async(TicketFactory)()
    await database_sync_to_async(_send)(realtime.TICKET_CREATED, warm_up.pk)
    for socket in sockets:
        await _until(socket, f'id="ticket-{warm_up.pk}"')


async def _hang_up_all(sockets) -> None:
    for socket in sockets:
        await _hang_up(socket)


def _reads_for_one_new_row(n: int, clients: list[Client], monkeypatch) -> dict:
    ticket = TicketFactory(subject="Where is my parcel?")
    spy = _Spy(monkeypatch)

    async def scenario():
        sockets = await _open_all(
            [("/ws/desk/?view=inbox", clients[i % len(clients)]) for i in range(n)]
        )
        await _settled(sockets)
        spy.on = True
        await database_sync_to_async(_send)(realtime.TICKET_CREATED, ticket.pk)
        frames = [await _until(socket, f'<article id="ticket-{ticket.pk}"') for socket in sockets]
        spy.on = False
        await _hang_up_all(sockets)
        return frames

    frames = async_to_sync(scenario)()

    assert len(frames) == n
    assert all(
        "afterbegin:#ticket-rows" in f[-1] and "Where is my parcel?" in f[-1] for f in frames
    )
    return {
        "queries": len(spy.sql),
        "ticket reads": spy.reads_of("supportdesk_ticket"),
        "session reads": spy.reads_of("django_session"),
        "renders": spy.rows_rendered,
    }


def test_a_new_row_costs_the_same_reads_and_renders_for_twenty_open_inboxes_as_for_two(
    agent_client, other_agent_client, monkeypatch
):
    clients = [agent_client, other_agent_client]

    few = _reads_for_one_new_row(2, clients, monkeypatch)
    many = _reads_for_one_new_row(20, clients, monkeypatch)

    # One read of the ticket (and one of its tags), one of the open sessions, one render.
    assert many == few
    assert many["ticket reads"] == 1
    assert many["session reads"] == 1
    assert many["renders"] == 1


def test_one_event_brings_each_inbox_what_its_own_filters_show(
    agent_client, other_agent_client, agent, other_agent, categories
):
    ticket = TicketFactory(
        subject="Refund for order 77",
        category=categories["refund"],
        assignee=agent,
        urgency=Ticket.Urgency.HIGH,
    )
    inboxes = {
        "everything": ("/ws/desk/?view=inbox", agent_client),
        "refunds": ("/ws/desk/?view=inbox&category=refund", other_agent_client),
        "deliveries": ("/ws/desk/?view=inbox&category=delivery", agent_client),
        "alice's own": ("/ws/desk/?view=inbox&mine=1", agent_client),
        "bob's own": ("/ws/desk/?view=inbox&mine=1", other_agent_client),
        "low urgency": ("/ws/desk/?view=inbox&urgency=low", agent_client),
        "searched by its number": (f"/ws/desk/?view=inbox&q=%23{ticket.pk}", other_agent_client),
        "searched by another": (f"/ws/desk/?view=inbox&q=%23{ticket.pk + 1}", other_agent_client),
        "in Spanish": ("/ws/desk/?view=inbox&lang=es", other_agent_client),
    }

    async def scenario():
        sockets = await _open_all(inboxes.values())
        await database_sync_to_async(_send)(realtime.TICKET_UPDATED, ticket.pk)
        frames = [await _until(socket, f'id="ticket-{ticket.pk}"') for socket in sockets]
        await _hang_up_all(sockets)
        return dict(zip(inboxes, (f[-1] for f in frames), strict=True))

    frames = async_to_sync(scenario)()

    delete = f'<div id="ticket-{ticket.pk}" hx-swap-oob="delete"></div>'
    shown = {name for name, frame in frames.items() if frame != delete}
    assert shown == {"everything", "refunds", "alice's own", "searched by its number", "in Spanish"}
    assert 'hx-swap-oob="true"' in frames["alice's own"]
    assert "→ alice" in frames["refunds"]
    assert "Refund for order 77" in frames["everything"]
    # The same row, in each page's own language.
    assert '<span class="urgency-pill" title="Urgency">high</span>' in frames["everything"]
    assert '<span class="urgency-pill" title="Urgencia">alta</span>' in frames["in Spanish"]


def test_a_burst_of_updates_to_one_ticket_reaches_an_inbox_as_one_row(agent_client, monkeypatch):
    ticket = TicketFactory(subject="Where is my parcel?")
    spy = _Spy(monkeypatch)

    async def scenario():
        socket = _socket("/ws/desk/?view=inbox", agent_client)
        assert (await socket.connect())[0]
        await _settled([socket])
        spy.on = True
        for _ in range(3):
            await database_sync_to_async(_send)(realtime.TICKET_UPDATED, ticket.pk)
        frames = await _until(socket, f'<article id="ticket-{ticket.pk}"')
        frames += await _drain(socket)
        spy.on = False
        await _hang_up(socket)
        return frames

    frames = async_to_sync(scenario)()

    assert len(frames) == 1
    assert spy.reads_of("supportdesk_ticket") == 1
    assert spy.rows_rendered == 1


def test_logging_out_closes_every_inbox_of_that_session_and_no_other(agent):
    laptop, phone = _signed_in("alice"), _signed_in("alice")
    ticket = TicketFactory(subject="Where is my parcel?")

    async def scenario():
        on_laptop = await _open_all([("/ws/desk/?view=inbox", laptop)] * 3)
        on_phone = _socket("/ws/desk/?view=inbox", phone)
        assert (await on_phone.connect())[0]
        await database_sync_to_async(laptop.post)("/logout/")
        closed = [await _close_code(socket) for socket in on_laptop]
        await database_sync_to_async(_send)(realtime.TICKET_CREATED, ticket.pk)
        phone_frames = await _until(on_phone, f'<article id="ticket-{ticket.pk}"')
        laptop_quiet = [await socket.receive_nothing(timeout=QUIET) for socket in on_laptop]
        await _hang_up_all([*on_laptop, on_phone])
        return closed, phone_frames, laptop_quiet

    closed, phone_frames, laptop_quiet = async_to_sync(scenario)()

    assert closed == [(SIGN_IN_AGAIN, [])] * 3
    assert "Where is my parcel?" in phone_frames[-1]
    assert all(laptop_quiet)


def test_an_expired_session_closes_its_inboxes_at_the_next_row_instead_of_sending_it(agent):
    expiring, staying = _signed_in("alice"), _signed_in("alice")
    ticket = TicketFactory(subject="Where is my parcel?")
    session = Session.objects.filter(session_key=expiring.cookies["sessionid"].value)

    async def scenario():
        doomed = await _open_all([("/ws/desk/?view=inbox", expiring)] * 2)
        other = _socket("/ws/desk/?view=inbox", staying)
        assert (await other.connect())[0]
        await database_sync_to_async(session.update)(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
        await database_sync_to_async(_send)(realtime.TICKET_CREATED, ticket.pk)
        closed = [await _close_code(socket) for socket in doomed]
        other_frames = await _until(other, f'<article id="ticket-{ticket.pk}"')
        await _hang_up_all([*doomed, other])
        return closed, other_frames

    closed, other_frames = async_to_sync(scenario)()

    assert closed == [(SIGN_IN_AGAIN, [])] * 2
    assert "Where is my parcel?" in other_frames[-1]
