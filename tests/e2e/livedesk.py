"""A real SupportDesk installation in subprocesses, for the browser and scale-path tests.

Each installation gets its own VAR_DIR (SQLite files, sent mail, logs) and an environment built
from scratch, so nothing leaks in from the developer's shell, `.env` or the unit-test settings
that `make test` exports. Every process starts in a new session and is stopped by process
group, so daphne, the worker and the worker's children all go with it.
"""

from __future__ import annotations

import contextlib
import email
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SCREENSHOTS = ROOT / "var" / "screenshots"
DEMO_PASSWORD = "supportdesk"
VIP_EMAIL = "vip.e2e@example.com"  # made a VIP customer by the live installations
LIVE_TIMEOUT_MS = 20_000  # a live update has this long to reach an open page
RESULT_MARK = "@@result@@ "  # prefixes the one line of `orm` output that carries the value
# One key for every installation of a test run: models trained by one are verified by the others
# (model files are signed with a key derived from SECRET_KEY).
SECRET_KEY = secrets.token_urlsafe(50)

# Settings the installation reads from the environment; each one is set explicitly below so a
# value from the calling shell (e.g. `make test`'s REDIS_URL) cannot change which path is tested.
APP_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CHANNELS_PREFIX",
    "TASK_BACKEND",
    "CELERY_BROKER_URL",
    "CELERY_QUEUE",
    "MODELS_DIR",
    "VAR_DIR",
    "EMAIL_URL",
    "LLM_BASE_URL",
    "LLM_API_KEY",
    "LLM_MODEL",
    "DEMO_PASSWORD",
    "DEMO_TICKETS",
    "DEBUG",
    "SECRET_KEY",
    "SITE_URL",
)

T = TypeVar("T")

POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database named `prefix` plus a random suffix, dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({POSTGRES}): run `make services`.\n{exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def redis_forget(url: str, run: str) -> None:
    """Remove what one test run left in Redis: channel-layer keys, its Celery queue and kombu's
    bindings for it, all of which carry the run id."""
    import redis

    keys = redis.Redis.from_url(url)
    try:
        stale = list(keys.scan_iter(match=f"*{run}*"))
        if stale:
            keys.delete(*stale)
        for binding in keys.scan_iter(match="_kombu.binding.*"):
            members = [m for m in keys.smembers(binding) if run.encode() in m]
            if members:
                keys.srem(binding, *members)
    finally:
        keys.close()


# Every installation started in this test run, for the timings summary.
INSTALLATIONS: list[Installation] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


@dataclass
class Installation:
    """One installation: its environment, its processes and how to talk to it."""

    name: str
    var_dir: Path
    env: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    base_url: str = ""

    @classmethod
    def create(cls, name: str, var_dir: Path, **settings: str) -> Installation:
        env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
        env.update(
            DJANGO_SETTINGS_MODULE="supportdesk.settings",
            PYTHONUNBUFFERED="1",
            VAR_DIR=str(var_dir),
            DATABASE_URL=f"sqlite:///{var_dir / 'supportdesk.sqlite3'}",
            REDIS_URL="",
            TASK_BACKEND="q2",
            MODELS_DIR=str(var_dir / "models"),
            EMAIL_URL="",
            LLM_BASE_URL="",
            DEBUG="false",
            SECRET_KEY=SECRET_KEY,
            SITE_URL="http://127.0.0.1:8000",
            DEMO_PASSWORD=DEMO_PASSWORD,
            # Honoured only if load_demo supports skipping its sample tickets.
            DEMO_TICKETS="0",
        )
        env.update(settings)
        var_dir.mkdir(parents=True, exist_ok=True)
        installation = cls(name=name, var_dir=var_dir, env=env)
        INSTALLATIONS.append(installation)
        return installation

    @property
    def sent_mail(self) -> Path:
        return self.var_dir / "sent-mail"

    # -- commands ---------------------------------------------------------------------------

    def run(self, argv: list[str], *, timeout: float = 180, step: str = "") -> str:
        """Run a command to completion in the installation's environment; fail loudly."""
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"[{self.name}] {' '.join(argv[1:])} took over {timeout:.0f}s:\n{exc.stderr!r}"
            )
        if step:
            self.timings[step] = time.monotonic() - started
        if done.returncode != 0:
            pytest.fail(
                f"[{self.name}] {' '.join(argv[1:])} exited {done.returncode}:\n"
                f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-6000:]}"
            )
        return done.stdout

    def manage(self, *args: str, timeout: float = 180, step: str = "") -> str:
        return self.run([PYTHON, "manage.py", *args], timeout=timeout, step=step)

    def orm(self, code: str) -> Any:
        """Run `code` in `manage.py shell` against this installation's database and return the
        JSON-serialisable value it assigns to `result`."""
        wrapped = f"{code}\nimport json as _json\nprint({RESULT_MARK!r} + _json.dumps(result))"
        out = self.manage("shell", "-c", wrapped, timeout=60)
        lines = [line for line in out.splitlines() if line.startswith(RESULT_MARK)]
        assert lines, f"[{self.name}] shell printed no result:\n{out}"
        return json.loads(lines[-1][len(RESULT_MARK) :])

    # -- long-running processes ------------------------------------------------------------

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.var_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() takes its children too
        )
        log.close()
        self.processes[name] = process
        return process

    def serve(self, *, worker: bool = True, timeout: float = 60) -> str:
        """`manage.py serve` on a free port; returns the base URL once HTTP answers."""
        port = free_port()
        argv = [PYTHON, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
        self.start("serve", argv if worker else [*argv, "--no-worker"])
        self.base_url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        self.wait_for(lambda: self._answers(self.base_url + "/login/"), timeout, "the web server")
        self.timings["server up"] = time.monotonic() - started
        return self.base_url

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                pytest.fail(f"[{self.name}] {name} exited with {process.returncode}.{self.logs()}")

    def _answers(self, url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own http URL)
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        """SIGTERM each process group, give it 15 s to shut down, then SIGKILL what is left."""
        groups = {}
        for process in self.processes.values():
            try:
                groups[process.pid] = os.getpgid(process.pid)
            except ProcessLookupError:
                groups[process.pid] = process.pid  # leader gone; its group id was its pid
        for pgid in groups.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        while any(_group_members(g) for g in groups.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pgid in groups.values():
            if _group_members(pgid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
        for process in self.processes.values():
            process.wait(timeout=5)
        deadline = time.monotonic() + 5
        while any(_group_members(g) for g in groups.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        leftovers = {g: _group_members(g) for g in groups.values()}
        self.processes.clear()
        assert not any(leftovers.values()), f"[{self.name}] processes survived: {leftovers}"

    def logs(self, lines: int = 60) -> str:
        parts = []
        for log in sorted(self.var_dir.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"\n--- {log} (last {len(tail)} lines) ---\n" + "\n".join(tail))
        return "".join(parts)

    # -- waiting ---------------------------------------------------------------------------

    def wait_for(self, probe: Callable[[], T], timeout: float, what: str, every: float = 0.25) -> T:
        """Poll `probe` until it returns something truthy; fail with the server logs if not."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"[{self.name}] waited {timeout:.0f}s for {what}.{self.logs()}")
            time.sleep(every)

    def wait_for_backlog(self, timeout: float = 120) -> None:
        """Wait until the worker has drafted (or flagged) every ticket, e.g. load_demo's, so a
        test's own ticket is not queued behind them and counters move only because of it."""
        started = time.monotonic()
        self.wait_for(
            lambda: self.orm(
                "from supportdesk.models import Ticket\n"
                "result = not Ticket.objects.filter("
                "drafts__isnull=True, needs_manual_triage=False).exists()"
            ),
            timeout,
            "the worker to finish the queued tickets",
            every=1,
        )
        self.timings["demo backlog"] = time.monotonic() - started

    # -- the HTTP API ----------------------------------------------------------------------

    def api_token(self, username: str) -> str:
        return self.manage("create_api_token", username).strip().splitlines()[-1]

    def api(self, method: str, path: str, *, token: str, payload: dict | None = None) -> tuple:
        """(status, JSON body) of one API call."""
        request = urllib.request.Request(  # noqa: S310 (our own http URL)
            self.base_url + path,
            method=method,
            data=None if payload is None else json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def create_ticket(self, *, token: str, subject: str, body: str, email: str, name: str) -> dict:
        status, data = self.api(
            "POST",
            "/api/v1/tickets",
            token=token,
            payload={
                "subject": subject,
                "body": body,
                "customer": {"email": email, "name": name, "locale": "en-GB"},
            },
        )
        assert status == 201, f"POST /api/v1/tickets answered {status}: {data}"
        return data


# -- mail --------------------------------------------------------------------------------------


def mails_to(outbox: Path, address: str) -> list[email.message.EmailMessage]:
    """The e-mails an installation's file backend wrote to `address`, oldest file first."""
    if not outbox.exists():
        return []
    messages = []
    for file in sorted(outbox.iterdir()):
        # The file backend ends each message with a rule line; what follows the last rule is
        # a message still being written.
        for chunk in file.read_bytes().split(b"\n" + b"-" * 79 + b"\n")[:-1]:
            message = email.message_from_bytes(chunk, policy=policy.default)
            if address in str(message["To"]):
                messages.append(message)
    return messages


# -- in the browser ------------------------------------------------------------------------


def sign_in(page: Page, desk: Installation, username: str, then: str) -> None:
    page.goto(f"{desk.base_url}/login/?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{desk.base_url}{then}")
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=LIVE_TIMEOUT_MS)
    # Survives only as long as the document does: proves later changes came without a reload.
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class SharedModels:
    """Trained models for every installation of one test session.

    The first installation runs the real `train_models`; later ones point MODELS_DIR at the same
    directory and register the same active versions, which is what `train_models` leaves behind.
    """

    directory: Path
    versions: list[dict] | None = None
    trained_by: str = ""
    failure: str = ""

    def install(self, desk: Installation) -> None:
        desk.env["MODELS_DIR"] = str(self.directory)
        if self.failure:
            pytest.fail(f"train_models already failed in this run:\n{self.failure}")
        if self.versions is None:
            try:
                # Every model ships trained on the demo's examples, so this installs them in
                # seconds (the first run's path); a model that does not fit is trained here.
                desk.manage("train_models", timeout=600, step="train_models")
            except BaseException as exc:  # pytest.fail raises a BaseException
                self.failure = str(exc)
                raise
            self.versions = desk.orm(
                "from triage.models import ModelVersion\n"
                "result = list(ModelVersion.objects.filter(is_active=True)"
                ".values('target', 'version', 'metrics', 'example_count'))"
            )
            self.trained_by = desk.name
            assert {v["target"] for v in self.versions} == {"category", "emotion", "answer"}, (
                self.versions
            )
            return
        started = time.monotonic()
        desk.orm(
            "from triage.models import ModelVersion\n"
            f"for row in {self.versions!r}:\n"
            "    ModelVersion.objects.create(is_active=True, **row)\n"
            "result = ModelVersion.objects.filter(is_active=True).count()"
        )
        desk.timings[f"register models trained by {self.trained_by}"] = time.monotonic() - started


def timing_lines(desks: list[Installation]) -> list[str]:
    lines = []
    for desk in desks:
        steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in desk.timings.items())
        lines.append(f"{desk.name}: {steps}")
    return lines
