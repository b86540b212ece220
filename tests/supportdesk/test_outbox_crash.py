"""Exactly-once outbound on PostgreSQL, with real processes and a real SMTP server.

A worker is a separate `manage.py` process running the delivery task; it is killed with
SIGKILL at a precise point of the SMTP conversation, then the sweeper (`manage.py
sweep`, the one `serve` runs every minute) is run as the restarted worker would be.
Each test counts the e-mails the SMTP server received for its reply's Message-ID.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.e2e.livedesk import PYTHON, ROOT, Installation
from tests.mailbox import before_footer
from tests.smtp_server import SMTPServer

POSTGRES = "host=127.0.0.1 port=5432 user=postgres connect_timeout=5"
WAIT = 60  # seconds a process gets to reach the point a test waits for


@pytest.fixture(scope="module")
def smtp() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture(scope="module")
def desk(tmp_path_factory, smtp: SMTPServer) -> Iterator[Installation]:
    database = f"supportdesk_outbox_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(f"{POSTGRES} dbname=postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({POSTGRES}): run `make services`.\n{exc}")
    admin.execute(f'CREATE DATABASE "{database}"')
    try:
        installation = Installation.create(
            "outbox",
            tmp_path_factory.mktemp("outbox-var"),
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
            # Approvals enqueue to django-q2's table and no cluster runs: the tests start
            # the worker themselves, and kill it.
            TASK_BACKEND="q2",
            EMAIL_URL=smtp.url,
            OUTBOX_STALE_SECONDS="0",
            OUTBOX_QUEUED_GRACE_SECONDS="0",
            # No models here: the sweeper must leave the drafts' inbound messages alone.
            PIPELINE_GRACE_SECONDS="86400",
        )
        installation.env["OUTBOX_DATABASE"] = database
        installation.manage("migrate", "--noinput", step="migrate")
        yield installation
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def _approve(desk: Installation, body: str) -> dict:
    """An agent approves a draft through the service the web view calls."""
    return desk.orm(
        "from replies.services import draft_send\n"
        "from tests.factories import DraftFactory, UserFactory\n"
        f"draft = DraftFactory(text={body!r})\n"
        "agent = UserFactory(role='agent')\n"
        "reply = draft_send(draft_id=draft.pk, actor=agent)\n"
        "result = {'id': reply.pk, 'message_id': reply.external_id}"
    )


def _state(desk: Installation, message_id: int) -> dict:
    return desk.orm(
        "from supportdesk.models import Message\n"
        f"m = Message.objects.get(pk={message_id})\n"
        "result = {'status': m.delivery_status, 'handed_over': m.handed_over_at is not None,"
        " 'external_id': m.external_id}"
    )


def _start_worker(desk: Installation, message_id: int) -> subprocess.Popen:
    code = f"from supportdesk.tasks import deliver_message; deliver_message({message_id})"
    return subprocess.Popen(  # noqa: S603 (our own argv)
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=desk.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _kill(worker: subprocess.Popen) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.wait(timeout=WAIT) == -signal.SIGKILL


def _restart(desk: Installation) -> str:
    """What runs after the crash: the sweeper, its tasks executed in its own process."""
    return desk.run([PYTHON, "manage.py", "sweep"], timeout=WAIT)


def _received(smtp: SMTPServer, message_id: str) -> list:
    return [m for m in smtp.received if m["Message-ID"] == message_id]


def _sweep_in_sync_mode(desk: Installation) -> None:
    desk.env["TASK_BACKEND"] = "sync"
    try:
        _restart(desk)
    finally:
        desk.env["TASK_BACKEND"] = "q2"


def test_lost_enqueue_is_delivered_once_by_the_sweeper(desk, smtp):
    body = "Hi,\n\nYour refund was issued today. [1]\n\nBest wishes"
    reply = _approve(desk, body)

    _sweep_in_sync_mode(desk)
    _sweep_in_sync_mode(desk)

    (received,) = _received(smtp, reply["message_id"])
    assert before_footer(received.get_content()) == body
    assert _state(desk, reply["id"])["status"] == "sent"


def test_worker_killed_after_claim_before_handover_is_resent_exactly_once(desk, smtp):
    body = "Hola Mía:\n\nTu pedido llega el viernes.\n\n¡Saludos!"
    reply = _approve(desk, body)
    at_rcpt, release = threading.Event(), threading.Event()

    def hold_at_rcpt() -> None:
        at_rcpt.set()
        release.wait(WAIT)

    smtp.recorder.on_rcpt = hold_at_rcpt
    try:
        worker = _start_worker(desk, reply["id"])
        assert at_rcpt.wait(WAIT), "the worker never reached RCPT TO"
        _kill(worker)
    finally:
        smtp.recorder.on_rcpt = None
        release.set()
    assert _state(desk, reply["id"]) == {
        "status": "sending", "handed_over": False, "external_id": reply["message_id"],
    }  # fmt: skip

    _sweep_in_sync_mode(desk)
    _sweep_in_sync_mode(desk)

    (received,) = _received(smtp, reply["message_id"])
    assert before_footer(received.get_content()) == body
    assert _state(desk, reply["id"])["status"] == "sent"


def test_worker_killed_after_the_server_accepted_is_never_sent_twice(desk, smtp):
    """The server has stored the e-mail and answered 250; the worker dies before it writes
    `sent` (it is held on the message's row lock, then killed)."""
    body = "こんにちは。\n\nご返金の手続きが完了いたしました。\n\n敬具"
    reply = _approve(desk, body)
    database = desk.env["OUTBOX_DATABASE"]
    locker = psycopg.connect(f"{POSTGRES} dbname={database}")

    def lock_the_row_then_accept() -> None:
        locker.execute("SELECT id FROM supportdesk_message WHERE id = %s FOR UPDATE", [reply["id"]])

    smtp.recorder.on_data = lock_the_row_then_accept
    try:
        worker = _start_worker(desk, reply["id"])
        _wait_until_blocked_on_a_lock(database, worker)
        _kill(worker)
    finally:
        smtp.recorder.on_data = None
        locker.rollback()
        locker.close()
    assert len(_received(smtp, reply["message_id"])) == 1
    assert _state(desk, reply["id"])["handed_over"] is True

    _sweep_in_sync_mode(desk)
    _sweep_in_sync_mode(desk)

    (received,) = _received(smtp, reply["message_id"])
    assert before_footer(received.get_content()) == body
    assert _state(desk, reply["id"])["status"] == "unconfirmed"  # shown to the agent


def _wait_until_blocked_on_a_lock(database: str, worker: subprocess.Popen) -> None:
    with psycopg.connect(f"{POSTGRES} dbname=postgres", autocommit=True) as watcher:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            assert worker.poll() is None, "the worker exited before marking the reply sent"
            (waiting,) = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock'",
                [database],
            ).fetchone()
            if waiting:
                return
            time.sleep(0.1)
    pytest.fail("the worker never tried to mark the reply sent")


def test_twenty_concurrent_approvals_send_one_email_and_409_the_rest(desk, smtp):
    body = "Hello,\n\nYour new password link is on its way. [1]\n\nBest wishes"
    desk.env["TASK_BACKEND"] = "sync"  # the winning request delivers on commit
    try:
        outcome = desk.orm(_CONCURRENT_APPROVALS.replace("BODY", repr(body)))
    finally:
        desk.env["TASK_BACKEND"] = "q2"

    statuses = sorted(status for status, _ in outcome["responses"])
    assert statuses == [200] + [409] * 19
    winner = outcome["winner"]
    for status, alert in outcome["responses"]:
        if status == 409:
            assert alert.startswith(f"This draft was already sent by {winner} at ")
    (received,) = _received(smtp, outcome["message_id"])
    assert before_footer(received.get_content()) == body
    assert outcome["outbound_messages"] == 1


_CONCURRENT_APPROVALS = """
import re, threading
from django.db import connection
from django.test import Client
from replies.models import Draft
from supportdesk.models import Message
from tests.factories import DraftFactory, UserFactory

draft = DraftFactory(text=BODY)
agents = [UserFactory(role="agent") for _ in range(20)]
barrier = threading.Barrier(len(agents))
responses = []

def approve(agent):
    client = Client()
    client.force_login(agent)
    try:
        barrier.wait(timeout=60)
        response = client.post(f"/drafts/{draft.pk}/send/", HTTP_HX_REQUEST="true")
        alert = re.search(r'<p class="alert" role="alert">(.*?)</p>', response.content.decode())
        responses.append((response.status_code, alert.group(1) if alert else ""))
    finally:
        connection.close()

threads = [threading.Thread(target=approve, args=(a,)) for a in agents]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=120)
draft = Draft.objects.select_related("decided_by", "sent_message").get(pk=draft.pk)
result = {
    "responses": responses,
    "winner": draft.decided_by.get_username(),
    "message_id": draft.sent_message.external_id,
    "outbound_messages": Message.objects.filter(
        ticket=draft.ticket, direction=Message.Direction.OUTBOUND
    ).count(),
}
"""
