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
from django.test import Client
from django.utils import timezone

from replies.services import draft_send
from supportdesk.asgi import application
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
