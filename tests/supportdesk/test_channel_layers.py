"""The channel layers as hundreds of sockets in one process use them: at scale (Redis), many
sockets joining their groups at once; at the embedded default (SQLite), one group message
reaching every socket of a process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from redis.exceptions import MaxConnectionsError

from supportdesk.layers.pooled_redis import PooledRedisChannelLayer

ROOT = Path(__file__).resolve().parents[2]


def _redis_layer(**config) -> PooledRedisChannelLayer:
    return PooledRedisChannelLayer(
        hosts=[{"address": settings.REDIS_URL, "socket_timeout": 30}],
        prefix=f"{os.environ.get('CHANNELS_PREFIX', 'sd')}-pooltest",
        **config,
    )


async def _join_at_once(layer, sockets: int) -> list[BaseException | None]:
    channels = [await layer.new_channel() for _ in range(sockets)]
    try:
        return await asyncio.gather(
            *(layer.group_add("inbox", c) for c in channels), return_exceptions=True
        )
    finally:
        await layer.flush()
        await layer.close_pools()


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis layer needs REDIS_URL")
def test_many_sockets_joining_at_once_wait_for_a_pooled_connection_instead_of_failing():
    sized = _redis_layer(pool_size=10)

    results = asyncio.run(_join_at_once(sized, 300))

    assert results == [None] * 300


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis layer needs REDIS_URL")
def test_channels_redis_own_pool_of_that_size_refuses_them():
    """What the pooled layer is for: the pool channels-redis builds raises instead of waiting."""
    stock = _redis_layer(pool_size=10)
    stock.create_pool = lambda index: super(PooledRedisChannelLayer, stock).create_pool(index)
    stock.hosts[0]["max_connections"] = 10

    results = asyncio.run(_join_at_once(stock, 300))

    assert any(isinstance(r, MaxConnectionsError) for r in results)


# The embedded default's layer needs its own SQLite database and the channels_lite app, which
# the test settings (Redis) leave out: it runs in an installation of its own.
SQLITE_SCRIPT = """
import asyncio, json
import django
django.setup()
from django.core.management import call_command
call_command("migrate_all", verbosity=0)
from channels.layers import get_channel_layer
from django.db.backends.utils import CursorWrapper

statements = []
execute = CursorWrapper.execute
def counted(cursor, sql, params=None):
    statements.append(sql)
    return execute(cursor, sql, params)
CursorWrapper.execute = counted

async def main():
    layer = get_channel_layer()
    sockets = [await layer.new_channel() for _ in range(300)]
    for channel in sockets:
        await layer.group_add("inbox", channel)
    statements.clear()
    for n in range(3):
        await layer.group_send("inbox", {"type": "desk.event", "n": n})
    received = {}
    async def read(channel):
        received[channel] = [(await layer.receive(channel))["n"] for _ in range(3)]
    await asyncio.wait_for(asyncio.gather(*(read(c) for c in sockets)), 30)
    queries = len(statements)
    await layer.close()
    print("@@" + json.dumps({
        "layer": type(layer).__name__,
        "everyone got all three, in order": all(r == [0, 1, 2] for r in received.values()),
        "queries": queries,
    }))

asyncio.run(main())
"""


def test_the_sqlite_layer_brings_every_group_message_to_300_sockets_of_a_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        REDIS_URL="",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'supportdesk.sqlite3'}",
        TASK_BACKEND="sync",
    )
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(next(x[2:] for x in done.stdout.splitlines() if x.startswith("@@")))

    assert result["layer"] == "BatchedSQLiteChannelLayer"
    assert result["everyone got all three, in order"]
    # Three sends and 900 deliveries: a few statements per send and per batch received, and
    # the poller's reads while it waits; not one or two per delivery.
    assert result["queries"] < 100, result
