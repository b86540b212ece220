"""What one worker process holds in memory, step by step, as a worker loads it.

    .venv/bin/python bench/worker_memory.py                  # the installation in the environment
    .venv/bin/python bench/worker_memory.py --tickets 40     # and after triaging 40 messages

Run it with the environment of an installation whose models are trained (DATABASE_URL,
MODELS_DIR, VAR_DIR, SECRET_KEY …, as `manage.py worker` would see them). It does what a
worker's parent does before it forks (`supportdesk.workers.worker_prepare` with one thread:
`triage.registry.preload_models`, then the allocator's free pages released), one step at a
time, and prints the process's RSS, PSS and USS (MB) after each step and what it added to RSS.
With --tickets it then triages that many of the first-pass bench's realistic tickets and asks
the answer model about them, as a worker does after the fork, and prints the memory again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICKETS = ROOT / "bench" / "data" / "first_pass_tickets.jsonl"


def memory() -> dict[str, int]:
    """RSS, PSS and USS of this process, in MB."""
    fields: dict[str, int] = {}
    with open("/proc/self/smaps_rollup", encoding="ascii") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"rss": fields["Rss"] / 1024, "pss": fields["Pss"] / 1024, "uss": uss / 1024}


class Steps:
    def __init__(self) -> None:
        self.last = memory()["rss"]
        print(f"{'step':<44} {'RSS':>6} {'+RSS':>6} {'PSS':>6} {'USS':>6} {'s':>5}")
        self.show("python", 0.0)

    def show(self, name: str, seconds: float) -> None:
        now = memory()
        added = now["rss"] - self.last
        self.last = now["rss"]
        print(
            f"{name:<44} {now['rss']:>6.0f} {added:>+6.0f} {now['pss']:>6.0f} "
            f"{now['uss']:>6.0f} {seconds:>5.1f}"
        )

    def run(self, name: str, step):
        started = time.perf_counter()
        result = step()
        self.show(name, time.perf_counter() - started)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=0, help="Then triage this many messages.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")
    os.environ["OMP_NUM_THREADS"] = "1"
    steps = Steps()

    def django_setup():
        import django

        django.setup()

    steps.run("django.setup()", django_setup)
    steps.run("import numpy", lambda: __import__("numpy"))
    steps.run("import scipy.sparse", lambda: __import__("scipy.sparse"))
    steps.run("import sklearn", lambda: __import__("sklearn"))
    steps.run("import supportdesk.language (lingua)", lambda: __import__("supportdesk.language"))
    steps.run("import triage.engine", lambda: __import__("triage.engine"))
    from triage import registry

    engine = steps.run("triage engine (category, emotion models)", registry.get_triage_engine)
    steps.run("language detection warmed up", engine.warm_up)
    steps.run("answer model", registry.get_answer_model)
    from knowledge.selectors import kb_index

    index = steps.run("knowledge-base index", kb_index)
    from triage.answers import meaning_closeness

    steps.run(
        "encoder + passages embedded",
        lambda: meaning_closeness("", index.passage_texts()),
    )
    from supportdesk.workers import release_free_memory

    steps.run("free heap pages released (as before a fork)", release_free_memory)
    if args.tickets:
        from triage.answers import answer_predict
        from triage.engine.types import CustomerContext, TriageInput

        rows = [json.loads(line) for line in TICKETS.open(encoding="utf-8") if line.strip()]

        def triage_and_answer():
            for row in (rows * (args.tickets // len(rows) + 1))[: args.tickets]:
                inp = TriageInput(
                    text=row["body"],
                    subject=row["subject"],
                    customer=CustomerContext(locale=row["customer"]["locale"]),
                )
                engine.analyse(inp)
                answer_predict(f"{row['subject']}\n{row['body']}")

        steps.run(f"{args.tickets} messages triaged and answered", triage_and_answer)


if __name__ == "__main__":
    main()
