"""Live inbox fan-out: how long a new ticket takes to reach every open inbox.

Starts a real installation (daphne, as `manage.py serve` runs it) on the embedded default
(SQLite, SQLite channel layer) or at scale (PostgreSQL, Redis channel layer), signs in agents,
opens N real WebSocket inbox connections, creates tickets through the REST API at a steady
rate, and prints how many sockets connected and the p50/p95 delivery latency per (socket,
ticket): from the ticket's creation time (the API's `created_at`, set in the transaction that
commits it) to the moment its new row reaches the socket.

    python bench/fanout.py [--layer sqlite|redis|both] [--clients 50,200,500]
                           [--tickets 20] [--rate 2] [--root DIR]

`--root` runs another checkout's code (e.g. before a change) with this script; nothing is
written there. Redis and PostgreSQL come from --redis-url / --database-url (the database is
dropped and created again).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import secrets
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ports import free_port, wait_for_port  # bench/ports.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
USERS = 25  # agents the sessions are spread over (several tabs each at larger N)
SETTLE = 15.0  # seconds after the last ticket for stragglers

SETUP = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.db import SessionStore
from supportdesk.services import api_token_create

agents = Group.objects.get(name="agent")
users = []
for i in range({users}):
    user, _ = User.objects.get_or_create(username=f"bench{{i}}")
    user.groups.add(agents)
    users.append(user)
keys = []
for i in range({sessions}):
    user = users[i % len(users)]
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "supportdesk.roles.OneQueryPermissionsBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    keys.append(store.session_key)
print("@@" + json.dumps({{"sessions": keys, "token": api_token_create(user=users[0])}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layer", choices=["sqlite", "redis", "both"], default="both")
    parser.add_argument("--clients", default="50,200,500")
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--rate", type=float, default=2.0, help="tickets per second")
    parser.add_argument(
        "--ramp", type=float, default=0, help="sockets opened per second; 0: all at once"
    )
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--keep", action="store_true", help="keep the installation's files")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database-name", default="supportdesk_fanout_bench")
    parser.add_argument("--prefix", default="sdfanoutbench")
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(counts) * 2 + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    layers = ["sqlite", "redis"] if args.layer == "both" else [args.layer]
    print(
        f"code: {args.root}  cores: {os.cpu_count()}  load: {os.getloadavg()[0]:.2f}  "
        f"tickets: {args.tickets} at {args.rate}/s  "
        f"connects: {f'{args.ramp:g}/s' if args.ramp else 'all at once'}"
    )
    for layer in layers:
        run_layer(layer, counts, args)


def run_layer(layer: str, counts: list[int], args: argparse.Namespace) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix=f"supportdesk-fanout-{layer}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        VAR_DIR=str(var_dir),
        TASK_BACKEND="q2",  # no worker runs: the only events are the tickets' arrivals
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        EMAIL_URL="",
        LLM_BASE_URL="",
        MODELS_DIR=str(var_dir / "models"),
        REDIS_URL="",
        DATABASE_URL=f"sqlite:///{var_dir / 'supportdesk.sqlite3'}",
    )
    if layer == "redis":
        fresh_database(args.database_url, args.database_name)
        fresh_redis(args.redis_url, args.prefix)
        env.update(
            REDIS_URL=args.redis_url,
            CHANNELS_PREFIX=args.prefix,
            DATABASE_URL=args.database_url.rstrip("/") + "/" + args.database_name,
        )
    manage = [PYTHON, "manage.py"]
    subprocess.run(
        [*manage, "migrate_all"], cwd=args.root, env=env, check=True, capture_output=True
    )
    out = subprocess.run(
        [*manage, "shell", "-c", SETUP.format(users=USERS, sessions=max(counts))],
        cwd=args.root, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    setup = json.loads(next(line[2:] for line in out.splitlines() if line.startswith("@@")))
    port = free_port()
    log = (var_dir / "server.log").open("wb")
    # As `manage.py serve` runs it: daphne with the same options, no background worker.
    server = subprocess.Popen(
        [*manage, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)],
        cwd=args.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port)
        for n in counts:
            result = asyncio.run(measure(port, setup, n, args))
            print(f"{layer:6} {result}", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    errors = [
        line
        for line in (var_dir / "server.log").read_text(errors="replace").splitlines()
        if "Error" in line
    ]
    if errors:
        print(f"       server log: {len(errors)} error lines, e.g. {errors[-1][:200]}")
    if not args.keep:
        shutil.rmtree(var_dir, ignore_errors=True)


@dataclass
class Result:
    clients: int
    connected: int = 0
    latencies: list[float] = field(default_factory=list)
    missing: int = 0
    refusals: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        refused = "".join(f"\n         refused {n}x {why}" for why, n in self.refusals.items())
        if not self.latencies:
            return (
                f"N={self.clients:4}  connected {self.connected}/{self.clients}  no rows arrived"
                + refused
            )
        q = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return (
            f"N={self.clients:4}  connected {self.connected:4}/{self.clients:<4}  "
            f"rows {len(self.latencies):6}  missing {self.missing:5}  "
            f"p50 {statistics.median(self.latencies) * 1000:7.0f} ms  "
            f"p95 {q[94] * 1000:7.0f} ms  max {max(self.latencies) * 1000:7.0f} ms"
        ) + refused


async def measure(port: int, setup: dict, n: int, args: argparse.Namespace) -> Result:
    result = Result(clients=n)
    received: dict[int, dict[int, float]] = {}  # socket index -> ticket id -> arrival (epoch)

    async def opened(i: int):
        if args.ramp:
            await asyncio.sleep(i / args.ramp)
        return await open_socket(port, setup["sessions"][i])

    sockets = await asyncio.gather(*(opened(i) for i in range(n)), return_exceptions=True)
    live = [(i, s) for i, s in enumerate(sockets) if not isinstance(s, BaseException)]
    result.connected = len(live)
    result.refusals = Counter(
        f"{type(s).__name__}: {s}"[:80] for s in sockets if isinstance(s, BaseException)
    )
    readers = [asyncio.create_task(read_rows(sock, received.setdefault(i, {}))) for i, sock in live]
    # Let every consumer finish connecting (marking its agent online writes to the database).
    await asyncio.sleep(2.0 + n / 100)
    created: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    for k in range(args.tickets):
        started = loop.time()
        ticket_id, at = await loop.run_in_executor(None, create_ticket, port, setup["token"], k)
        created[ticket_id] = at
        await asyncio.sleep(max(0.0, 1 / args.rate - (loop.time() - started)))
    deadline = loop.time() + SETTLE
    while loop.time() < deadline:
        if all(len(received[i]) >= len(created) for i, _ in live):
            break
        await asyncio.sleep(0.1)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    for _, sock in live:
        sock[1].close()
    await asyncio.sleep(3.0 + n / 50)  # the server runs each socket's disconnect handler
    for i, _ in live:
        for ticket_id, at in created.items():
            arrival = received[i].get(ticket_id)
            if arrival is None:
                result.missing += 1
            else:
                result.latencies.append(arrival - at)
    return result


# -- a minimal WebSocket client (RFC 6455): enough to read the server's text frames ----------


async def open_socket(port: int, session_key: str):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /ws/desk/?view=inbox HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Cookie: sessionid={session_key}\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        writer.close()
        raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
    # Accepted, but a socket the server refuses after accepting closes at once: wait briefly.
    try:
        opcode, payload = await asyncio.wait_for(read_frame(reader, writer), 1.0)
    except TimeoutError:
        return reader, writer
    if opcode == 8:
        writer.close()
        raise ConnectionError(f"closed {struct.unpack('!H', payload[:2])[0]}")
    return reader, writer


async def read_frame(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
    while True:
        first, second = await reader.readexactly(2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await reader.readexactly(8))
        payload = await reader.readexactly(length)
        if opcode == 9:  # ping: answer with a masked pong
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
            continue
        return opcode, payload


async def read_rows(sock, arrivals: dict[int, float]) -> None:
    reader, writer = sock
    marker = b'afterbegin:#ticket-rows">\n<article id="ticket-'
    while True:
        opcode, payload = await read_frame(reader, writer)
        if opcode == 8:
            return
        at = time.time()
        start = payload.find(marker)
        while start != -1:
            digits = payload[start + len(marker) :].split(b'"', 1)[0]
            arrivals.setdefault(int(digits), at)
            start = payload.find(marker, start + 1)


# -- the installation ------------------------------------------------------------------------


def create_ticket(port: int, token: str, k: int) -> tuple[int, float]:
    body = json.dumps(
        {
            "customer": {"email": f"fanout{k}@example.com", "name": f"Customer {k}"},
            "subject": f"Fan-out ticket {k}",
            "body": "Where is my parcel? The tracking still says dispatched.",
            "channel": "api",
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/tickets",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (our server)
        data = json.loads(response.read())
    return data["id"], datetime.fromisoformat(data["created_at"]).timestamp()


def fresh_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def fresh_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


if __name__ == "__main__":
    main()
