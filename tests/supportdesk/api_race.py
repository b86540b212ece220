"""Concurrent API requests from threads, each on its own database connection.

Imported by the idempotency tests: in-process against the test database, and inside
`manage.py shell` of an installation on PostgreSQL (``race_in_installation``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.db import connections
from django.test import Client


def post_concurrently(
    *, token: str, path: str, body: dict, key: str | None = None, threads: int = 6
) -> list[dict]:
    """POST the same request from ``threads`` threads released together; returns, per
    request, its status, JSON body and whether it was a replay."""
    barrier = threading.Barrier(threads)
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key

    def one(_: int) -> dict:
        try:
            barrier.wait()
            response = Client().post(
                path, data=json.dumps(body), content_type="application/json", headers=headers
            )
            return {
                "status": response.status_code,
                "body": response.json(),
                "replayed": response.get("Idempotent-Replayed") == "true",
                "retry_after": response.get("Retry-After"),
            }
        finally:
            connections.close_all()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


@contextmanager
def slow_ticket_create(seconds: float) -> Iterator[None]:
    """Make ``services.ticket_create`` hold its transaction open a while after writing, so the
    twins of the first request are certain to arrive while it runs, not merely likely to."""
    from supportdesk import services

    original = services.ticket_create

    def slow(**kwargs):
        ticket = original(**kwargs)
        time.sleep(seconds)
        return ticket

    services.ticket_create = slow
    try:
        yield
    finally:
        services.ticket_create = original


def race_in_installation() -> dict:
    """Run inside `manage.py shell` of an installation; the PostgreSQL test checks the result."""
    from django.db import IntegrityError, transaction
    from django.test.utils import setup_test_environment

    from supportdesk import services
    from supportdesk.intake import idempotency
    from supportdesk.models import IdempotencyKey, Message, Ticket
    from tests.factories import TicketFactory, UserFactory

    setup_test_environment()
    agent = UserFactory(username="race-agent", role="agent")
    token = services.api_token_create(user=agent)
    body = {
        "customer": {"email": "race@example.com"},
        "subject": "Charged twice",
        "body": "My card was charged twice for order 5521.",
    }
    result: dict = {"vendor": connections["default"].vendor}

    with slow_ticket_create(1.0):
        result["same_key"] = post_concurrently(
            token=token, path="/api/v1/tickets", body=body, key="race-1"
        )
    result["same_key_tickets"] = Ticket.objects.filter(subject="Charged twice").count()

    # Twins that cannot wait any longer get a 409 they can retry, and create nothing.
    idempotency.IDEMPOTENCY_WAIT_MS = 200
    with slow_ticket_create(2.0):
        result["in_progress"] = post_concurrently(
            token=token, path="/api/v1/tickets", body={**body, "subject": "Second"}, key="race-2"
        )
    result["in_progress_tickets"] = Ticket.objects.filter(subject="Second").count()

    ticket = TicketFactory()
    result["external_id"] = post_concurrently(
        token=token,
        path=f"/api/v1/tickets/{ticket.pk}/messages",
        body={"body": "Resent by the CRM", "external_id": "crm-77"},
    )
    result["external_id_messages"] = Message.objects.filter(ticket=ticket).count()

    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=agent, key="race-1", fingerprint="x", status_code=201, response={}
            )
        result["duplicate_key_row"] = "inserted"
    except IntegrityError:
        result["duplicate_key_row"] = "rejected"
    return result
