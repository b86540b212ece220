"""Requests with oversized headers get an answer, from the real server process (daphne as
`manage.py serve` runs it), read by a client that is still sending when the server answers."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[int]:
    var_dir = tmp_path_factory.mktemp("server-var")
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CHANNELS_PREFIX", "TASK_BACKEND"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'desk.sqlite3'}",
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "supportdesk.server", "-b", "127.0.0.1", "-p", str(port),
         "supportdesk.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


def _exchange(port: int, headers: bytes) -> bytes:
    """Send a GET with `headers` and read until the server closes or the head has arrived."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /contact/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(b"X-Big: " + b"a" * 200_000 + b"\r\n", id="one 200 KB header"),
        pytest.param(b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 6000) for i in range(4)), id="24 KB"),
        pytest.param(b"Cookie: " + b"c=" * 20_000 + b"\r\n", id="a 40 KB cookie"),
    ],
)
def test_oversized_headers_get_a_431_answer(server, headers):
    answer = _exchange(server, headers)

    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
    assert b"Connection: close" in answer


def test_ordinary_headers_still_work_after_an_oversized_request(server):
    _exchange(server, b"X-Big: " + b"a" * 200_000 + b"\r\n")

    answer = _exchange(server, b"X-Normal: " + b"n" * 8000 + b"\r\n")

    assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer[:200]
