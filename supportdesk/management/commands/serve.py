"""Run the web server (daphne: HTTP + WebSockets), the background worker and the
sweepers (`manage.py sweep`) together.

Ctrl-C (or SIGTERM) stops both; if either exits, the other is stopped too.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

WEBSOCKET_CONNECT_TIMEOUT = 30  # seconds


class Command(BaseCommand):
    help = "Serve SupportDesk: web server and worker in one command."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Web server only.")

    def handle(self, *args, host: str, port: int, no_worker: bool, **options):
        python = sys.executable
        # Every open desk page reconnects at once when the server restarts; daphne's 5 s limit
        # on a WebSocket handshake would refuse them all together when a few hundred queue up
        # for the same CPU, and they would all retry together again.
        web = [python, "-m", "supportdesk.server", "-b", host, "-p", str(port),
               "--websocket_connect_timeout", str(WEBSOCKET_CONNECT_TIMEOUT),
               "supportdesk.asgi:application"]  # fmt: skip
        if settings.TASK_BACKEND == "celery":
            worker = [python, "-m", "celery", "-A", "supportdesk", "worker", "-l", "WARNING",
                      "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
                      "--concurrency", str(settings.WORKER_PROCESSES)]  # fmt: skip
            from supportdesk.celery import app

            if app.conf.beat_schedule:
                # Embedded beat for the periodic tasks (SLA check, IMAP poll); run one `celery beat`
                # of its own when scaling to several workers.
                worker += ["-B", "-s", str(settings.VAR_DIR / "celerybeat-schedule")]
        else:
            worker = [python, "manage.py", "worker"]
        sweeper = [python, "manage.py", "sweep", "--every", "60"]
        commands = [web] if no_worker or settings.TASK_BACKEND == "sync" else [web, worker, sweeper]
        what = "the web server" if len(commands) == 1 else "the web server and the worker"
        self.stdout.write(f"Starting {what}…")
        processes = [subprocess.Popen(cmd) for cmd in commands]  # noqa: S603 (our own argv)

        def stop(*_: object) -> None:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 10
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

        signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
        try:
            # Said once a browser can connect (the server takes a few seconds to load).
            while all(p.poll() is None for p in processes):
                if _accepts(host, port):
                    self.stdout.write(
                        f"SupportDesk is running on http://{host}:{port}/  (Ctrl-C stops it)"
                    )
                    break
                time.sleep(0.2)
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()


def _accepts(host: str, port: int) -> bool:
    """Whether something accepts connections on host:port (loopback for a wildcard host)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    try:
        with socket.create_connection((target, port), timeout=1):
            return True
    except OSError:
        return False
