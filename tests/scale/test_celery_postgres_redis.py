"""The pipeline on the scale path: PostgreSQL, Redis as channel layer and broker, and a real
`celery -A supportdesk worker` process next to daphne.

Each run gets its own PostgreSQL database and its own Redis key prefix and Celery queue (in a
Redis database kept for these tests), so parallel runs do not see each other's work; all of it
is removed afterwards.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis
from channels_redis.core import RedisChannelLayer

from tests.e2e.livedesk import PYTHON, Installation

pytestmark = pytest.mark.scale

POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
REDIS_DB = 15  # Makefile's unit tests use 14
EVENT_TIMEOUT = 90  # seconds for the worker to triage, route and draft one ticket


def _postgres() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({POSTGRES}): run `make services`.\n{exc}")


def _redis(url: str) -> redis.Redis:
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {url}: run `make services`.\n{exc}")
    return client


@pytest.fixture(scope="module")
def scale_desk(tmp_path_factory, desk_models) -> Iterator[Installation]:
    run = uuid.uuid4().hex[:10]
    database = f"supportdesk_scale_{run}"
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    prefix, queue = f"sd-scale-{run}-ws", f"sd-scale-{run}-tasks"
    admin = _postgres()
    keys = _redis(redis_url)
    admin.execute(f'CREATE DATABASE "{database}"')
    desk = Installation.create(
        "scale",
        tmp_path_factory.mktemp("scale-var"),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        REDIS_URL=redis_url,
        CHANNELS_PREFIX=prefix,
        TASK_BACKEND="celery",
        CELERY_BROKER_URL=redis_url,
        CELERY_QUEUE=queue,
    )
    try:
        desk.manage("migrate", "--noinput", step="migrate")
        desk.manage("load_demo", step="load_demo")  # queues its 40 tickets for the worker
        desk_models.install(desk)
        desk.start(
            "celery",
            [PYTHON, "-m", "celery", "-A", "supportdesk", "worker", "-Q", queue,
             "--concurrency", "2", "-l", "INFO", "-n", f"{prefix}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
        )  # fmt: skip
        desk.serve(worker=False)
        desk.wait_for_backlog()
        yield desk
    finally:
        try:
            desk.stop()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.close()
            # Channel-layer keys, the queue and kombu's bindings for it all carry the run id.
            stale = list(keys.scan_iter(match=f"*{run}*"))
            if stale:
                keys.delete(*stale)
            for binding in keys.scan_iter(match="_kombu.binding.*"):
                members = [m for m in keys.smembers(binding) if run.encode() in m]
                if members:
                    keys.srem(binding, *members)
            keys.close()


def test_celery_worker_drafts_and_broadcasts_through_redis(scale_desk: Installation) -> None:
    desk = scale_desk
    token = desk.api_token("agent")
    assert desk.flagged_tickets() == [], "the Celery worker failed on demo tickets"

    async def observe() -> tuple[dict, list[tuple[str, dict]]]:
        """Listen to the inbox group as a consumer would, create a ticket through the API, and
        record every event about it with the ticket's state at the moment the event arrived."""
        layer = RedisChannelLayer(hosts=[desk.env["REDIS_URL"]], prefix=desk.env["CHANNELS_PREFIX"])
        channel = await layer.new_channel()
        await layer.group_add("inbox", channel)
        ticket = await asyncio.to_thread(
            desk.create_ticket,
            token=token,
            subject="Cannot reset my password",
            body="Hi, the password reset e-mail never arrives. I tried three times today. "
            "Can you help me get back into my account?",
            email=f"scale.{uuid.uuid4().hex[:8]}@example.com",
            name="Robin Scale",
        )
        seen: list[tuple[str, dict]] = []
        deadline = time.monotonic() + EVENT_TIMEOUT
        try:
            while not any(kind == "ticket.updated" and state["draft"] for kind, state in seen):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"events so far: {[e for e, _ in seen]}{desk.logs()}")
                event = await asyncio.wait_for(layer.receive(channel), remaining)
                if event.get("ticket_id") != ticket["id"]:
                    continue
                status, state = await asyncio.to_thread(
                    desk.api, "GET", f"/api/v1/tickets/{ticket['id']}", token=token
                )
                assert status == 200
                seen.append((event["event"], state))
        finally:
            await layer.group_discard("inbox", channel)
        return ticket, seen

    started = time.monotonic()
    ticket, seen = asyncio.run(observe())
    desk.timings["one ticket: API → Celery → draft event"] = time.monotonic() - started

    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "ticket.created"
    assert set(kinds[1:]) == {"ticket.updated"}, kinds
    # Sent after commit: whoever reacts to an update already reads what it announces.
    first_update = seen[1][1]
    assert first_update["triage"] is not None
    final = seen[-1][1]
    assert final["triage"]["category"] == "account"
    assert final["language"] == "en"
    assert final["routing"]["action"] in {"auto_reply", "human", "supervisor"}
    assert final["routing"]["reasons"]
    assert final["draft"]["status"] == "proposed"
    assert final["draft"]["text"].strip()
    assert any("password" in c["title"] for c in final["draft"]["citations"]), final["draft"]

    stored = desk.orm(
        "from django.db import connection\n"
        "from supportdesk.models import Ticket\n"
        f"drafts = Ticket.objects.get(pk={ticket['id']}).drafts.count()\n"
        "result = [connection.vendor, drafts, Ticket.objects.count()]"
    )
    assert stored[:2] == ["postgresql", 1]
    # daphne was started without a worker: every ticket went through the Celery worker, once.
    log = desk.var_dir / "celery.log"
    done = re.compile(r"Task supportdesk\.tasks\.process_message\[[^]]+\] succeeded")
    desk.wait_for(
        lambda: len(done.findall(log.read_text())) >= stored[2], 10, "the Celery task log"
    )
    assert len(done.findall(log.read_text())) == stored[2]
