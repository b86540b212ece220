"""The production recipe as written: docs/deploy/Procfile's processes (two web servers, two Celery
workers, beat, the sweeper) behind docs/deploy/nginx.conf (TLS, static files, WebSockets), on
PostgreSQL and Redis, with a public deployment's settings.

The Procfile's command lines run as honcho runs them (through the shell, PORT numbered from a
base: 100 apart per kind, one apart per instance). nginx runs docs/deploy/nginx.conf with only its
ports, certificate and static folder replaced by the test's.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.livedesk import (
    DEMO_PASSWORD,
    PYTHON,
    ROOT,
    Installation,
    free_port,
    postgres_database,
    redis_forget,
)

pytestmark = pytest.mark.scale

REDIS_DB = 15  # as the other scale tests; keys and queue carry the run id
HOST = "desk.example.com"
SHAPE = {"web": 2, "worker": 2, "beat": 1, "sweep": 1}
DRAFT_TIMEOUT = 90  # seconds for a worker to triage, route and draft one ticket


def procfile() -> dict[str, str]:
    lines = (ROOT / "docs" / "deploy" / "Procfile").read_text(encoding="utf-8").splitlines()
    kinds = [re.match(r"^([a-z]+):\s*(.+)$", line) for line in lines]
    return {m.group(1): m.group(2) for m in kinds if m}


def _two_free_ports() -> int:
    """A port whose next port is free too (honcho numbers web.1, web.2 consecutively)."""
    for _ in range(50):
        base = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", base + 1))
            except OSError:
                continue
        return base
    pytest.fail("no two consecutive free ports")


@dataclass
class Recipe:
    desk: Installation
    https_port: int
    token: str
    context: ssl.SSLContext

    def request(self, method: str, path: str, body: bytes | str = b"", headers=None, cookies=None):
        """(status, headers, body) of one request through nginx's TLS server."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.context, timeout=60
        )
        sent = {"Host": HOST}
        if cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        sent.update(headers or {})
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        content = response.read()
        if cookies is not None:
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key] = rest.split(";")[0]
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content

    def api(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        status, _, content = self.request(
            method,
            path,
            json.dumps(payload) if payload is not None else b"",
            {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        return status, json.loads(content or b"null")

    def create_ticket(self, subject: str, body: str) -> int:
        status, ticket = self.api(
            "POST",
            "/api/v1/tickets",
            {"subject": subject, "body": body,
             "customer": {"email": f"{uuid.uuid4().hex[:8]}@example.com", "name": "Robin Recipe"}},
        )  # fmt: skip
        assert status == 201, (status, ticket)
        return ticket["id"]

    def sign_in(self) -> dict[str, str]:
        cookies: dict[str, str] = {}
        status, _, page = self.request("GET", "/login/", cookies=cookies)
        assert status == 200, status
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {
            "username": "agent",
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": token.decode(),
        }
        status, headers, _ = self.request(
            "POST", "/login/", urllib.parse.urlencode(form),
            {"Content-Type": "application/x-www-form-urlencoded",
             "Referer": f"https://{HOST}/login/"},
            cookies,
        )  # fmt: skip
        assert status == 302, (status, headers)
        return cookies


@pytest.fixture(scope="module")
def recipe(tmp_path_factory, desk_models) -> Iterator[Recipe]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is not installed: run `make services`")
    run = uuid.uuid4().hex[:10]
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    var = tmp_path_factory.mktemp("recipe-var")
    with postgres_database("supportdesk_recipe") as database:
        desk = Installation.create(
            "recipe",
            var,
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
            REDIS_URL=redis_url,
            CHANNELS_PREFIX=f"sd-recipe-{run}-ws",
            TASK_BACKEND="celery",
            CELERY_BROKER_URL=redis_url,
            CELERY_QUEUE=f"sd-recipe-{run}-tasks",
            SITE_URL=f"https://{HOST}",
            ALLOWED_HOSTS=HOST,
            BEHIND_TLS_PROXY="true",
            TRUSTED_PROXY_COUNT="1",
            OMP_NUM_THREADS="1",
            # The Procfile says `python`: the virtualenv's, as with an activated virtualenv.
            PATH=f"{Path(PYTHON).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        )
        try:
            desk.manage("migrate_all", step="migrate")
            desk.manage("collectstatic", "--noinput")
            desk.manage("load_demo", step="load_demo")  # its agent, articles and examples
            desk_models.install(desk)
            token = desk.api_token("agent")

            base = _two_free_ports()
            commands = procfile()
            assert set(commands) == set(SHAPE), commands
            for index, kind in enumerate(commands):
                for instance in range(SHAPE[kind]):
                    desk.env["PORT"] = str(base + 100 * index + instance)
                    desk.start(f"{kind}-{instance + 1}", ["sh", "-c", commands[kind]])
            web_ports = [base, base + 1]

            https_port, http_port = _two_free_ports(), free_port()
            conf = _nginx_conf(var / "nginx", web_ports, http_port, https_port, var / "static")
            desk.start("nginx", [nginx, "-p", str(var / "nginx"), "-c", str(conf), "-g",
                                 "daemon off;"])  # fmt: skip
            # The test's own certificate, for desk.example.com while connecting to 127.0.0.1.
            context = ssl.create_default_context(cafile=var / "nginx" / "cert.pem")
            context.check_hostname = False
            ready = Recipe(desk=desk, https_port=https_port, token=token, context=context)

            def answers() -> bool:
                try:
                    for port in web_ports:
                        socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    return ready.request("GET", "/login/")[0] == 200
                except OSError:
                    return False

            desk.wait_for(answers, 60, "nginx and both web servers")
            yield ready
        finally:
            try:
                desk.stop()
            finally:
                redis_forget(redis_url, run)


def _nginx_conf(
    folder: Path, web_ports: list[int], http_port: int, https_port: int, static: Path
) -> Path:
    folder.mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
         "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (ROOT / "docs" / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "server 127.0.0.1:8001;": f"server 127.0.0.1:{web_ports[0]};",
        "server 127.0.0.1:8002;": f"server 127.0.0.1:{web_ports[1]};",
        "/etc/letsencrypt/live/desk.example.com/fullchain.pem": str(folder / "cert.pem"),
        "/etc/letsencrypt/live/desk.example.com/privkey.pem": str(folder / "key.pem"),
        "/var/lib/supportdesk/static/": f"{static}/",
    }
    for old, new in replacements.items():
        assert old in site, f"docs/deploy/nginx.conf no longer says {old!r}"
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (folder / "supportdesk.conf").write_text(site, encoding="utf-8")
    temp = folder / "temp"
    temp.mkdir()
    main = folder / "nginx.conf"
    main.write_text(
        # Workers as the user running the test: the static files are in its private tmp folder.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events { worker_connections 256; }\n"
        "http {\n  include /etc/nginx/mime.types;\n"
        f"  access_log {folder / 'access.log'};\n"
        + "".join(f"  {kind}_temp_path {temp / kind};\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"  include {folder / 'supportdesk.conf'};\n}}\n",
        encoding="utf-8",
    )  # fmt: skip
    return main


# -- WebSockets, read the way a browser's socket reads them ----------------------------------


class LiveInbox:
    """An agent's live inbox socket through nginx: the handshake and the server's frames."""

    def __init__(self, recipe: Recipe, cookies: dict[str, str]) -> None:
        raw = socket.create_connection(("127.0.0.1", recipe.https_port), timeout=30)
        self.sock = recipe.context.wrap_socket(raw, server_hostname=HOST)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws/desk/ HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: https://{HOST}\r\nCookie: sessionid={cookies['sessionid']}\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._read()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])

    def _read(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the socket")
        return data

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self._read()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def text_frames(self, deadline: float) -> Iterator[str]:
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                first, second = self._take(2)
            except TimeoutError:
                return
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(self._take(2), "big")
            elif length == 127:
                length = int.from_bytes(self._take(8), "big")
            payload = self._take(length)
            opcode = first & 0x0F
            if opcode == 0x9:  # ping: answer with a (masked, zero-key) pong
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            elif opcode == 0x8:
                raise ConnectionError(f"closed: {payload[:2].hex()}")
            elif opcode == 0x1:
                yield payload.decode()

    def close(self) -> None:
        self.sock.close()


# -- the tests --------------------------------------------------------------------------------


def test_ticket_through_the_proxy_is_drafted_by_a_worker_and_shown_in_the_inbox(recipe) -> None:
    ticket = recipe.create_ticket(
        "Cannot reset my password",
        "Hi, the password reset e-mail never arrives. I tried three times today. Can you help?",
    )
    state = recipe.desk.wait_for(
        lambda: (s := recipe.api("GET", f"/api/v1/tickets/{ticket}")[1])["draft"] and s,
        DRAFT_TIMEOUT,
        "a worker to draft the ticket",
        every=0.5,
    )
    assert not state["needs_manual_triage"], recipe.desk.logs()
    assert state["draft"]["status"] == "proposed" and state["draft"]["text"].strip()

    cookies = recipe.sign_in()
    status, headers, page = recipe.request("GET", "/inbox/", cookies=cookies)
    assert status == 200
    assert b"Cannot reset my password" in page
    # The desk believes the proxy that it was reached over https: a public deployment's header.
    assert "max-age=" in headers["strict-transport-security"]


def test_static_files_are_served_by_nginx_compressed(recipe) -> None:
    cookies = recipe.sign_in()
    _, _, page = recipe.request("GET", "/inbox/", cookies=cookies)
    stylesheet = re.search(rb'href="(/static/[^"]+\.css)"', page).group(1).decode()
    status, headers, _ = recipe.request("GET", stylesheet, headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    # From the folder collectstatic wrote, not through a web server: the desk sets a
    # Content-Security-Policy on everything it answers itself.
    assert "content-security-policy" not in headers
    assert "max-age=3600" in headers["cache-control"]


def test_live_inboxes_on_both_web_servers_receive_a_workers_update(recipe) -> None:
    cookies = recipe.sign_in()
    inboxes = [LiveInbox(recipe, cookies), LiveInbox(recipe, cookies)]
    try:
        assert [inbox.status for inbox in inboxes] == [101, 101]
        # Fewest connections first: the second socket went to the other web server.
        connected = {
            name: (recipe.desk.var_dir / f"{name}.log").read_text().count("WSCONNECT /ws/desk/")
            for name in ("web-1", "web-2")
        }
        assert all(connected.values()), connected
        ticket = recipe.create_ticket("Where is my parcel?", "Order 4242 has not arrived.")
        deadline = time.monotonic() + DRAFT_TIMEOUT
        for inbox in inboxes:
            assert any(f'id="ticket-{ticket}"' in frame for frame in inbox.text_frames(deadline)), (
                f"no live update about ticket {ticket}{recipe.desk.logs()}"
            )
    finally:
        for inbox in inboxes:
            inbox.close()


def test_the_largest_email_reaches_the_desk_which_names_its_limit(recipe) -> None:
    limit = 25 * 1024 * 1024  # INBOUND_EMAIL_MAX_BYTES's default
    headers = {"Authorization": f"Bearer {recipe.token}", "Content-Type": "message/rfc822"}
    status, _, body = recipe.request("POST", "/api/v1/inbound/email", b"x" * (limit + 1), headers)
    assert status == 413
    assert "INBOUND_EMAIL_MAX_BYTES" in json.loads(body)["error"]
