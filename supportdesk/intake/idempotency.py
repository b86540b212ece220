"""Writes for the REST API's ``Idempotency-Key``: one request per key, its response replayed.

Lives beside ``services.py`` (same conventions: atomic, keyword-only, typed) only to keep that
module under 300 lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from supportdesk.models import IdempotencyKey

IDEMPOTENCY_TTL = timedelta(hours=24)
# How long a request waits for a concurrent twin (same user and key) to finish, in PostgreSQL.
# SQLite serialises writers already: its busy timeout applies there.
IDEMPOTENCY_WAIT_MS = 5000


class IdempotencyMismatch(ValueError):
    """The key was used before for a different request."""


class IdempotencyInProgress(RuntimeError):
    """A request with the key is still running and did not finish in time."""


@dataclass(frozen=True)
class IdempotentResponse:
    status_code: int
    body: dict
    replayed: bool


@transaction.atomic
def idempotent_request(
    *,
    user: AbstractBaseUser,
    key: str,
    fingerprint: str,
    run: Callable[[], tuple[int, dict]],
) -> IdempotentResponse:
    """Run ``run`` once per (user, key); later calls with the same fingerprint replay its result.

    The key row and the work commit together: a crash loses both, so a key is never stuck
    "in progress". Only successful responses are kept; after an error response the key is free
    for a corrected request. Raises ``IdempotencyMismatch`` or ``IdempotencyInProgress``.
    """
    record, created = _idempotency_claim(user=user, key=key, fingerprint=fingerprint)
    if not created:
        if record.fingerprint != fingerprint:
            raise IdempotencyMismatch(key)
        return IdempotentResponse(record.status_code, record.response, replayed=True)
    status_code, body = run()
    if status_code < 400:
        record.status_code, record.response = status_code, body
        record.save(update_fields=["status_code", "response"])
    else:
        record.delete()
    return IdempotentResponse(status_code, body, replayed=False)


def _idempotency_claim(
    *, user: AbstractBaseUser, key: str, fingerprint: str
) -> tuple[IdempotencyKey, bool]:
    """Insert the key row and return (row, True), or return the stored row and False.

    Runs inside the caller's transaction. In PostgreSQL the insert waits on the unique index
    while a twin's transaction is open, then fails (twin committed) or succeeds (twin rolled
    back); the wait is bounded by a local lock timeout.
    """
    for _attempt in range(2):
        try:
            with transaction.atomic():
                _set_lock_timeout(IDEMPOTENCY_WAIT_MS)
                record = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=fingerprint, status_code=0, response={}
                )
                _set_lock_timeout(None)
            return record, True
        except IntegrityError:
            pass
        except OperationalError as exc:
            raise IdempotencyInProgress(key) from exc
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is None:
            continue  # the twin failed and released the key meanwhile
        if stored.created_at >= timezone.now() - IDEMPOTENCY_TTL:
            return stored, False
        stored.delete()  # expired: the key may be used afresh
    raise IdempotencyInProgress(key)


def _set_lock_timeout(milliseconds: int | None) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if milliseconds is None:
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        else:
            cursor.execute(f"SET LOCAL lock_timeout = {int(milliseconds)}")


@transaction.atomic
def idempotency_keys_purge(*, older_than: timedelta = IDEMPOTENCY_TTL) -> int:
    """Delete keys past their lifetime. Returns how many were removed."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
