"""Concurrent duplicate deliveries of one e-mail on PostgreSQL: one message, one ticket.

A webhook retry, an IMAP poll and a second web process can hand us the same message at the
same moment. Twenty threads ingest it at once (released together by a barrier) in an
installation on its own throwaway PostgreSQL database; the unique constraint on
Message.external_id, not the application's lookup, has to keep it to one row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.e2e.livedesk import Installation

pytestmark = pytest.mark.scale

POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
THREADS = 20

# Runs in `manage.py shell` inside the installation. Each round releases THREADS deliveries of
# one raw message together; in the "blind" round every thread's pre-insert lookup is made to
# miss, so all of them reach the INSERT and only the database constraint stands in the way.
SCRIPT = """
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from supportdesk.intake.ingest import email_ingest
from supportdesk.models import Customer, Message, Ticket

THREADS = {threads}
barrier = threading.Barrier(THREADS)
local = threading.local()
real_select_related = Message.objects.select_related


def blind_pre_check(*fields):
    queryset = real_select_related(*fields)
    if getattr(local, "blind", False):
        local.blind = False
        return queryset.none()
    return queryset


Message.objects.select_related = blind_pre_check


def mail(message_id, subject, body, extra=""):
    return (
        "From: Maria Lopez <maria@example.com>\\r\\nTo: support@example.com\\r\\n"
        f"Subject: {{subject}}\\r\\nMessage-ID: {{message_id}}\\r\\n{{extra}}"
        "Content-Type: text/plain; charset=utf-8\\r\\n\\r\\n"
        f"{{body}}\\r\\n"
    ).encode()


def deliver(raw, blind):
    try:
        local.blind = blind
        barrier.wait()
        result = email_ingest(raw=raw)
        return [result.ticket.pk, result.message.pk, result.duplicate, result.created_ticket]
    except Exception as exc:
        return ["error", repr(exc)]
    finally:
        connection.close()


def round_of(raw, blind=False):
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda _: deliver(raw, blind), range(THREADS)))


first = mail("<race-1@mail.example.com>", "Parcel not delivered", "Where is my parcel?")
reply = mail(
    "<race-2@mail.example.com>", "Re: Parcel not delivered", "Still nothing today.",
    "In-Reply-To: <race-1@mail.example.com>\\r\\n",
)
blind = mail("<race-3@mail.example.com>", "Invoice wrong", "The invoice shows the wrong VAT.")
result = {{
    "vendor": connection.vendor,
    "new": round_of(first),
    "reply": round_of(reply),
    "blind": round_of(blind, blind=True),
    "tickets": list(Ticket.objects.order_by("pk").values_list("pk", "subject")),
    "messages": list(
        Message.objects.order_by("pk").values_list("pk", "ticket_id", "external_id", "body_text")
    ),
    "customers": Customer.objects.count(),
}}
"""


@pytest.fixture
def postgres_desk(tmp_path) -> Iterator[Installation]:
    database = f"supportdesk_mailrace_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({POSTGRES}): run `make services`.\n{exc}")
    admin.execute(f'CREATE DATABASE "{database}"')
    try:
        desk = Installation.create(
            "mailrace",
            tmp_path / "var",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
            TASK_BACKEND="q2",  # pipeline tasks are only queued: no worker runs here
        )
        desk.manage("migrate", "--noinput", step="migrate")
        desk.manage("migrate", "--noinput", "--database", "channels", step="migrate channels")
        yield desk
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.close()


def _assert_one_delivery_won(results: list, ticket_id: int, message_id: int) -> None:
    errors = [r for r in results if r[0] == "error"]
    assert not errors, errors
    assert len(results) == THREADS
    assert {(r[0], r[1]) for r in results} == {(ticket_id, message_id)}
    assert sorted(r[2] for r in results) == [False] + [True] * (THREADS - 1)


def test_twenty_concurrent_deliveries_store_one_message_on_postgresql(postgres_desk):
    run = postgres_desk.orm(SCRIPT.format(threads=THREADS))

    assert run["vendor"] == "postgresql"
    tickets, messages = run["tickets"], run["messages"]
    assert [subject for _, subject in tickets] == ["Parcel not delivered", "Invoice wrong"]
    parcel, invoice = tickets[0][0], tickets[1][0]
    assert [m[1:] for m in messages] == [
        [parcel, "<race-1@mail.example.com>", "Where is my parcel?"],
        [parcel, "<race-2@mail.example.com>", "Still nothing today."],
        [invoice, "<race-3@mail.example.com>", "The invoice shows the wrong VAT."],
    ]
    assert run["customers"] == 1
    ids = {external_id: pk for pk, _, external_id, _ in messages}
    _assert_one_delivery_won(run["new"], parcel, ids["<race-1@mail.example.com>"])
    assert sum(r[3] for r in run["new"]) == 1  # exactly one delivery opened the ticket
    _assert_one_delivery_won(run["reply"], parcel, ids["<race-2@mail.example.com>"])
    _assert_one_delivery_won(run["blind"], invoice, ids["<race-3@mail.example.com>"])
