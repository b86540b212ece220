"""Tickets per second from API intake to a drafted reply, with real processes.

    .venv/bin/python bench/pipeline.py                       # embedded default, then Celery
    .venv/bin/python bench/pipeline.py --setups q2 --tickets 100 --rate 20

Each setup is a fresh installation of the demo company (shipped models, no language model)
served by `manage.py serve --no-worker` (daphne) and a worker started as in production:

* q2        — the embedded default: SQLite and django-q2's ORM broker (`manage.py worker`);
* celery-1  — PostgreSQL, Redis as broker and channel layer, `celery worker --concurrency 1`;
* celery-2  — the same with two worker processes.

Clients POST e-mail-length tickets to /api/v1/tickets with an API token at an offered rate:
the first-pass bench's realistic tickets (eight languages) as customers send them from a mail
client, i.e. followed by a sign-off and the support team's earlier reply quoted under an
"On …, … wrote:" line in the customer's language, about 670 characters in all. It prints the
rate the server accepted, tickets drafted per second (first POST to last draft), intake →
drafted p50/p95 (server clock), intake → the new row visible in an agent's open inbox p50/p95
(one real WebSocket on the desk, as a browser holds it; POST sent → row frame read, one clock),
the triage engine's own time per message, the CPU time each part (web server, workers,
PostgreSQL, Redis, this bench's clients) spent per drafted ticket, and each worker
process's memory: RSS, PSS (shared pages split between the processes sharing them) and USS
(pages no other process shares).

PostgreSQL and Redis come from --postgres (a server URL without a database; a database of
its own is created and dropped) and --redis; the Redis database is flushed of this bench's
keys only (its prefix and queue).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ports import free_port  # bench/ports.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICKETS = ROOT / "bench" / "data" / "first_pass_tickets.jsonl"
KB = ROOT / "supportdesk" / "demo" / "kb_articles.json"
PYTHON = sys.executable
SETUPS = ("q2", "celery-1", "celery-2")
EMAIL_CHARS = 670
# The support team's earlier reply, as each language's mail clients introduce a quote.
ATTRIBUTION = {
    "en": "On Tue, 3 Jun 2025 at 14:02, Lumen Support <support@lumen.example> wrote:",
    "es": "El mar, 3 jun 2025 a las 14:02, Lumen Support <support@lumen.example> escribió:",
    "fr": "Le mar. 3 juin 2025 à 14:02, Lumen Support <support@lumen.example> a écrit :",
    "de": "Am Di., 3. Juni 2025 um 14:02 Uhr schrieb Lumen Support <support@lumen.example>:",
    "pt": "Em ter., 3 de jun. de 2025 às 14:02, Lumen Support <support@lumen.example> escreveu:",
    "ja": "2025年6月3日(火) 14:02 Lumen Support <support@lumen.example>:",
    "zh-Hant": "Lumen Support <support@lumen.example> 於 2025年6月3日 週二 下午2:02 寫道：",
    "zh-Hans": "Lumen Support <support@lumen.example> 于 2025年6月3日周二 下午2:02 写道：",
}
SIGNOFF = {"en": "Sent from my iPhone", "es": "Enviado desde mi iPhone",
           "fr": "Envoyé de mon iPhone", "de": "Von meinem iPhone gesendet",
           "pt": "Enviado do meu iPhone", "ja": "iPhoneから送信",
           "zh-Hant": "從我的 iPhone 傳送", "zh-Hans": "发自我的 iPhone"}  # fmt: skip


def email_tickets(count: int) -> list[dict]:
    """`count` realistic tickets (cycling through the first-pass set), each body followed by a
    sign-off and the quoted earlier reply of a knowledge-base article in its language, cut so
    that the whole body is about EMAIL_CHARS characters."""
    rows = [json.loads(line) for line in TICKETS.open(encoding="utf-8") if line.strip()]
    articles: dict[str, list[str]] = {}
    for article in json.loads(KB.read_text(encoding="utf-8")):
        articles.setdefault(article["language"], []).append(article["body"])
    tickets = []
    for number, row in zip(range(count), itertools.cycle(rows), strict=False):
        language = row["language"]
        bodies = articles.get(language) or articles["en"]
        earlier = bodies[number % len(bodies)]
        head = f"{row['body']}\n\n{SIGNOFF[language]}\n\n{ATTRIBUTION[language]}\n"
        room = max(EMAIL_CHARS - len(head), 80)
        quoted = "\n".join(f"> {line}" for line in earlier[:room].splitlines())
        tickets.append({**row, "email_body": head + quoted, "number": number})
    return tickets


# -- one setup, in a process of its own (Django is configured for that installation) -------


def installation_env(setup: str, workdir: Path, args: argparse.Namespace, run: str) -> dict:
    var_dir = workdir / setup
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        PYTHONUNBUFFERED="1",
        VAR_DIR=str(var_dir),
        MODELS_DIR=str(workdir / "models"),
        DEMO_TICKETS="0",
        LLM_BASE_URL="",
        EMAIL_URL="",
        DEBUG="false",
        SECRET_KEY="bench-pipeline-" + "x" * 40,
    )
    if setup == "q2":
        env.update(
            DATABASE_URL=f"sqlite:///{var_dir / 'supportdesk.sqlite3'}",
            REDIS_URL="",
            TASK_BACKEND="q2",
            WORKER_PROCESSES=str(args.q2_workers),
        )
    else:
        env.update(
            DATABASE_URL=f"{args.postgres.rstrip('/')}/{args.database}",
            REDIS_URL=args.redis,
            CELERY_BROKER_URL=args.redis,
            CHANNELS_PREFIX=f"{args.prefix}-{run}",
            CELERY_QUEUE=f"{args.prefix}-{run}-tasks",
            TASK_BACKEND="celery",
            WORKER_PROCESSES=setup.split("-")[1],
        )
    return env


def recreate_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def memory(pid: int) -> dict[str, int]:
    """RSS, PSS and USS of a process, in MB."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"rss": fields["Rss"] // 1024, "pss": fields["Pss"] // 1024, "uss": uss // 1024}


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (those still running)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (after the command's name)
    return total / tick


def named(*names: str) -> list[int]:
    """Pids of the processes whose executable is one of `names` (the database, Redis)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                found.append(int(entry.name))
    return found


def cpu_groups(processes: list[subprocess.Popen], setup: str) -> dict[str, list[int]]:
    """The processes whose CPU a ticket costs, by role."""
    web, worker = processes
    groups = {
        "web": [web.pid, *descendants(web.pid)],
        "workers": [worker.pid, *descendants(worker.pid)],
        "bench clients": [os.getpid()],
    }
    if setup != "q2":
        groups["PostgreSQL"] = named("postgres")
        groups["Redis"] = named("redis-server")
    return groups


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[-60:]


def post_ticket(base_url: str, token: str, ticket: dict, run: str) -> tuple[float, int, int]:
    """(client time of the POST, HTTP status, ticket id or 0)."""
    payload = {
        "subject": ticket["subject"] or "(no subject)",
        "body": ticket["email_body"],
        "customer": {
            "email": f"bench.{run}.{ticket['number']}@example.com",
            "name": ticket["customer"]["name"],
            "locale": ticket["customer"]["locale"],
        },
    }
    request = urllib.request.Request(  # noqa: S310 (our own http URL)
        base_url + "/api/v1/tickets",
        method="POST",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    sent = time.time()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return sent, response.status, json.loads(response.read())["id"]
    except urllib.error.HTTPError as exc:
        return sent, exc.code, 0
    except OSError:
        return sent, 0, 0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run_setup(setup: str, args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    workdir = args.workdir
    env = installation_env(setup, workdir, args, run)
    if setup == "q2":
        for name in ("supportdesk.sqlite3", "channels.sqlite3"):
            for suffix in ("", "-wal", "-shm"):
                (Path(env["VAR_DIR"]) / (name + suffix)).unlink(missing_ok=True)
    else:
        recreate_database(args.postgres, args.database)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate_all", verbosity=0)
    call_command("load_demo", verbosity=0)
    call_command("train_models", "--if-missing", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.db import connections

    from replies.models import Draft
    from supportdesk.models import Ticket
    from supportdesk.services import api_token_create
    from triage.models import TriageResult

    agent = get_user_model().objects.get(username="agent")
    token = api_token_create(user=agent)
    session_key = signed_in_session(agent)
    connections.close_all()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = open(workdir / f"{setup}.log", "w", encoding="utf-8")  # noqa: SIM115
    web_argv = [PYTHON, "manage.py", "serve", "--no-worker", "--port", str(port)]
    if setup == "q2":
        worker_argv = [PYTHON, "manage.py", "worker"]
    else:
        worker_argv = [PYTHON, "-m", "celery", "-A", "supportdesk", "worker", "-l", "WARNING",
                       "-Q", env["CELERY_QUEUE"], "--concurrency", env["WORKER_PROCESSES"],
                       "-n", f"{env['CELERY_QUEUE']}@%h", "--without-gossip",
                       "--without-mingle", "--without-heartbeat"]  # fmt: skip
    processes = [
        subprocess.Popen(argv, cwd=ROOT, env=env, stdout=logs, stderr=logs, start_new_session=True)  # noqa: S603
        for argv in (web_argv, worker_argv)
    ]
    worker = processes[1]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base_url + "/login/", timeout=2):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.5)
        tickets = email_tickets(args.tickets + args.warm_up)
        warm, measured = tickets[: args.warm_up], tickets[args.warm_up :]
        # Warm-up: the workers read each article's passages once and keep them.
        warm_ids = [post_ticket(base_url, token, t, run)[2] for t in warm]
        wait_drafted(warm_ids, Draft, Ticket, timeout=args.timeout)
        results: list[tuple[float, int, int]] = []
        lock = threading.Lock()
        inbox = OpenInbox(port, session_key)

        def send(ticket: dict) -> None:
            outcome = post_ticket(base_url, token, ticket, run)
            with lock:
                results.append(outcome)

        groups = cpu_groups(processes, setup)
        cpu_before = {role: cpu_seconds(pids) for role, pids in groups.items()}
        started = time.time()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            for number, ticket in enumerate(measured):
                # Open loop: ticket n is offered at n / rate, whether or not earlier ones are in.
                delay = started + number / args.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(send, ticket)
        accepted_at = time.time()
        ids = [ticket_id for _, status, ticket_id in results if status == 201]
        finished = wait_drafted(ids, Draft, Ticket, timeout=args.timeout)
        posted = {ticket_id: sent for sent, status, ticket_id in results if status == 201}
        cpu_used = {role: cpu_seconds(pids) - cpu_before[role] for role, pids in groups.items()}
        shown = inbox.stop()
        visible = [shown[i] - posted[i] for i in ids if i in shown]
        drafted = dict(
            Draft.objects.filter(ticket_id__in=ids).values_list("ticket_id", "created_at")
        )
        latencies = [drafted[i].timestamp() - posted[i] for i in ids if i in drafted]
        last = max((drafted[i].timestamp() for i in ids if i in drafted), default=started)
        engine_ms = list(
            TriageResult.objects.filter(ticket_id__in=ids).values_list("latency_ms", flat=True)
        )
        worker_memory = [
            (pid, command_line(pid), memory(pid)) for pid in descendants(worker.pid) + [worker.pid]
        ]
        failed = Ticket.objects.filter(pk__in=ids, needs_manual_triage=True).count()
        print(f"\n== {setup}: {len(measured)} e-mail-length tickets offered at {args.rate}/s "
              f"({args.clients} clients) ==")  # fmt: skip
        refused = sorted({status for _, status, _ in results if status != 201})
        print(f"accepted   {len(ids)}/{len(measured)} at {len(ids) / (accepted_at - started):.1f}/s"
              f"{f'; refused with HTTP {refused} (0: no answer)' if refused else ''}")  # fmt: skip
        waited = "" if finished else " (timed out waiting)"
        print(f"drafted    {len(latencies)} at {len(latencies) / (last - started):.2f} tickets/s"
              f"{waited}; {failed} flagged for manual triage")  # fmt: skip
        print(f"intake → drafted  p50 {statistics.median(latencies or [0]):.2f} s   "
              f"p95 {percentile(latencies, 0.95):.2f} s")  # fmt: skip
        print(f"intake → row in an open inbox  p50 {statistics.median(visible or [0]) * 1e3:.0f} ms"
              f"   p95 {percentile(visible, 0.95) * 1e3:.0f} ms   "
              f"({len(visible)}/{len(ids)} rows arrived)")  # fmt: skip
        print(f"triage engine per message  p50 {statistics.median(engine_ms or [0]):.0f} ms   "
              f"p95 {percentile(engine_ms, 0.95):.0f} ms")  # fmt: skip
        per_ticket = {role: 1000 * used / max(len(latencies), 1) for role, used in cpu_used.items()}
        total = sum(per_ticket.values())
        print(
            f"CPU per drafted ticket  {total:.0f} ms: "
            + ", ".join(f"{role} {ms:.0f}" for role, ms in per_ticket.items())
            + f"  (all cores busy: at most {1000 * len(os.sched_getaffinity(0)) / total:.1f}/s)"
        )
        print("worker processes (MB):")
        for pid, cmd, mem in sorted(worker_memory):
            print(
                f"  {pid:>7}  RSS {mem['rss']:>4}  PSS {mem['pss']:>4}  USS {mem['uss']:>4}  {cmd}"
            )
    finally:
        # The main processes stop their own children (a worker finishes its task first).
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        logs.close()
        connections.close_all()
        if setup != "q2":
            forget_redis(args.redis, env)


def signed_in_session(user) -> str:
    """A session that signs `user` in, as the sign-in page would make it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "supportdesk.roles.OneQueryPermissionsBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


class OpenInbox:
    """An agent's inbox page left open: one desk WebSocket, read on a thread of its own, noting
    when each new ticket's row arrives (the client clock, the one the POSTs are timed with)."""

    def __init__(self, port: int, session_key: str) -> None:
        from fanout import open_socket, read_rows  # bench/fanout.py's minimal RFC 6455 client

        self.arrivals: dict[int, float] = {}
        self.loop = asyncio.new_event_loop()
        opened = threading.Event()

        async def listen() -> None:
            sock = await open_socket(port, session_key)
            opened.set()
            self.task = asyncio.current_task()
            try:
                await read_rows(sock, self.arrivals)
            finally:
                sock[1].close()

        def run() -> None:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                self.loop.run_until_complete(listen())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        if not opened.wait(60):
            raise RuntimeError("the inbox socket did not open")
        time.sleep(1.0)  # the consumer joins its groups after accepting

    def stop(self) -> dict[int, float]:
        self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(10)
        return dict(self.arrivals)


def wait_drafted(ids: list[int], draft_model, ticket_model, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drafted = draft_model.objects.filter(ticket_id__in=ids).values("ticket_id").distinct()
        flagged = ticket_model.objects.filter(pk__in=ids, needs_manual_triage=True)
        if drafted.count() + flagged.exclude(drafts__isnull=False).count() >= len(ids):
            return True
        time.sleep(0.25)
    return False


def forget_redis(url: str, env: dict) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for pattern in (f"{env['CHANNELS_PREFIX']}*", f"{env['CELERY_QUEUE']}*"):
        keys = list(client.scan_iter(match=pattern, count=500))
        if keys:
            client.delete(*keys)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setups", default=",".join(SETUPS), help=f"Any of {', '.join(SETUPS)}.")
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=30)
    parser.add_argument("--rate", type=float, default=20.0, help="Tickets offered per second.")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent HTTP clients.")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--q2-workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="supportdesk_bench_pipeline")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--prefix", default="sdbench")
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-pipeline")
    parser.add_argument("--only", help=argparse.SUPPRESS)  # one setup, in this process
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.only:
        run_setup(args.only, args)
        return
    for setup in args.setups.split(","):
        if setup not in SETUPS:
            parser.error(f"unknown setup {setup!r}")
        # A process per setup: Django is configured once per process.
        subprocess.run([PYTHON, __file__, *sys.argv[1:], "--only", setup], check=False)  # noqa: S603


if __name__ == "__main__":
    main()
