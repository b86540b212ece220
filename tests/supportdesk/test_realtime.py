"""The one broadcast helper: known event types only, sent to the right groups, after commit."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from supportdesk import realtime

TICKET_ID = 424242  # no real ticket: events carry ids, the helper never reads rows


def test_unknown_event_type_is_rejected_before_anything_is_queued():
    with pytest.raises(ValueError, match="unknown event type 'ticket.deleted'"):
        realtime.broadcast("ticket.deleted", ticket_id=1)


@pytest.mark.parametrize(
    ("event", "groups"),
    [
        (realtime.TICKET_CREATED, ["inbox", f"ticket-{TICKET_ID}"]),
        (realtime.TICKET_UPDATED, ["inbox", f"ticket-{TICKET_ID}"]),
        (realtime.ESCALATIONS_CHANGED, ["supervisors", f"ticket-{TICKET_ID}"]),
        (realtime.PRESENCE_CHANGED, [f"ticket-{TICKET_ID}"]),
    ],
)
def test_each_event_reaches_the_pages_that_show_it(event, groups):
    assert realtime.groups_for(realtime.DeskEvent(event=event, ticket_id=TICKET_ID)) == groups


def test_events_carry_ids_not_html():
    event = realtime.DeskEvent(event=realtime.TICKET_UPDATED, ticket_id=7)
    again = realtime.DeskEvent(event=realtime.TICKET_UPDATED, ticket_id=7)

    assert event.__dict__ == {
        "event": "ticket.updated",
        "ticket_id": 7,
        "session_digest": None,
        "type": "desk.event",
        "event_id": event.event_id,
    }
    # Each event is named on its own: the sockets of a process share the work of one event.
    assert re.fullmatch(r"[0-9a-f]{32}", event.event_id)
    assert again.event_id != event.event_id


SESSION_KEY = "3q9v0b7hq2k3m9bq0w1pz5ntx8c4yd6e"  # shaped like one; no session row needed


def test_session_ended_names_the_session_by_a_digest_never_by_its_key():
    digest = realtime.session_digest(SESSION_KEY)
    event = realtime.DeskEvent(event=realtime.SESSION_ENDED, session_digest=digest)

    assert event.__dict__ == {
        "event": "session.ended",
        "ticket_id": None,
        "session_digest": hashlib.sha256(SESSION_KEY.encode()).hexdigest(),
        "type": "desk.event",
        "event_id": event.event_id,
    }
    assert realtime.groups_for(event) == [f"session-{digest}"]
    group = realtime.session_group(digest)
    assert SESSION_KEY not in group
    # What every channel layer accepts as a group name.
    assert len(group) < 100 and re.fullmatch(r"[\w.-]+", group, re.ASCII)


@pytest.mark.parametrize(
    ("event", "fields", "error"),
    [
        (realtime.SESSION_ENDED, {}, "needs the digest of the session that ended"),
        (realtime.SESSION_ENDED, {"session_digest": "ab", "ticket_id": 3}, "not a ticket"),
        (
            realtime.TICKET_UPDATED,
            {"session_digest": "ab", "ticket_id": 3},
            "only 'session.ended' names",
        ),
    ],
)
def test_only_session_ended_names_a_session(event, fields, error):
    with pytest.raises(ValueError, match=error):
        realtime.DeskEvent(event=event, **fields)


@pytest.mark.django_db
def test_logging_out_announces_the_end_of_that_session(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    from tests.factories import DEFAULT_PASSWORD, UserFactory

    UserFactory(username="alice")
    client.post("/login/", {"username": "alice", "password": DEFAULT_PASSWORD})
    key = client.cookies["sessionid"].value
    sent: list[realtime.DeskEvent] = []
    monkeypatch.setattr(realtime, "send_now", sent.append)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/logout/")

    assert sent == [
        realtime.DeskEvent(
            event=realtime.SESSION_ENDED, session_digest=realtime.session_digest(key)
        )
    ]


@pytest.mark.django_db
def test_nothing_is_sent_for_a_rolled_back_transaction(
    sent_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with contextlib.suppress(RuntimeError), transaction.atomic():
            realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=TICKET_ID)
            raise RuntimeError("the write failed")
        realtime.broadcast(realtime.TICKET_CREATED, ticket_id=TICKET_ID + 1)

    assert len(callbacks) == 1
    assert sent_events == [(realtime.TICKET_CREATED, TICKET_ID + 1)]


@pytest.mark.django_db
def test_a_failing_channel_layer_does_not_break_the_write(monkeypatch, caplog):
    class DownLayer:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(realtime, "get_channel_layer", DownLayer)

    realtime.send_now(realtime.DeskEvent(event=realtime.TICKET_UPDATED, ticket_id=TICKET_ID))

    assert "broadcast of ticket.updated to inbox failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_events_reach_the_real_channel_layer_only_after_commit():
    layer = get_channel_layer()
    group = realtime.ticket_group(TICKET_ID)

    def rolled_back() -> None:
        with contextlib.suppress(RuntimeError), transaction.atomic():
            realtime.broadcast(realtime.TICKET_UPDATED, ticket_id=TICKET_ID)
            raise RuntimeError("the write failed")

    def committed() -> None:
        with transaction.atomic():
            realtime.broadcast(realtime.ESCALATIONS_CHANGED, ticket_id=TICKET_ID)

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(rolled_back)()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(layer.receive(channel), timeout=0.5)
            await sync_to_async(committed)()
            return await asyncio.wait_for(layer.receive(channel), timeout=5)
        finally:
            await layer.group_discard(group, channel)

    message = async_to_sync(scenario)()

    assert message == {
        "type": "desk.event",
        "event": "escalations.changed",
        "ticket_id": TICKET_ID,
        "session_digest": None,
        "event_id": message["event_id"],
    }
