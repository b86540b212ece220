"""Inbox, ticket, supervisor and metrics pages' response times at scale.

Builds a throwaway installation with N tickets (default 100,000) from bench/realistic.py's
specs: what customers wrote in eight languages (bench/data/first_pass_tickets.jsonl),
conversations of 1 to 8 messages of mixed lengths whose e-mail replies quote the previous one
("On … wrote:" and "> " lines, kept apart in ``body_quoted``), triage results, routing
decisions naming a rule, drafts with the agent's decision (approved, or edited with a reason),
people overruling some routes, escalations (open and acknowledged), customer ratings, SLA
targets that are due, breached or met, mostly open tickets over 90 days; then the metrics
sweep's figures. Times, through Django's test client (the whole middleware, view, selector and
template stack): the inbox (first page, filtered, deep keyset page), ticket pages, the REST
API's lists, inbox searches, and as a supervisor the ticket page of an escalated ticket, the
escalations, the routing rules report, the threshold suggestions (the suggestions its periodic
tasks store, computed once before timing) and the metrics pages. Prints median and p95 in
milliseconds and the query count per page.

    python bench/inbox_speed.py [--tickets 100000] [--repeat 30] [--database-url postgres://…]
    python bench/inbox_speed.py --compare 1000,100000 --database-url postgres://…/bench

``--compare`` runs each size in its own database (the URL's name with ``_<size>`` appended,
created when missing, reused with its tickets on a rerun) and prints each page's median per
size and the ratio of the largest size to the smallest: a flat page stays near 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--compare",
        default="",
        help="two or more sizes, e.g. 1000,100000: each in its own database (the URL's name "
        "with _<size> appended, created when missing), then the ratio per page",
    )
    parser.add_argument("--json", default="", help=argparse.SUPPRESS)  # --compare's channel
    args = parser.parse_args()
    if args.compare:
        compare([int(size) for size in args.compare.split(",")], args)
        return

    workdir = tempfile.mkdtemp(prefix="supportdesk-bench-")
    os.environ["VAR_DIR"] = workdir
    os.environ.setdefault("TASK_BACKEND", "sync")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "supportdesk.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from supportdesk.models import Ticket

    if Ticket.objects.count() == args.tickets and args.database_url:
        print(f"reusing the {args.tickets:,} tickets already in that database")
    else:
        build(args.tickets)
    figures = measure(args.repeat, args.tickets)
    if args.json:
        Path(args.json).write_text(json.dumps(figures), encoding="utf-8")


def compare(sizes: list[int], args) -> None:
    """Run the bench once per size, each in a fresh process and database, and print each
    page's median at every size and the ratio of the largest to the smallest."""
    import subprocess

    results = {}
    for size in sizes:
        command = [sys.executable, __file__, "--tickets", str(size), "--repeat", str(args.repeat)]
        if args.database_url:
            url = f"{args.database_url.rstrip('/')}_{size}"
            _create_database(url)
            command += ["--database-url", url]
        out = Path(tempfile.mkdtemp(prefix="supportdesk-bench-")) / "figures.json"
        print(f"--- {size:,} tickets ---", flush=True)
        subprocess.run([*command, "--json", str(out)], check=True)
        results[size] = json.loads(out.read_text(encoding="utf-8"))
    small, large = min(sizes), max(sizes)
    # On a shared machine the sizes run at different moments under different load: the
    # fastest of the repeats is what the page costs when nothing else runs, so its ratio is
    # the steadier one; the medians' ratio is shown beside it.
    print(f"\nfastest and median ms per size; ratios {large:,} / {small:,} tickets")
    header = " ".join(f"{f'best {size:,}':>12} {f'median {size:,}':>14}" for size in sizes)
    print(f"{'page':40} {header} {'best ×':>7} {'median ×':>9} {'queries':>9}")
    for label in results[small]:
        rows = [results[size][label] for size in sizes]
        queries = "/".join(str(row[2]) for row in rows)
        cells = " ".join(f"{row[3]:12.1f} {row[0]:14.1f}" for row in rows)
        best = rows[-1][3] / rows[0][3]
        median = rows[-1][0] / rows[0][0]
        print(f"{label:40} {cells} {best:7.2f} {median:9.2f} {queries:>9}")


def _create_database(url: str) -> None:
    """CREATE DATABASE for a postgres:// URL unless it exists (a rerun reuses its tickets)."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')


URGENCY = {"high": 0, "medium": 1, "low": 2}
SLA_STATE = {"due": "ok", "breached": "breached", "met": "ok"}
# Routing rules the decisions name, and how often people overrule a routed ticket.
RULES = [
    "VIP, angry or urgent: alert a supervisor",
    "Routine and sure: one-click",
    "Low confidence",
]
OVERRIDE_SHARE = 0.06


def build(n: int, specs=None) -> None:
    """Seed `n` tickets from bench/realistic.py's specs (or the given ones) with bulk inserts:
    customers, conversations (quoted e-mail replies in ``body_quoted``), triage results, routing
    decisions naming a rule, drafts and the agent's decision on each (approved or edited, with
    the reason), people overruling some routes, escalations (open or acknowledged), customer
    ratings, SLA targets (due, breached, met); then the metrics sweep's figures."""
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.utils import timezone
    from realistic import split_quoted, ticket_specs

    from feedback.models import FeedbackEvent, Rating
    from replies.models import Draft
    from supportdesk.models import Category, Customer, Message, Ticket
    from supportdesk.search import search_document
    from triage.models import Escalation, RoutingDecision, RoutingRule, TriageResult

    started = time.perf_counter()
    rng = random.Random(7)
    specs = specs if specs is not None else ticket_specs(n, seed=0)
    agent = User.objects.create_user("agent", password="bench-password")
    agent.groups.add(Group.objects.get(name="agent"))
    supervisor = User.objects.create_user("supervisor", password="bench-password")
    supervisor.groups.add(Group.objects.get(name="supervisor"))
    agents = [agent]
    for name in ["sam", "noor", "kenji", "lucia", "elena"]:
        person = User.objects.create_user(name, password="bench-password")
        person.groups.add(Group.objects.get(name="agent"))
        agents.append(person)
    from realistic import CATEGORIES

    categories = {
        slug: Category.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in CATEGORIES.items()
    }
    rules = [
        RoutingRule.objects.create(name=name, position=10 * (i + 1)) for i, name in enumerate(RULES)
    ]
    now = timezone.now()
    batch = 2000
    customers: dict[str, Customer] = {}
    chunk: list = []

    def flush(chunk) -> None:
        names = {s.customer_email: s.customer_name for s in chunk}
        fresh = names.keys() - customers.keys()
        Customer.objects.bulk_create(
            [Customer(email=email, name=names[email]) for email in fresh], batch_size=batch
        )
        customers.update(Customer.objects.filter(email__in=fresh).in_bulk(field_name="email"))
        at = [now - timedelta(minutes=s.created_minutes_ago) for s in chunk]
        assignees = [None if s.status == "new" else rng.choice(agents) for s in chunk]
        tickets = Ticket.objects.bulk_create(
            [
                Ticket(
                    customer=customers[s.customer_email],
                    subject=s.subject[:250],
                    search_document=search_document(
                        [s.subject, s.customer_name, s.customer_email, s.messages[0].body]
                    ),
                    status=s.status,
                    channel=s.channel,
                    language=s.language,
                    urgency=3 if s.status == "new" else URGENCY[s.priority],
                    category=categories.get(s.category_slug),
                    emotion=s.emotion,
                    needs_human=s.escalation is not None,
                    is_escalated=s.escalation is not None,
                    assignee=who,
                    sla_state="" if s.status == "solved" else SLA_STATE[s.sla],
                    sla_due_at=created + timedelta(minutes=s.sla_due_minutes_after),
                    first_response_due_at=created + timedelta(minutes=s.sla_due_minutes_after),
                    solved_at=(
                        created + timedelta(minutes=s.solved_minutes_after)
                        if s.solved_minutes_after is not None
                        else None
                    ),
                    created_at=created,
                )
                for s, created, who in zip(chunk, at, assignees, strict=True)
            ]
        )
        rows = []
        for s, t, created, who in zip(chunk, tickets, at, assignees, strict=True):
            for m in s.messages:
                text, quoted = split_quoted(m.body)
                rows.append(
                    Message(
                        ticket=t,
                        direction=m.direction,
                        body_text=text,
                        body_quoted=quoted,
                        author_user=who if m.direction == "out" else None,
                        created_at=created + timedelta(minutes=m.minutes_after),
                    )
                )
        messages = Message.objects.bulk_create(rows)
        by_ticket: dict[int, list[Message]] = {}
        for m in messages:
            by_ticket.setdefault(m.ticket_id, []).append(m)
        triaged = [
            row for row in zip(chunk, tickets, at, assignees, strict=True) if row[0].status != "new"
        ]
        results = TriageResult.objects.bulk_create(
            [
                TriageResult(
                    ticket=t,
                    message=by_ticket[t.pk][0],
                    language=s.language,
                    language_confidence=0.95,
                    category=s.category_slug or "",
                    category_confidence=round(rng.uniform(0.4, 0.99), 2),
                    emotion=s.emotion,
                    emotion_confidence=round(rng.uniform(0.4, 0.99), 2),
                    urgency=s.priority,
                    engine="local",
                    engine_version="1",
                    latency_ms=3,
                    created_at=c + timedelta(seconds=20),
                )
                for s, t, c, _ in triaged
            ]
        )
        decisions = RoutingDecision.objects.bulk_create(
            [
                RoutingDecision(
                    ticket=t,
                    triage=r,
                    action="supervisor" if s.escalation else "human",
                    rule=rules[0] if s.escalation else rng.choice(rules),
                    reasons=["VIP customer"] if s.escalation else ["Not a routine category"],
                    created_at=c + timedelta(seconds=21),
                )
                for (s, t, c, _), r in zip(triaged, results, strict=True)
            ]
        )
        drafts, decided = [], []
        for s, t, c, who in triaged:
            thread = by_ticket[t.pk]
            reply = next((m for m in thread if m.direction == "out"), None)
            if reply is not None:
                drafts.append(
                    Draft(
                        ticket=t, in_reply_to=thread[0], text=reply.body_text,
                        language=s.language, engine="local", engine_version="1",
                        status="sent", decided_by=who, sent_message=reply,
                        created_at=c + timedelta(seconds=30),
                    )
                )  # fmt: skip
                decided.append((s, t, who, reply))
            elif thread[-1].direction == "in":
                drafts.append(
                    Draft(
                        ticket=t, in_reply_to=thread[-1], text="Hello,\nthanks for writing.",
                        language=s.language, engine="local", engine_version="1",
                        created_at=thread[-1].created_at + timedelta(seconds=30),
                    )
                )  # fmt: skip
        drafts = Draft.objects.bulk_create(drafts)
        sent = {d.ticket_id: d for d in drafts if d.status == "sent"}
        events = [
            FeedbackEvent(
                kind="draft_edited" if s.draft_decision == "edited" else "draft_approved",
                reason=s.edit_reason,
                actor=who,
                ticket=t,
                draft=sent[t.pk],
                created_at=reply.created_at,
            )
            for s, t, who, reply in decided
        ]
        for (_, t, _, who), d in zip(triaged, decisions, strict=True):
            if rng.random() < OVERRIDE_SHARE:
                kind = rng.choice(["rerouted", "reassigned", "escalated", "deescalated"])
                events.append(
                    FeedbackEvent(
                        kind=kind, actor=who, ticket=t, routing=d,
                        created_at=d.created_at + timedelta(minutes=rng.randrange(1, 600)),
                    )
                )  # fmt: skip
        FeedbackEvent.objects.bulk_create(events)
        Escalation.objects.bulk_create(
            [
                Escalation(
                    ticket=t,
                    reason=s.escalation.reason,
                    created_at=c + timedelta(minutes=s.escalation.minutes_after),
                    acknowledged_at=(
                        c + timedelta(minutes=s.escalation.acknowledged_minutes_after)
                        if s.escalation.acknowledged
                        else None
                    ),
                    acknowledged_by=supervisor if s.escalation.acknowledged else None,
                )
                for s, t, c in zip(chunk, tickets, at, strict=True)
                if s.escalation is not None
            ]
        )
        Rating.objects.bulk_create(
            [
                Rating(
                    message=[m for m in by_ticket[t.pk] if m.direction == "out"][-1],
                    ticket=t,
                    draft=sent.get(t.pk),
                    score=s.csat,
                    comment=s.csat_comment,
                    created_at=c + timedelta(minutes=s.messages[-1].minutes_after + 60),
                )
                for s, t, c in zip(chunk, tickets, at, strict=True)
                if s.csat is not None
            ]
        )

    for spec in specs:
        chunk.append(spec)
        if len(chunk) == batch:
            with transaction.atomic():
                flush(chunk)
            chunk = []
    if chunk:
        with transaction.atomic():
            flush(chunk)
    # The decisions and overrides were bulk-created around the routing services: count them
    # into the rules' days as those services would have.
    from triage.services import routing_rule_days_rebuild

    routing_rule_days_rebuild()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE supportdesk_ticket"
                " SET search_vector = to_tsvector('simple', search_document)"
            )
            cursor.execute("ANALYZE")
    print(f"built {n:,} tickets in {time.perf_counter() - started:.0f} s ({connection.vendor})")
    from metrics_speed import sweep

    sweep()
    # The sweep filled the per-ticket figures after the ANALYZE above: without fresh
    # statistics the planner takes every figure for rare and scans whole periods.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(repeat: int, n: int) -> dict[str, tuple[float, float, int, float]]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from feedback.services import edit_suggestions_refresh
    from supportdesk.models import Customer, Ticket
    from supportdesk.services import api_token_create
    from triage.services import threshold_suggestions_refresh

    # The suggestions page reads what its periodic tasks stored: store it as they would have
    # by the time a supervisor opens the page, and print what computing it costs.
    started = time.perf_counter()
    threshold_suggestions_refresh()
    edit_suggestions_refresh()
    print(f"computed the stored suggestions in {(time.perf_counter() - started) * 1000:.0f} ms")
    client = Client()
    client.force_login(User.objects.get(username="agent"))
    first_page = client.get("/inbox/")
    html = first_page.content.decode()
    cursor = html.split("after=")[1].split('"')[0] if "after=" in html else ""
    # A cursor deep into the list: page through ~2,000 tickets.
    deep = cursor
    for _ in range(80):
        page = client.get(f"/inbox/?after={deep}", HTTP_HX_REQUEST="true").content.decode()
        if "after=" not in page:
            break
        deep = page.split("after=")[-1].split('"')[0]
    rng = random.Random(3)
    ids = list(Ticket.objects.values_list("pk", flat=True)[: n : max(1, n // 500)])
    token = api_token_create(user=User.objects.get(username="agent"))
    api_headers = {"Authorization": f"Bearer {token}"}
    api_deep = "/api/v1/tickets?limit=50"
    for _ in range(40):  # ~2,000 tickets into the API list
        following = client.get(api_deep, headers=api_headers).json()["next"]
        if not following:
            break
        api_deep = following.removeprefix("http://testserver")
    email = Customer.objects.order_by("pk").values_list("email", flat=True)[n // 10]
    since = (timezone.now() - timedelta(hours=1)).isoformat().replace("+", "%2B")
    cases = {
        "inbox, first page": lambda: "/inbox/",
        "inbox, urgency=high & emotion=angry": lambda: "/inbox/?urgency=high&emotion=angry",
        "inbox, category filter": lambda: "/inbox/?category=cat3",
        "inbox, assigned to me": lambda: "/inbox/?mine=1",
        "inbox, page ~80 (keyset)": lambda: f"/inbox/?after={deep}",
        "ticket page (random ticket)": lambda: f"/tickets/{rng.choice(ids)}/",
        "api list, first page": lambda: "/api/v1/tickets",
        "api list, status=waiting": lambda: "/api/v1/tickets?status=waiting",
        "api list, channel=api": lambda: "/api/v1/tickets?channel=api",
        "api list, customer_email": lambda: f"/api/v1/tickets?customer_email={quote(email)}",
        "api list, updated_since": lambda: f"/api/v1/tickets?updated_since={since}",
        "api list, page ~40 (cursor)": lambda: api_deep,
        "api messages (random ticket)": lambda: f"/api/v1/tickets/{rng.choice(ids)}/messages",
        # Search: all statuses unless one is chosen (what an agent looking something up does).
        "search, common word (order)": lambda: "/inbox/?q=order",
        "search, two words (refund card)": lambda: "/inbox/?q=refund+card",
        "search, rare word (Braga)": lambda: "/inbox/?q=braga",
        "search, Chinese (退款)": lambda: "/inbox/?q=%E9%80%80%E6%AC%BE",
        "search, Japanese (返金)": lambda: "/inbox/?q=%E8%BF%94%E9%87%91",
        "search, customer address": lambda: f"/inbox/?q={quote(email)}",
        "search, ticket number": lambda: f"/inbox/?q=%23{rng.choice(ids)}",
        "search, active only, common word": lambda: "/inbox/?q=order&status=active",
        "search, newest first": lambda: "/inbox/?q=order&sort=newest",
        # As a supervisor: the ticket page, the escalations, the rules report, the metrics.
        "supervisor: ticket page (escalated)": lambda: f"/tickets/{rng.choice(escalated)}/",
        "supervisor: escalations": lambda: "/supervisor/",
        "supervisor: routing rules report": lambda: "/supervisor/rules/",
        "supervisor: threshold suggestions": lambda: "/suggestions/",
        "supervisor: metrics, 12 weeks": lambda: "/metrics/",
        "supervisor: metrics by agent, 52 weeks": lambda: "/metrics/?weeks=52&by=agent",
        "supervisor: tickets behind, edited": lambda: "/metrics/tickets/?measure=edited",
        "ticket page, assignee search": lambda: f"/tickets/{rng.choice(ids)}/assignees/?q=ke",
    }
    supervisor = Client()
    supervisor.force_login(User.objects.get(username="supervisor"))
    escalated = (
        list(Ticket.objects.filter(is_escalated=True).values_list("pk", flat=True)[:200]) or ids
    )
    figures = {}
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for label, url in cases.items():
        headers = api_headers if label.startswith("api") else {}
        browser = supervisor if label.startswith("supervisor") else client
        browser.get(url(), headers=headers)  # warm
        timings = []
        for _ in range(repeat):
            target = url()
            started = time.perf_counter()
            response = browser.get(target, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (target, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            browser.get(url(), headers=headers)
        p95 = statistics.quantiles(timings, n=20)[-1]
        median = statistics.median(timings)
        figures[label] = (median, p95, len(queries), min(timings))
        print(f"{label:40} {median:10.1f} {p95:8.1f} {len(queries):8d}", flush=True)
    return figures


if __name__ == "__main__":
    main()
