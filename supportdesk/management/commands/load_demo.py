"""Load the demo company: users, taxonomy, KB, labelled examples and sample tickets.

Safe to re-run: everything is matched on a natural key and created only when missing.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from knowledge.models import Article
from knowledge.services import article_create
from replies.models import Macro
from supportdesk.models import Category, Customer, Message
from supportdesk.roles import ADMIN, AGENT, SUPERVISOR, ensure_roles
from supportdesk.services import ticket_create
from triage.engine.embed import EmbeddingCache, default_embedder
from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample
from triage.services import examples_import
from triage.training import answers_from_articles

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
VECTORS = DEMO_DIR / "vectors.npz"  # e5 vectors of the demo's training texts
NO_ANSWER = "__no_answer__"  # the label of questions the demo KB does not answer


def _rows(name: str, label: str) -> list[tuple[str, str]]:
    """(text, label column) of a demo CSV file."""
    with (DEMO_DIR / name).open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row[label]) for row in csv.DictReader(handle)]


def _embedding_cache() -> EmbeddingCache | None:
    embedder = default_embedder()
    return EmbeddingCache.under(Path(settings.MODELS_DIR), embedder) if embedder else None


class Command(BaseCommand):
    help = "Load the Lumen demo company (users agent, supervisor, admin)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--export-vectors",
            action="store_true",
            help="After `train_models`: write the sentence vectors of the demo's training texts "
            "to the demo folder, so installations need not compute them (release builds).",
        )

    def handle(self, *args, export_vectors=False, **options):
        if export_vectors:
            count = self._export_vectors()
            self.stdout.write(f"Wrote {count} vectors to {VECTORS}.")
            return
        password = os.environ.get("DEMO_PASSWORD", "supportdesk")
        ensure_roles()
        created_users = self._users(password)
        self._categories()
        articles = self._articles()
        examples = self._examples() + self._answer_examples()
        self._import_vectors()
        self._macros()
        # DEMO_TICKETS=0 loads the company without its sample tickets (used by the browser tests).
        tickets = self._tickets() if os.environ.get("DEMO_TICKETS", "1") != "0" else 0
        self.stdout.write(
            f"Demo loaded: {articles} new KB articles, {examples} new labelled examples, "
            f"{tickets} new tickets."
        )
        for username in (AGENT, SUPERVISOR, ADMIN):
            note = "" if username in created_users else " (existing user: password unchanged)"
            self.stdout.write(f"  login: {username} / {password}{note}")

    @transaction.atomic
    def _macros(self) -> None:
        """The demo's canned replies, each in en (the fallback), zh-Hant, ja and es. An admin's
        later edits are kept: only missing variants are added."""
        for item in json.loads((DEMO_DIR / "macros.json").read_text(encoding="utf-8")):
            Macro.objects.get_or_create(
                key=item["key"],
                language=item["language"],
                defaults={"title": item["title"], "body": item["body"]},
            )

    @transaction.atomic
    def _users(self, password: str) -> list[str]:
        user_model = get_user_model()
        created = []
        for username in (AGENT, SUPERVISOR, ADMIN):
            user, was_created = user_model.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if was_created:
                user.set_password(password)
                user.is_staff = username == ADMIN
                user.is_superuser = username == ADMIN
                user.save()
                created.append(username)
            user.groups.add(Group.objects.get(name=username))
        return created

    @transaction.atomic
    def _categories(self) -> None:
        for item in json.loads((DEMO_DIR / "categories.json").read_text()):
            Category.objects.get_or_create(
                slug=item["slug"],
                defaults={
                    "name": item["name"],
                    "description": item["description"],
                    "routine": item["routine"],
                },
            )

    @transaction.atomic
    def _articles(self) -> int:
        items = json.loads((DEMO_DIR / "kb_articles.json").read_text())
        by_key: dict[str, Article] = {}
        created = 0
        # Sources first, so translations can link to them.
        for item in sorted(items, key=lambda i: i["translation_of"] is not None):
            article = Article.objects.filter(title=item["title"], language=item["language"]).first()
            if article is None:
                article = article_create(
                    title=item["title"],
                    body=item["body"],
                    language=item["language"],
                    category=Category.objects.filter(slug=item["category"]).first(),
                    translation_of=by_key.get(item["translation_of"] or ""),
                )
                created += 1
            by_key[item["key"]] = article
        return created

    def _examples(self) -> int:
        rows = _rows("category_examples.csv", "category")
        created = examples_import(target=LabelledExample.Target.CATEGORY, rows=rows).created
        # Messages written the way customers write, in every supported language, with some that
        # belong to no category: they teach the other languages and calibrate the confidences.
        # The answer examples carry a category too (blank where only the answer was labelled).
        rows = _rows("category_examples_written.csv", "category") + [
            (text, category)
            for text, category in _rows("answer_examples.csv", "category")
            if category
        ]
        return (
            created
            + examples_import(
                target=LabelledExample.Target.CATEGORY,
                rows=rows,
                source=LabelledExample.Source.REALISTIC,
                oos_label=OUT_OF_SCOPE_LABEL,
            ).created
        )

    def _import_vectors(self) -> None:
        """The demo's training texts come with their sentence vectors: the first `train_models`
        then spends seconds, not minutes of CPU, embedding them (`--export-vectors` rebuilds)."""
        cache = _embedding_cache()
        if cache is not None and VECTORS.is_file():
            cache.import_file(VECTORS)

    def _export_vectors(self) -> int:
        cache = _embedding_cache()
        if cache is None:
            raise CommandError("Sentence embeddings are off or not installed: nothing to export.")
        stored = LabelledExample.objects.filter(
            target__in=[LabelledExample.Target.CATEGORY, LabelledExample.Target.ANSWER]
        )
        texts = [*stored.values_list("text", flat=True), *(t for t, _ in answers_from_articles())]
        return cache.export_file(texts, VECTORS)

    def _answer_examples(self) -> int:
        """Messages labelled with the article that answers them (or none), in eight languages:
        what the answer model learns to pick the article from, across languages."""
        sources = {
            item["key"]: item["title"]
            for item in json.loads((DEMO_DIR / "kb_articles.json").read_text())
            if item["translation_of"] is None
        }
        ids = dict(
            Article.objects.filter(title__in=sources.values(), translation_of=None).values_list(
                "title", "pk"
            )
        )
        rows = [
            (text, key if key == NO_ANSWER else str(ids[sources[key]]))
            for text, key in _rows("answer_examples.csv", "article")
        ]
        return examples_import(
            target=LabelledExample.Target.ANSWER,
            rows=rows,
            source=LabelledExample.Source.REALISTIC,
            oos_label=NO_ANSWER,
        ).created

    def _tickets(self) -> int:
        now = timezone.now()
        created = 0
        items = list(enumerate(json.loads((DEMO_DIR / "tickets.json").read_text())))
        # Oldest first, so follow-ups arrive after the tickets they follow up on.
        for index, item in sorted(items, key=lambda pair: -pair[1]["minutes_ago"]):
            external_id = f"demo-ticket-{index}"
            if Message.objects.filter(external_id=external_id).exists():
                continue
            person = item["customer"]
            received = now - timedelta(minutes=item["minutes_ago"])
            with transaction.atomic():
                Customer.objects.update_or_create(
                    email=person["email"].lower(),
                    defaults={
                        "name": person["name"],
                        "locale": person["locale"],
                        "plan": person["plan"],
                        "is_vip": person["vip"],
                    },
                    create_defaults={
                        "name": person["name"],
                        "locale": person["locale"],
                        "plan": person["plan"],
                        "is_vip": person["vip"],
                        "first_seen": received
                        - timedelta(days=120 if person["plan"] != "free" else 3),
                    },
                )
                ticket_create(
                    email=person["email"],
                    subject=item["subject"],
                    body=item["body"],
                    channel=item["channel"],
                    external_id=external_id,
                    received_at=received,
                )
            created += 1
        return created
