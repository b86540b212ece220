"""Work per event per process, not per socket.

Every desk socket of a process receives the same event (`realtime.DeskEvent`, named by its
`event_id`). What the event makes a socket read and render is the same for most of them: the
ticket's inbox row, the sessions that must still sign their sockets in, a user's permissions,
the escalation badge. `EventWork.once(event_id, what, compute)` runs `compute` for the first
socket that asks and hands its result to every other socket of the process that asks for the
same thing about the same event; the sockets then differ only in what is cheap and theirs (do
their filters show the row, which language and time zone it is rendered in).

Reading for an event once, when its first socket asks, is as fresh as each socket reading for
itself: that read starts after the event arrived, so after the commit that sent it.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.utils import timezone

# How long the results for one event are kept: longer than any socket takes to get to it.
EVENT_MEMORY_SECONDS = 30.0


class EventWork:
    """Results of the reads and renders done for recent events, in one event loop."""

    def __init__(self) -> None:
        self._events: OrderedDict[str, tuple[float, dict[Hashable, asyncio.Future]]] = OrderedDict()
        # How many times each thing was computed: what the tests count.
        self.computed: Counter[str] = Counter()

    async def once(
        self, event_id: str, what: Hashable, compute: Callable[[], Awaitable[Any]]
    ) -> Any:
        """`compute()`'s result, computed once per (event, what) in this process."""
        now = time.monotonic()
        while self._events:
            oldest_id, (at, _) = next(iter(self._events.items()))
            if now - at < EVENT_MEMORY_SECONDS:
                break
            del self._events[oldest_id]
        entry = self._events.get(event_id)
        if entry is None:
            entry = self._events[event_id] = (now, {})
        task = entry[1].get(what)
        if task is None:
            self.computed[what[0] if isinstance(what, tuple) else str(what)] += 1
            task = entry[1][what] = asyncio.ensure_future(compute())
        # One socket that goes away while waiting must not cancel the work for the others.
        return await asyncio.shield(task)


_work: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventWork] = weakref.WeakKeyDictionary()


def event_work() -> EventWork:
    """This event loop's `EventWork` (futures belong to one loop; daphne runs one)."""
    loop = asyncio.get_running_loop()
    work = _work.get(loop)
    if work is None:
        work = _work[loop] = EventWork()
    return work


# -- the sessions of this process's open sockets ------------------------------------------------

# Session keys of the desk sockets open in this process, with how many sockets use each. The
# keys stay in memory only: they never go to the channel layer.
_open_sessions: Counter[str] = Counter()


def session_opened(session_key: str) -> None:
    _open_sessions[session_key] += 1


def session_closed(session_key: str) -> None:
    _open_sessions[session_key] -= 1
    if _open_sessions[session_key] <= 0:
        del _open_sessions[session_key]


def open_session_keys() -> frozenset[str]:
    return frozenset(_open_sessions)


# Keys per query: under SQLite's and PostgreSQL's limits on bound parameters.
SESSION_CHUNK = 500


def session_data(keys: frozenset[str]) -> dict[str, dict]:
    """The stored data of each session in `keys` that still exists and has not expired ({}
    for the others), read fresh from the session store: a few queries for every socket of the
    process with a database-backed store, one read per key with any other."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    found: dict[str, dict] = dict.fromkeys(keys, {})
    get_model = getattr(store_class, "get_model_class", None)
    if get_model is None or "cache" in settings.SESSION_ENGINE:
        # A store without the database table, or one whose cache holds writes the table does
        # not yet (cache-only, cached_db): ask it key by key, as Django does.
        for key in keys:
            found[key] = store_class(session_key=key).load()
        return found
    ordered = sorted(keys)
    decoder = store_class()
    for start in range(0, len(ordered), SESSION_CHUNK):
        rows = (
            get_model()
            .objects.filter(
                session_key__in=ordered[start : start + SESSION_CHUNK],
                expire_date__gt=timezone.now(),
            )
            .values_list("session_key", "session_data")
        )
        for key, data in rows:
            found[key] = decoder.decode(data)
    return found
