"""The metrics page at scale: seed a desk with a year of realistic history, precompute its
figures with the real sweep, and time the page.

Builds a throwaway installation with N tickets (default 100,000) spread over 52 weeks, in eight
languages, four channels, twelve categories and ten agents: about a fifth answered
automatically (some taken over by a person), the rest answered by agents who sent drafts as
written, edited them (with reasons and edit distances) or wrote their own; triage corrections,
customer ratings, satisfaction estimates for solved tickets, follow-ups after a solve, SLA
breaches, and tickets still open. The figures
are computed by `feedback.metrics.metrics_sweep`, as the worker does every minute (its speed is
printed too), then the metrics page, its breakdowns, its click-through lists and its CSV are
timed through Django's test client (the whole middleware, view, query and template stack),
both as the first view after the figures changed (the computed report is not stored yet) and
as a repeated view. Prints median and p95 in milliseconds and the query count per page.

    python bench/metrics_speed.py [--tickets 100000] [--repeat 30] [--database-url postgres://…]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LANGUAGES = ["en"] * 5 + ["es"] * 2 + ["ja", "zh-hant", "de", "fr", "pt", "it"]
CHANNELS = ["email"] * 5 + ["web"] * 3 + ["api", "zendesk"]
REASONS = ["wrong_facts", "tone", "tone", "language", "missing_step", "missing_step", "policy"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="supportdesk-bench-")
    os.environ.setdefault("TASK_BACKEND", "sync")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "supportdesk.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from feedback.models import TicketMetrics
    from supportdesk.models import Ticket

    if Ticket.objects.count() == args.tickets and args.database_url:
        print(f"reusing the {args.tickets:,} tickets already in that database")
    else:
        build(args.tickets)
    if TicketMetrics.objects.count() != args.tickets:
        sweep()
    measure(args.repeat)


def _lognormal_seconds(rng: random.Random, median_minutes: float, spread: float = 1.0) -> float:
    return 60 * median_minutes * rng.lognormvariate(0, spread)


def build(n: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.utils import timezone

    from feedback.models import FeedbackEvent, Outcome, Rating, SatisfactionEstimate
    from replies.models import Draft
    from supportdesk.models import Category, Customer, Message, Ticket
    from triage.models import TriageResult

    started = time.perf_counter()
    rng = random.Random(11)
    agents = []
    for i in range(10):
        user = User.objects.create_user(f"agent{i}", password="bench-password")
        user.groups.add(Group.objects.get(name="agent"))
        agents.append(user)
    supervisor = User.objects.create_user("supervisor", password="bench-password")
    supervisor.groups.add(Group.objects.get(name="supervisor"))
    robot = User.objects.create_user("auto-reply", is_active=False)
    categories = [
        Category.objects.create(slug=f"cat{i}", name=f"Category {i}", routine=i % 2 == 0)
        for i in range(12)
    ]
    emotions = ["neutral"] * 5 + ["anxious", "angry", "confused", "sad", "positive"]
    now = timezone.now()
    batch = 2000
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            [Customer(email=f"c{i}@example.com", name=f"Customer {i}") for i in range(n // 4)],
            batch_size=5000,
        )
    for start in range(0, n, batch):
        size = min(n, start + batch) - start
        with transaction.atomic():
            plans = [_plan(rng, now) for _ in range(size)]
            tickets = Ticket.objects.bulk_create(
                [
                    Ticket(
                        customer=rng.choice(customers),
                        subject=f"Question {start + i} about my order",
                        status=p["status"],
                        channel=rng.choice(CHANNELS),
                        language=rng.choice(LANGUAGES),
                        urgency=rng.choice([0, 1, 1, 2, 2, 2]),
                        category=rng.choice(categories),
                        emotion=rng.choice(emotions),
                        assignee=None
                        if p["automated"] and not p["takeover"]
                        else rng.choice(agents),
                        created_at=p["created"],
                        solved_at=p["solved_at"],
                        first_response_due_at=p["created"] + timedelta(hours=8)
                        if p["sla"]
                        else None,
                        sla_state="breached" if p["breached"] else ("ok" if p["sla"] else ""),
                    )  # fmt: skip
                    for i, p in enumerate(plans)
                ],
                batch_size=batch,
            )
            inbound = Message.objects.bulk_create(
                [
                    Message(
                        ticket=t,
                        direction="in",
                        body_text="Where is my order?",
                        created_at=p["created"],
                    )  # fmt: skip
                    for t, p in zip(tickets, plans, strict=True)
                ],
                batch_size=batch,
            )
            replies = []
            for t, p in zip(tickets, plans, strict=True):
                if p["first_reply"] is not None:
                    replies.append(Message(
                        ticket=t, direction="out", body_text="It is on its way.",
                        automatic=p["automated"], author_user=robot if p["automated"]
                        else t.assignee, delivery_status="sent", created_at=p["first_reply"],
                        sent_at=p["first_reply"],
                    ))  # fmt: skip
                if p["takeover"]:
                    replies.append(Message(
                        ticket=t, direction="out", body_text="Let me look at this myself.",
                        author_user=t.assignee, delivery_status="sent",
                        created_at=p["first_reply"] + timedelta(minutes=30),
                    ))  # fmt: skip
            replies = Message.objects.bulk_create(replies, batch_size=batch)
            first_reply = {}
            for m in replies:
                first_reply.setdefault(m.ticket_id, m)
            results = TriageResult.objects.bulk_create(
                [
                    TriageResult(
                        ticket=t,
                        message=m,
                        language=t.language,
                        language_confidence=0.9,
                        category=t.category.slug,
                        category_confidence=0.8,
                        emotion=t.emotion,
                        emotion_confidence=0.7,
                        urgency="medium",
                        engine="local",
                        engine_version="1",
                        latency_ms=40,
                        created_at=p["created"],
                    )  # fmt: skip
                    for t, m, p in zip(tickets, inbound, plans, strict=True)
                ],
                batch_size=batch,
            )
            drafts = Draft.objects.bulk_create(
                [
                    Draft(
                        ticket=t,
                        in_reply_to=m,
                        text="It is on its way.",
                        language=t.language,
                        engine="local",
                        engine_version="1",
                        grounded=not p["gap"],
                        status="sent"
                        if p["draft"] in ("accepted", "edited", "auto")
                        else ("superseded" if p["draft"] == "rejected" else "proposed"),
                        created_at=p["created"],
                    )  # fmt: skip
                    for t, m, p in zip(tickets, inbound, plans, strict=True)
                ],
                batch_size=batch,
            )
            outcomes, events, ratings, estimates = [], [], [], []
            for t, p, r, d in zip(tickets, plans, results, drafts, strict=True):
                draft_verdict = {"auto": "overridden" if p["takeover"] else "accepted"}.get(
                    p["draft"], p["draft"]
                )
                edited = p["draft"] == "edited"
                outcomes.append(Outcome(
                    decision="auto_send" if p["draft"] == "auto" else "draft", ticket=t,
                    draft=d, verdict=draft_verdict, kb_gap=p["gap"],
                    reason=rng.choice(REASONS) if edited else "",
                    edit_distance=round(rng.lognormvariate(4, 0.9)) if edited else None,
                    actor=t.assignee, created_at=p["created"],
                ))  # fmt: skip
                judged = p["draft"] in ("accepted", "edited", "rejected")
                corrected = judged and rng.random() < 0.1
                outcomes.append(Outcome(
                    decision="triage", ticket=t, triage=r,
                    verdict="overridden" if corrected else ("accepted" if judged else "pending"),
                    changed=[rng.choice(["category", "emotion", "emotion"])] if corrected else [],
                    created_at=p["created"],
                ))  # fmt: skip
                reply = first_reply.get(t.pk)
                if p["takeover"]:
                    events.append(FeedbackEvent(
                        kind="takeover", ticket=t, draft=d, actor=t.assignee,
                        created_at=p["first_reply"] + timedelta(minutes=30),
                    ))  # fmt: skip
                if p["follow_up"]:
                    events.append(FeedbackEvent(
                        kind="follow_up", ticket=t, draft=d, created_at=p["solved_at"],
                    ))  # fmt: skip
                bad = 0.35 if p["draft"] in ("rejected",) or p["takeover"] else 0.12
                if p["solved_at"] is not None:  # the estimate made when it was solved
                    guess = rng.choices(["good", "okay", "bad"], [0.72 - bad, 0.28, bad])[0]
                    estimates.append(SatisfactionEstimate(
                        ticket=t, score=guess, probability=0.5, engine="local",
                        created_at=p["solved_at"], updated_at=p["solved_at"],
                    ))  # fmt: skip
                if reply is not None and rng.random() < 0.2:
                    score = rng.choices(["good", "okay", "bad"], [0.7 - bad, 0.3, bad])[0]
                    ratings.append(Rating(
                        message=reply, ticket=t, draft=d, score=score,
                        created_at=p["first_reply"] + timedelta(hours=2),
                    ))  # fmt: skip
            Outcome.objects.bulk_create(outcomes, batch_size=batch)
            FeedbackEvent.objects.bulk_create(events, batch_size=batch)
            Rating.objects.bulk_create(ratings, batch_size=batch)
            SatisfactionEstimate.objects.bulk_create(estimates, batch_size=batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built {n:,} tickets in {time.perf_counter() - started:.0f} s ({connection.vendor})")


def _plan(rng: random.Random, now) -> dict:
    """One ticket's story: when it came, how it was answered, judged, rated and solved."""
    created = now - timedelta(seconds=rng.uniform(0, 364 * 86400))
    age_days = (now - created).total_seconds() / 86400
    automated = rng.random() < 0.2
    takeover = automated and rng.random() < 0.12
    answered = automated or rng.random() < (0.97 if age_days > 3 else 0.6)
    draft = "auto" if automated else (
        rng.choices(["accepted", "edited", "rejected"], [0.55, 0.33, 0.12])[0]
        if answered else "pending"
    )  # fmt: skip
    first_reply = (
        created + timedelta(seconds=60 if automated else _lognormal_seconds(rng, 90, 1.1))
        if answered else None
    )  # fmt: skip
    solved = answered and rng.random() < (0.9 if age_days > 7 else 0.4)
    solved_at = first_reply + timedelta(seconds=_lognormal_seconds(rng, 600)) if solved else None
    if solved_at is not None and solved_at > now:
        solved, solved_at = False, None
    sla = rng.random() < 0.8
    return {
        "created": created,
        "automated": automated,
        "takeover": takeover,
        "draft": draft,
        "first_reply": first_reply,
        "status": "solved" if solved else rng.choice(["open", "open", "waiting"]),
        "solved_at": solved_at,
        "sla": sla,
        "breached": sla and rng.random() < 0.08,
        "follow_up": solved and rng.random() < 0.05,
        "gap": rng.random() < 0.07,
    }


def sweep() -> None:
    from feedback.metrics import SWEEP_LIMIT, metrics_sweep
    from feedback.models import TicketMetrics
    from supportdesk.models import Ticket

    started = time.perf_counter()
    total = Ticket.objects.count()
    while TicketMetrics.objects.count() < total:
        metrics_sweep(limit=SWEEP_LIMIT)
    seconds = time.perf_counter() - started
    rate = total / seconds
    print(f"precomputed {total:,} tickets' figures and their weekly rollups in {seconds:.0f} s")
    print(f"  ({rate:,.0f} tickets/s: what the sweep does once at install or after an import)")


def measure(repeat: int) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    client = Client()
    client.force_login(User.objects.get(username="supervisor"))
    agent = User.objects.get(username="agent3")
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() + 21)
    cases = {
        "metrics, last 12 weeks (default)": "/metrics/",
        "metrics, last 52 weeks": "/metrics/?weeks=52",
        "metrics, 52 weeks by agent": "/metrics/?weeks=52&by=agent",
        "metrics, 12 weeks, language=ja": "/metrics/?language=ja",
        "metrics, 26 weeks, one agent": f"/metrics/?weeks=26&agent={agent.pk}&by=language",
        "tickets behind: edited, 52 weeks": "/metrics/tickets/?weeks=52&measure=edited",
        "tickets behind: one week, takeovers": (
            f"/metrics/tickets/?weeks=12&week={monday.isoformat()}&measure=takeovers"
        ),
        "tickets behind: page 40 of rated bad": (
            "/metrics/tickets/?weeks=52&measure=csat_bad&page=40"
        ),
        "CSV download, 52 weeks": "/metrics/download.csv?weeks=52",
    }
    from django.core.cache import cache

    def timed(url: str, *, cold: bool) -> list[float]:
        timings = []
        for _ in range(repeat):
            if cold:
                cache.clear()  # as on the first view after the figures changed
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        return timings

    print("First view after the sweep changed the figures (cold), and a repeated view (warm):")
    print(f"{'page':40} {'cold median':>11} {'cold p95':>9} {'warm median':>11} {'warm p95':>9}"
          f" {'queries':>8}")  # fmt: skip
    for label, url in cases.items():
        client.get(url)  # warm the process
        cold, warm = timed(url, cold=True), timed(url, cold=False)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        p95 = [statistics.quantiles(t, n=20)[-1] for t in (cold, warm)]
        print(f"{label:40} {statistics.median(cold):11.1f} {p95[0]:9.1f}"
              f" {statistics.median(warm):11.1f} {p95[1]:9.1f} {len(queries):8d}")  # fmt: skip


if __name__ == "__main__":
    main()
