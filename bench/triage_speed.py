"""One customer e-mail triaged in process, as a worker triages it: p50/p95 per message.

    .venv/bin/python bench/triage_speed.py [--threads 1,2]

Builds a throwaway installation (SQLite, the demo company, the shipped models: `train_models
--if-missing` installs them in seconds) and times the active triage engine on the 208
first-pass tickets as customers send them from a mail client (a sign-off and the team's earlier
reply quoted, about 670 characters; `bench/pipeline.py`'s `email_tickets`). Each thread count
runs in a fresh process, because the encoder reads `OMP_NUM_THREADS` when it loads: 1 is what
each worker process runs (`WORKER_THREADS`), and the whole machine for one message is the
number of cores. Every e-mail is timed once: a second pass would find its vector already
computed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline import email_tickets  # bench/pipeline.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure() -> None:
    import django

    django.setup()
    from triage.engine import TriageInput
    from triage.registry import get_triage_engine

    engine = get_triage_engine()
    engine.warm_up()
    engine.analyse(TriageInput(text="Hello, a first message loads the encoder.", subject="Hi"))
    mails = email_tickets(208)
    timings = []
    for mail in mails:
        started = time.perf_counter()
        engine.analyse(TriageInput(text=mail["email_body"], subject=mail["subject"]))
        timings.append(1000 * (time.perf_counter() - started))
    cuts = statistics.quantiles(timings, n=20)
    chars = statistics.median(len(m["email_body"]) for m in mails)
    print(
        f"encoder threads {os.environ['OMP_NUM_THREADS']}: {len(timings)} e-mails of ~{chars:.0f} "
        f"characters: p50 {statistics.median(timings):.1f} ms  p95 {cuts[18]:.1f} ms  "
        f"max {max(timings):.1f} ms  (goal: p95 ≤ 50 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default=f"1,{len(os.sched_getaffinity(0))}")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure()
        return
    with tempfile.TemporaryDirectory(prefix="supportdesk-triage-speed-") as workdir:
        env = {
            **os.environ,
            "VAR_DIR": workdir,
            "DATABASE_URL": f"sqlite:///{workdir}/supportdesk.sqlite3",
            "TASK_BACKEND": "sync",
            "DJANGO_SETTINGS_MODULE": "supportdesk.settings",
        }
        env.pop("REDIS_URL", None)
        manage = [sys.executable, str(ROOT / "manage.py")]
        for step in (["migrate_all"], ["load_demo"], ["train_models", "--if-missing"]):
            subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
        print(f"cores: {len(os.sched_getaffinity(0))}  load: {os.getloadavg()[0]:.2f}")
        for threads in args.threads.split(","):
            subprocess.run(  # noqa: S603
                [sys.executable, __file__, "--measure"],
                cwd=ROOT,
                env={**env, "OMP_NUM_THREADS": threads},
                check=True,
            )


if __name__ == "__main__":
    main()
