"""SupportDesk against django-helpdesk, the best-known open-source Django help desk, on the same
tickets, page for page, through real HTTP servers.

Installs django-helpdesk from PyPI into a virtualenv of its own (under --workdir), writes a
minimal project for it (settings, urls) on a PostgreSQL database of its own, and seeds N tickets
into it and N into a SupportDesk database: the peer from ``bench/realistic.py``'s
``ticket_specs(N)`` (one follow-up per message, queues from the categories, one in ten tickets
assigned to the agent), SupportDesk with ``build(N)`` from ``bench/inbox_speed.py``. Then it
starts both as they run in production, SupportDesk under its daphne server
(``python -m supportdesk.server``), django-helpdesk under gunicorn (one sync worker), each one
process, signs in as a staff user in both (through the sign-in form) and times three pages,
alternating one request to each system (A, B, A, B…) so that both see the same machine load:

- the ticket list as an agent first sees it: SupportDesk's inbox; django-helpdesk's ticket list
  page plus the JSON request its table makes for the first 25 rows (the page itself holds no
  ticket), timed together as one sample;
- one ticket's page, for tickets spread over the whole set (the same spec index in both);
- the page signing in lands on: our inbox again, django-helpdesk's dashboard.

(django-helpdesk 2.6's ticket page no longer lists every ticket; its separate "add dependency"
page does, one <option> per open ticket. SupportDesk has no such page, so it is not timed.)

Prints the median and p95 milliseconds per page and system, the ratio of the medians (peer /
SupportDesk) and the server process's CPU milliseconds per page (from /proc; the database
server's CPU is not counted).

Everything is kept for the next run: the virtualenv, and each size's two databases
(``<prefix>_ours_<N>``, ``<prefix>_peer_<N>``), reused when they hold N tickets. ``--rebuild``
drops and seeds the databases again, ``--rebuild-venv`` reinstalls the peer.

    python bench/versus_helpdesk.py [--tickets 1000,100000] [--repeat 10]
        [--server postgres://postgres@127.0.0.1:5432/] [--prefix supportdesk_versus]
        [--workdir var/bench-helpdesk] [--rebuild] [--rebuild-venv]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from ports import free_port, wait_for_port  # bench/ports.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
PEER_PACKAGES = ["django-helpdesk", "psycopg[binary]", "gunicorn"]
PASSWORD = "bench-password"  # noqa: S105 (a throwaway bench account)
LIST_ROWS = 25  # django-helpdesk's default page length, and about what our inbox shows first

# The peer's project. Plain Django settings: what django-helpdesk's install documentation lists,
# with its teams mode off (it would need pinax-teams) and DEBUG off, as in production.
PEER_FILES = {
    "peer_settings.py": '''"""django-helpdesk as a project of its own, for the comparison bench."""
import os
from urllib.parse import urlparse

_db = urlparse(os.environ["PEER_DATABASE_URL"])
DEBUG = False
SECRET_KEY = "bench-only-" + "x" * 50
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "peer_urls"
WSGI_APPLICATION = "peer_wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": _db.port or 5432,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_ID = 1
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
LOGIN_URL = "/helpdesk/login/"
LOGIN_REDIRECT_URL = "/helpdesk/"
HELPDESK_TEAMS_MODE_ENABLED = False
''',
    "peer_urls.py": """from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("helpdesk/", include("helpdesk.urls", namespace="helpdesk")),
]
""",
    "peer_wsgi.py": """import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
""",
    "manage.py": """import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(sys.argv)
""",
    # Seeds the peer from bench/realistic.py (plain Python, imported by path). Prints the ids of
    # up to 200 tickets spread over the set, in spec order, as JSON.
    "peer_seed.py": """import json
import os
import sys
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
import django  # noqa: E402

django.setup()
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from helpdesk.models import FollowUp, Queue, Ticket  # noqa: E402

n, bench_dir = int(sys.argv[1]), sys.argv[2]  # and the agent's password
call_command("migrate", verbosity=0)
count = Ticket.objects.count()
if count and count != n:
    sys.exit(f"the peer database holds {count} tickets, not {n}: run with --rebuild")
if not count:
    sys.path.insert(0, bench_dir)
    from realistic import CATEGORIES, ticket_specs

    agent = User.objects.create_superuser("agent", "agent@example.com", sys.argv[3])
    queues = {
        slug: Queue.objects.create(title=name, slug=slug.replace("_", "-"))
        for slug, name in [*CATEGORIES.items(), ("general", "General")]
    }
    status = {"new": Ticket.OPEN_STATUS, "open": Ticket.OPEN_STATUS,
              "waiting": Ticket.OPEN_STATUS, "solved": Ticket.RESOLVED_STATUS}
    priority = {"high": 2, "medium": 3, "low": 4}
    # Creation times come from the specs, not from the clock.
    for model, field in [(Ticket, "created"), (Ticket, "modified"), (FollowUp, "date")]:
        model._meta.get_field(field).auto_now_add = False
        model._meta.get_field(field).auto_now = False
        model._meta.get_field(field).default = None
    now = timezone.now()
    specs = list(ticket_specs(n, 0))
    for start in range(0, n, 5000):
        chunk = specs[start : start + 5000]
        with transaction.atomic():
            tickets = Ticket.objects.bulk_create([
                Ticket(
                    title=s.subject[:200], queue=queues[s.category_slug or "general"],
                    created=now - timedelta(minutes=s.created_minutes_ago),
                    modified=now - timedelta(minutes=s.created_minutes_ago)
                    + timedelta(minutes=s.messages[-1].minutes_after),
                    submitter_email=s.customer_email, status=status[s.status],
                    description=s.messages[0].body, priority=priority[s.priority],
                    assigned_to=agent if s.index % 10 == 0 else None,
                )
                for s in chunk
            ], batch_size=5000)
            FollowUp.objects.bulk_create([
                FollowUp(
                    ticket=t, title="E-mail received from " + s.customer_email
                    if m.direction == "in" else "Reply", comment=m.body, public=True,
                    user=None if m.direction == "in" else agent,
                    date=t.created + timedelta(minutes=m.minutes_after),
                )
                for s, t in zip(chunk, tickets) for m in s.messages
            ], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
print(json.dumps(ids[:: max(1, n // 200)]))
""",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", default="1000,100000", help="sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per page")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--prefix", default="supportdesk_versus", help="database name prefix")
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench-helpdesk"))
    parser.add_argument("--rebuild", action="store_true", help="seed the databases again")
    parser.add_argument("--rebuild-venv", action="store_true", help="reinstall django-helpdesk")
    parser.add_argument("--seed-ours", type=int, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args()
    if args.seed_ours is not None:
        seed_ours(args.seed_ours)
        return

    workdir = Path(args.workdir).resolve()
    peer_python = ensure_peer(workdir, rebuild=args.rebuild_venv)
    version = subprocess.run(
        [peer_python, "-c", "import importlib.metadata as m; print(m.version('django-helpdesk'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    print(f"django-helpdesk {version} (PyPI) against SupportDesk; {os.cpu_count()} cores")
    for n in [int(size) for size in args.tickets.split(",") if size.strip()]:
        compare(n, args, workdir, peer_python)


def ensure_peer(workdir: Path, *, rebuild: bool) -> Path:
    """The peer's virtualenv (created and installed once) and its project files."""
    venv = workdir / "venv"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if rebuild or not marker.exists():
        print(f"installing django-helpdesk into {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True
        )  # fmt: skip
        marker.touch()
    project = workdir / "peer"
    project.mkdir(parents=True, exist_ok=True)
    for name, text in PEER_FILES.items():
        (project / name).write_text(text, encoding="utf-8")
    return python


def database(server: str, name: str, *, drop: bool) -> str:
    """Create database `name` on the server (dropped first with drop=True); its URL."""
    import psycopg

    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return server.rstrip("/") + "/" + name


def seed_ours(n: int) -> None:
    """In a process of its own (settings are read once): migrate, seed N tickets unless they are
    there, and print the ids of up to 200 tickets spread over the set."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "supportdesk.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bench.inbox_speed import build
    from supportdesk.models import Ticket

    call_command("migrate", verbosity=0)
    count = Ticket.objects.count()
    if count and count != n:
        sys.exit(f"our database holds {count} tickets, not {n}: run with --rebuild")
    if not count:
        build(n)
        # The agent build() makes, staff as in the peer.
        User.objects.filter(username="agent").update(is_staff=True)
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    print(json.dumps(ids[:: max(1, n // 200)]))


def compare(n: int, args: argparse.Namespace, workdir: Path, peer_python: Path) -> None:
    print(f"\n=== {n:,} tickets in each ===", flush=True)
    ours_url = database(args.server, f"{args.prefix}_ours_{n}", drop=args.rebuild)
    peer_url = database(args.server, f"{args.prefix}_peer_{n}", drop=args.rebuild)
    ours_var = workdir / f"ours-{n}"
    ours_env = {
        **os.environ,
        "DATABASE_URL": ours_url,
        "VAR_DIR": str(ours_var),
        "TASK_BACKEND": "sync",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("REDIS_URL", "SITE_URL", "SECRET_KEY", "ALLOWED_HOSTS"):
        ours_env.pop(name, None)
    peer_env = {**os.environ, "PEER_DATABASE_URL": peer_url}
    project = workdir / "peer"
    started = time.perf_counter()
    ours_ids = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--seed-ours", str(n)],
            env=ours_env, cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]
    )  # fmt: skip
    peer_ids = json.loads(
        subprocess.run(
            [peer_python, "peer_seed.py", str(n), str(ROOT / "bench"), PASSWORD],
            env=peer_env, cwd=project, check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]
    )  # fmt: skip
    print(f"seeded or reused both databases in {time.perf_counter() - started:.0f} s", flush=True)
    if "ticket_specs" not in (ROOT / "bench" / "inbox_speed.py").read_text(encoding="utf-8"):
        print(
            "note: bench/inbox_speed.py's build() seeds SupportDesk with texts of its own, not from"
            " ticket_specs(): the two systems hold similar, not identical, tickets"
        )
    pairs = list(zip(ours_ids, peer_ids, strict=False))

    ours_port, peer_port = free_port(), free_port()
    log = (workdir / f"servers-{n}.log").open("w")
    ours = subprocess.Popen(
        [sys.executable, "-m", "supportdesk.server", "-b", "127.0.0.1", "-p", str(ours_port),
         "supportdesk.asgi:application"],
        env=ours_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    peer = subprocess.Popen(
        [peer_python.parent / "gunicorn", "peer_wsgi:application", "-b",
         f"127.0.0.1:{peer_port}", "-w", "1", "--timeout", "600"],
        env=peer_env, cwd=project, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(ours_port)
        wait_for_port(peer_port)
        a = Site("SupportDesk", ours_port, ours.pid)
        b = Site("django-helpdesk", peer_port, peer.pid)
        a.sign_in("/login/", "/inbox/")
        b.sign_in("/helpdesk/login/", "/helpdesk/tickets/")
        timings = run_pages(a, b, pairs, args.repeat)
    finally:
        for process in (ours, peer):
            process.terminate()
            process.wait(timeout=20)
        log.close()
    report(timings)


class Site:
    """One system behind its HTTP server: cookies, a staff session and CPU accounting."""

    def __init__(self, name: str, port: int, pid: int) -> None:
        self.name, self.port, self.pid = name, port, pid
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str = "", headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        sent = {
            "Host": "127.0.0.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        sent.update(headers or {})
        connection.request(method, path, body=body.encode(), headers=sent)
        response = connection.getresponse()
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";")[0]
        connection.close()
        return (
            response.status,
            response.getheader("Location", ""),
            content.decode("utf-8", "replace"),
        )

    def get(self, path: str, headers: dict | None = None) -> str:
        status, location, content = self.request("GET", path, headers=headers)
        if status != 200:
            raise RuntimeError(f"{self.name}: GET {path} answered {status} {location}")
        return content

    def sign_in(self, login: str, landing: str) -> None:
        page = self.get(login)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": "agent", "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        status, location, _ = self.request(
            "POST", login, form,
            {"Content-Type": "application/x-www-form-urlencoded",
             "Referer": f"http://127.0.0.1:{self.port}{login}"},
        )  # fmt: skip
        if status != 302:
            raise RuntimeError(f"{self.name}: signing in answered {status}")
        self.get(landing)  # raises unless the staff session works

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its children (gunicorn's worker)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.pid, *children(self.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def run_pages(a: Site, b: Site, pairs: list[tuple[int, int]], repeat: int) -> dict:
    """Alternate one request to each system per sample; (median, p95, CPU) per page and system."""
    table = b.get("/helpdesk/tickets/")
    data_path = re.search(r'"(/helpdesk/datatables_ticket_list/[^"]+)"', table).group(1)
    data_path += f"?draw=1&start=0&length={LIST_ROWS}"

    def peer_list() -> None:
        b.get("/helpdesk/tickets/")
        rows = json.loads(b.get(data_path, {"X-Requested-With": "XMLHttpRequest"}))
        assert rows["data"], "the peer's list came back empty"

    pages = {
        "ticket list, first page": (lambda i: a.get("/inbox/"), lambda i: peer_list()),
        "ticket page": (
            lambda i: a.get(f"/tickets/{pairs[i % len(pairs)][0]}/"),
            lambda i: b.get(f"/helpdesk/tickets/{pairs[i % len(pairs)][1]}/"),
        ),
        # Where signing in lands: our inbox again; the peer's dashboard (the agent's own
        # tickets, unassigned tickets and counts per queue).
        "landing after sign-in": (
            lambda i: a.get("/inbox/"),
            lambda i: b.get("/helpdesk/dashboard/"),
        ),
    }
    results: dict = {}
    for label, (ours, peer) in pages.items():
        ours(0), peer(0)  # warm both
        samples: dict[str, list[float]] = {a.name: [], b.name: []}
        cpu = {a.name: 0.0, b.name: 0.0}
        step = max(1, len(pairs) // max(1, repeat))
        for r in range(repeat):
            for site, fetch in ((a, ours), (b, peer)):
                before = site.cpu_seconds()
                started = time.perf_counter()
                fetch(1 + r * step)
                samples[site.name].append((time.perf_counter() - started) * 1000)
                cpu[site.name] += site.cpu_seconds() - before
        results[label] = {
            name: (statistics.median(ms), percentile(ms, 95), cpu[name] * 1000 / repeat)
            for name, ms in samples.items()
        }
        print(f"  {label}: done", flush=True)
    return results


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(results: dict) -> None:
    print(f"{'page':26} {'system':16} {'median ms':>10} {'p95 ms':>9} {'CPU ms':>7} {'ratio':>8}")
    for label, systems in results.items():
        (ours_name, ours), (peer_name, peer) = systems.items()
        print(f"{label:26} {ours_name:16} {ours[0]:10.1f} {ours[1]:9.1f} {ours[2]:7.0f}")
        ratio = peer[0] / ours[0]
        print(f"{'':26} {peer_name:16} {peer[0]:10.1f} {peer[1]:9.1f} {peer[2]:7.0f} {ratio:7.1f}×")


if __name__ == "__main__":
    main()
