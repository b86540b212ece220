"""Killing a worker loses no ticket: at-least-once with idempotent steps, on real workers.

A batch of tickets is created while a real worker (Celery with Redis on PostgreSQL, or the
embedded django-q2 cluster) processes them; the worker is killed with SIGKILL part-way — a
pool child only, or the whole worker — and started again, with the sweeper (`manage.py sweep`,
as `serve` runs it) beside it. Every ticket must end up triaged and drafted exactly once, and no
ticket may stay `new` or be flagged.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.e2e.livedesk import (
    POSTGRES,
    PYTHON,
    Installation,
    _group_members,
    postgres_database,
    redis_forget,
)

pytestmark = pytest.mark.scale

REDIS_URL = "redis://127.0.0.1:6379/15"
TICKETS = 20
DONE_TIMEOUT = 240  # seconds for the restarted worker and the sweeper to finish the batch

SUBJECTS = [
    ("Where is my parcel?", "Hi, order 88213 was supposed to arrive on Monday. Where is it?"),
    ("Refund", "I returned the headphones two weeks ago and still have no refund. Please check."),
    ("Password", "The password reset e-mail never arrives. I tried three times today."),
    ("Cancel Plus", "How do I cancel the automatic renewal of Lumen Plus? I was charged again."),
]


@pytest.fixture
def crash_database() -> Iterator[str]:
    with postgres_database("supportdesk_crash") as name:
        yield name


def _desk(tmp_path: Path, desk_models, database: str, **settings: str) -> Installation:
    desk = Installation.create(
        f"crash-{settings.get('TASK_BACKEND', 'q2')}",
        tmp_path / "var",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        # A message not through the pipeline this long is enqueued again by the sweeper.
        PIPELINE_GRACE_SECONDS="5",
        ACKNOWLEDGE_NEW_TICKETS="false",
        **settings,
    )
    desk.manage("migrate", "--noinput", step="migrate")
    desk.manage("load_demo", step="load_demo")
    desk_models.install(desk)
    return desk


@pytest.fixture
def celery_desk(tmp_path, desk_models, crash_database) -> Iterator[Installation]:
    run = uuid.uuid4().hex[:10]
    queue = f"sd-crash-{run}"
    desk = _desk(
        tmp_path, desk_models, crash_database,
        TASK_BACKEND="celery", CELERY_BROKER_URL=REDIS_URL, CELERY_QUEUE=queue,
        REDIS_URL=REDIS_URL, CHANNELS_PREFIX=f"sd-crash-{run}-ws",
    )  # fmt: skip
    try:
        yield desk
    finally:
        try:
            desk.stop()
        finally:
            redis_forget(REDIS_URL, run)


@pytest.fixture
def q2_desk(tmp_path, desk_models, crash_database) -> Iterator[Installation]:
    desk = _desk(tmp_path, desk_models, crash_database, TASK_BACKEND="q2")
    try:
        yield desk
    finally:
        desk.stop()


def _start_celery(desk: Installation, name: str) -> None:
    desk.start(
        name,
        [PYTHON, "-m", "celery", "-A", "supportdesk", "worker", "-Q", desk.env["CELERY_QUEUE"],
         "--concurrency", "1", "-l", "INFO", "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
    )  # fmt: skip


def _create_tickets(desk: Installation) -> list[int]:
    """Through the intake service, as the API and the web form do: each ticket commits and then
    enqueues its pipeline task on the installation's real broker."""
    return desk.orm(
        "from supportdesk.services import ticket_create\n"
        f"subjects = {SUBJECTS!r}\n"
        "result = []\n"
        f"for i in range({TICKETS}):\n"
        "    subject, body = subjects[i % len(subjects)]\n"
        "    ticket = ticket_create(email=f'crash{i}@example.org', subject=subject,\n"
        "                           body=body, channel='api')\n"
        "    result.append(ticket.pk)"
    )


def _state(desk: Installation, ticket_ids: list[int]) -> dict:
    return desk.orm(
        "from supportdesk.models import Message, Ticket\n"
        "from triage.models import TriageResult\n"
        "from replies.models import Draft\n"
        f"ids = {ticket_ids!r}\n"
        "inbound = Message.objects.filter(ticket_id__in=ids, direction='in')\n"
        "result = {\n"
        "  'triaged': TriageResult.objects.filter(ticket_id__in=ids).count(),\n"
        "  'drafts': Draft.objects.filter(ticket_id__in=ids).count(),\n"
        "  'pending': inbound.filter(pipeline_done_at__isnull=True).count(),\n"
        "  'new': Ticket.objects.filter(pk__in=ids, status='new').count(),\n"
        "  'flagged': list(Ticket.objects.filter(pk__in=ids, needs_manual_triage=True)\n"
        "                  .values_list('ai_error', flat=True)),\n"
        "  'messages': inbound.count(),\n"
        "}"
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                state, ppid = stat.rsplit(")", 1)[1].split()[:2]
                if int(ppid) == pid and state != "Z":
                    found.append(int(entry.name))
    return found


def _kill_group(desk: Installation, name: str) -> None:
    process = desk.processes.pop(name)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def _wait_until_some_work_is_done(desk: Installation) -> None:
    """Return as soon as the worker has triaged its first ticket: polled straight from
    PostgreSQL (a `manage.py shell` round trip would let a fast worker finish the batch)."""
    database = desk.env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(f"{POSTGRES.replace('dbname=postgres', '')} dbname={database}") as db:
        desk.wait_for(
            lambda: db.execute("SELECT count(*) FROM triage_triageresult").fetchone()[0] >= 1,
            180,
            "the worker to start",
            every=0.05,
        )


def _assert_every_ticket_done_once(desk: Installation, ticket_ids: list[int]) -> None:
    state = desk.wait_for(
        lambda: (s := _state(desk, ticket_ids))["pending"] == 0 and s,
        DONE_TIMEOUT,
        "every message to be through the pipeline",
        every=1,
    )
    assert state["flagged"] == [], state
    assert state["new"] == 0, state
    # Idempotent steps: exactly one triage and one draft per message, however often it ran.
    assert state["triaged"] == state["messages"] == TICKETS, state
    assert state["drafts"] == TICKETS, state


def test_killing_a_celery_pool_child_mid_task_loses_no_ticket(celery_desk: Installation):
    desk = celery_desk
    ticket_ids = _create_tickets(desk)  # queued on the broker before the worker starts
    _start_celery(desk, "celery")
    _wait_until_some_work_is_done(desk)

    main = desk.processes["celery"].pid
    children = desk.wait_for(lambda: _children(main), 30, "a pool child")
    for child in children:
        os.kill(child, signal.SIGKILL)  # the main process starts a new child

    desk.start("sweep", [PYTHON, "manage.py", "sweep", "--every", "2"])
    _assert_every_ticket_done_once(desk, ticket_ids)


def test_killing_the_whole_celery_worker_loses_no_ticket(celery_desk: Installation):
    desk = celery_desk
    ticket_ids = _create_tickets(desk)  # queued on the broker before the worker starts
    _start_celery(desk, "celery")
    _wait_until_some_work_is_done(desk)

    _kill_group(desk, "celery")
    assert _state(desk, ticket_ids)["pending"] > 0, "the worker finished before it was killed"
    _start_celery(desk, "celery-restarted")
    desk.start("sweep", [PYTHON, "manage.py", "sweep", "--every", "2"])

    _assert_every_ticket_done_once(desk, ticket_ids)


def test_killing_the_django_q2_cluster_loses_no_ticket(q2_desk: Installation):
    desk = q2_desk
    ticket_ids = _create_tickets(desk)  # queued in django-q2's table before it starts
    desk.start("qcluster", [PYTHON, "manage.py", "qcluster"])
    _wait_until_some_work_is_done(desk)

    _kill_group(desk, "qcluster")
    assert _state(desk, ticket_ids)["pending"] > 0, "the cluster finished before it was killed"
    desk.start("qcluster-restarted", [PYTHON, "manage.py", "qcluster"])
    desk.start("sweep", [PYTHON, "manage.py", "sweep", "--every", "2"])

    _assert_every_ticket_done_once(desk, ticket_ids)
