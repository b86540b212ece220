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
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from channels_redis.core import RedisChannelLayer
from django.utils.module_loading import import_string
from playwright.sync_api import Page, expect

from tests.e2e.livedesk import (
    LIVE_TIMEOUT_MS,
    PYTHON,
    Installation,
    assert_not_reloaded,
    postgres_database,
    redis_forget,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.scale

REDIS_DB = 15  # Makefile's unit tests use 14
EVENT_TIMEOUT = 90  # seconds for the worker to triage, route and draft one ticket
QUIET_SECONDS = 12  # longer than two of channels-redis' 5 s blocking reads


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
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    prefix, queue = f"sd-scale-{run}-ws", f"sd-scale-{run}-tasks"
    _redis(redis_url).close()
    with postgres_database("supportdesk_scale") as database:
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
                redis_forget(redis_url, run)


def _channel_layer(desk: Installation) -> RedisChannelLayer:
    """A channel layer configured exactly as the installation's own consumers' is."""
    config = desk.orm(
        "from django.conf import settings\nresult = settings.CHANNEL_LAYERS['default']"
    )
    layer_class = import_string(config["BACKEND"])
    assert issubclass(layer_class, RedisChannelLayer), config
    return layer_class(**config["CONFIG"])


def test_celery_worker_drafts_and_broadcasts_through_redis(scale_desk: Installation) -> None:
    desk = scale_desk
    token = desk.api_token("agent")
    layer = _channel_layer(desk)

    async def observe() -> tuple[dict, list[tuple[str, dict]]]:
        """Listen to the inbox group as a consumer does, create a ticket through the API, and
        record every event about it with the ticket's state at the moment the event arrived."""
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
                try:
                    event = await asyncio.wait_for(layer.receive(channel), remaining)
                except redis.TimeoutError as exc:
                    pytest.fail(f"the channel layer's receive failed while waiting: {exc!r}")
                if event.get("ticket_id") != ticket["id"]:
                    continue
                status, state = await asyncio.to_thread(
                    desk.api, "GET", f"/api/v1/tickets/{ticket['id']}", token=token
                )
                assert status == 200
                assert not state["needs_manual_triage"], f"the pipeline failed: {desk.logs()}"
                seen.append((event["event"], state))
        finally:
            await layer.group_discard("inbox", channel)
        return ticket, seen

    started = time.monotonic()
    # In a thread of its own: a browser test in this module may have Playwright's loop running.
    with ThreadPoolExecutor(max_workers=1) as thread:
        ticket, seen = thread.submit(asyncio.run, observe()).result()
    desk.timings["one ticket: API → Celery → draft event"] = time.monotonic() - started

    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "ticket.created"
    assert set(kinds[1:]) == {"ticket.updated"}, kinds
    # Sent after commit: whoever reacts to an update already reads what it announces.
    assert seen[1][1]["triage"] is not None
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


@pytest.mark.browser
def test_live_inbox_on_redis_stays_connected_through_quiet_periods(
    scale_desk: Installation, desk_page: Page
) -> None:
    """A socket that hears nothing for a while must not drop: events sent while it reconnects
    are lost. channels-redis waits for messages in blocking reads of 5 s each."""
    desk = scale_desk
    token = desk.api_token("agent")
    sign_in(desk_page, desk, "agent", "/inbox/")
    desk_page.evaluate(
        "window.__socketCloses = 0;"
        "document.addEventListener('htmx:wsClose', () => window.__socketCloses++)"
    )
    desk_page.wait_for_timeout(QUIET_SECONDS * 1000)
    closes_while_quiet = desk_page.evaluate("window.__socketCloses")
    assert closes_while_quiet == 0, (
        f"the live socket closed {closes_while_quiet}x in {QUIET_SECONDS}s without traffic"
        f"{desk.logs(lines=25)}"
    )

    ticket = desk.create_ticket(
        token=token,
        subject="Invoice with our VAT number",
        body="Hello, could you send me an invoice for order 5521 with our company VAT number?",
        email=f"quiet.{uuid.uuid4().hex[:8]}@example.com",
        name="Sam Quiet",
    )
    row = desk_page.locator(f"#ticket-rows #ticket-{ticket['id']}")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    # The worker's update travels Celery → Redis → daphne → this page.
    expect(row.locator(".chip.lang")).to_have_text("en", timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(desk_page)
    screenshot(desk_page, "inbox-redis")
