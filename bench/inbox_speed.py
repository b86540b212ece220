"""Inbox and ticket-page response times at scale.

Builds a throwaway installation with N tickets (default 100,000; each with two messages, a
triage result, a routing decision and a draft), then times the inbox (first page, filtered,
deep keyset page), ticket pages and the REST API's lists through Django's test client, which
runs the whole middleware, view, selector and template stack, and inbox searches (tickets carry
the realistic multilingual texts of bench/data/first_pass_tickets.jsonl). Prints median and
p95 in milliseconds and the query count per page.

    python bench/inbox_speed.py [--tickets 100000] [--database-url postgres://…]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

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
    measure(args.repeat, args.tickets)


def build(n: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import transaction
    from django.utils import timezone

    from replies.models import Draft
    from supportdesk.models import Category, Customer, Message, Ticket
    from supportdesk.search import search_document
    from triage.models import RoutingDecision, TriageResult

    started = time.perf_counter()
    rng = random.Random(7)
    # What customers wrote, in eight languages (the first-pass bench's tickets), so search has
    # words to find with a realistic spread: common ("order"), rare, Chinese and Japanese.
    with (ROOT / "bench" / "data" / "first_pass_tickets.jsonl").open(encoding="utf-8") as handle:
        written = [json.loads(line) for line in handle if line.strip()]
    agent = User.objects.create_user("agent", password="bench-password")
    agent.groups.add(Group.objects.get(name="agent"))
    categories = [
        Category.objects.create(slug=f"cat{i}", name=f"Category {i}", routine=i % 2 == 0)
        for i in range(12)
    ]
    emotions = ["angry", "anxious", "sad", "confused", "positive", "neutral"]
    now = timezone.now()
    batch = 5000
    with transaction.atomic():
        customers = Customer.objects.bulk_create(
            [Customer(email=f"c{i}@example.com", name=f"Customer {i}") for i in range(n // 5)],
            batch_size=batch,
        )
    for start in range(0, n, batch):
        with transaction.atomic():
            people = [rng.choice(customers) for _ in range(start, min(n, start + batch))]
            texts = [written[i % len(written)] for i in range(start, min(n, start + batch))]
            tickets = Ticket.objects.bulk_create(
                [
                    Ticket(
                        customer=person,
                        subject=text["subject"] or f"Question number {i} about my order",
                        search_document=search_document(
                            [text["subject"], person.name, person.email, text["body"]]
                        ),
                        status=rng.choice(["open", "open", "waiting", "solved"]),
                        channel=rng.choice(["email", "email", "web", "api"]),
                        language="en",
                        urgency=rng.choice([0, 1, 1, 2, 2, 2]),
                        category=rng.choice(categories),
                        emotion=rng.choice(emotions),
                        assignee=agent if i % 10 == 0 else None,
                        created_at=now - timedelta(minutes=i),
                    )
                    for i, person, text in zip(
                        range(start, min(n, start + batch)), people, texts, strict=True
                    )
                ],
                batch_size=batch,
            )
            messages = Message.objects.bulk_create(
                [
                    Message(ticket=t, direction="in", body_text=text["body"])
                    for t, text in zip(tickets, texts, strict=True)
                ]
                + [
                    Message(ticket=t, direction="out", body_text="It is on its way.")
                    for t in tickets
                ],
                batch_size=batch,
            )
            inbound = messages[: len(tickets)]
            results = TriageResult.objects.bulk_create(
                [
                    TriageResult(
                        ticket=t,
                        message=m,
                        language="en",
                        language_confidence=0.9,
                        category=t.category.slug,
                        category_confidence=0.8,
                        emotion=t.emotion,
                        emotion_confidence=0.7,
                        urgency="medium",
                        engine="local",
                        engine_version="1",
                        latency_ms=3,
                    )  # fmt: skip
                    for t, m in zip(tickets, inbound, strict=True)
                ],
                batch_size=batch,
            )
            RoutingDecision.objects.bulk_create(
                [
                    RoutingDecision(ticket=t, triage=r, action="human", reasons=["Bench"])
                    for t, r in zip(tickets, results, strict=True)
                ],
                batch_size=batch,
            )
            Draft.objects.bulk_create(
                [
                    Draft(
                        ticket=t,
                        in_reply_to=m,
                        text="Hello",
                        language="en",
                        engine="local",
                        engine_version="1",
                    )  # fmt: skip
                    for t, m in zip(tickets, inbound, strict=True)
                ],
                batch_size=batch,
            )
    from django.db import connection

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


def measure(repeat: int, n: int) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from supportdesk.models import Customer, Ticket
    from supportdesk.services import api_token_create

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
        "api list, customer_email": lambda: f"/api/v1/tickets?customer_email={email}",
        "api list, updated_since": lambda: f"/api/v1/tickets?updated_since={since}",
        "api list, page ~40 (cursor)": lambda: api_deep,
        "api messages (random ticket)": lambda: f"/api/v1/tickets/{rng.choice(ids)}/messages",
        # Search: all statuses unless one is chosen (what an agent looking something up does).
        "search, common word (order)": lambda: "/inbox/?q=order",
        "search, two words (refund card)": lambda: "/inbox/?q=refund+card",
        "search, rare word (Braga)": lambda: "/inbox/?q=braga",
        "search, Chinese (退款)": lambda: "/inbox/?q=%E9%80%80%E6%AC%BE",
        "search, Japanese (返金)": lambda: "/inbox/?q=%E8%BF%94%E9%87%91",
        "search, customer address": lambda: f"/inbox/?q={email}",
        "search, ticket number": lambda: f"/inbox/?q=%23{rng.choice(ids)}",
        "search, active only, common word": lambda: "/inbox/?q=order&status=active",
        "search, newest first": lambda: "/inbox/?q=order&sort=newest",
    }
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for label, url in cases.items():
        headers = api_headers if label.startswith("api") else {}
        client.get(url(), headers=headers)  # warm
        timings = []
        for _ in range(repeat):
            target = url()
            started = time.perf_counter()
            response = client.get(target, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (target, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(url(), headers=headers)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"{label:40} {statistics.median(timings):10.1f} {p95:8.1f} {len(queries):8d}")


if __name__ == "__main__":
    main()
