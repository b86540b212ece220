"""The AI's first pass on realistic tickets, per language, through the real pipeline.

    .venv/bin/python bench/first_pass.py             # figures per language
    .venv/bin/python bench/first_pass.py --verbose   # and every ticket the first pass got wrong
    .venv/bin/python bench/first_pass.py --fresh     # rebuild the installation from nothing

Builds an installation of the demo company (migrate, `load_demo` without its sample tickets,
`train_models`), then files every ticket of `bench/data/first_pass_tickets.jsonl` as an e-mail
from its customer, exactly as intake does; the pipeline (triage → routing → draft) runs on
commit. The tickets were written the way customers write, in eight languages, independently of
every training file; each is labelled with its category, the knowledge-base article that
answers it (or none) and the customer's emotion. Per language it prints:

* category    — the ticket's category is the labelled one (out of scope counts wrong);
* out of scope — share of tickets with a category that triage called out of scope;
* cites right — the draft's first citation is the labelled article (or its translation);
* passage     — of those, the quoted passage is one a support agent would quote for this
  question (`bench/data/first_pass_passages.json`: acceptable passage numbers of the English
  article per ticket; translations split into a different number of passages are skipped);
* held        — a question the KB cannot answer got no grounded draft and raised an FAQ
  suggestion;
* language    — the draft is written in the customer's language;
* emotion     — the emotion read is the labelled one;
* ECE         — expected calibration error of the category confidence (10 bins).

The installation lives in `var/bench-first-pass` (its embedding cache makes later runs fast);
DATABASE_URL picks the database (default: SQLite in that folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICKETS = ROOT / "bench" / "data" / "first_pass_tickets.jsonl"
KB = ROOT / "supportdesk" / "demo" / "kb_articles.json"
PASSAGES = ROOT / "bench" / "data" / "first_pass_passages.json"
COLUMNS = (
    "category", "out of scope", "cites right", "passage", "held", "language", "emotion", "ECE",
)  # fmt: skip
LANGUAGES = ("en", "zh-Hant", "zh-Hans", "ja", "es", "de", "fr", "pt")


def load_tickets(path: Path = TICKETS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        tickets = [json.loads(line) for line in handle if line.strip()]
    if path == TICKETS and PASSAGES.is_file():
        passages = json.loads(PASSAGES.read_text(encoding="utf-8"))
        for item in tickets:
            item["passages"] = passages.get(item["id"], [])
    return tickets


def source_keys() -> dict[tuple[str, str], str]:
    """(title, language) of every demo article → the key of the English article it renders."""
    return {
        (item["title"], item["language"]): item["translation_of"] or item["key"]
        for item in json.loads(KB.read_text(encoding="utf-8"))
    }


def expected_calibration_error(confidences: list[float], correct: list[bool]) -> float:
    if not confidences:
        return 0.0
    bins: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for confidence, ok in zip(confidences, correct, strict=True):
        bins[min(int(confidence * 10), 9)].append((confidence, ok))
    total = len(confidences)
    return sum(
        len(rows)
        / total
        * abs(sum(c for c, _ in rows) / len(rows) - sum(ok for _, ok in rows) / len(rows))
        for rows in bins.values()
    )


def configure(workdir: Path) -> None:
    """An installation in `workdir` with its tables: tasks run in this process, no language
    model. Other benches start from here too."""
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(workdir)
    os.environ["TASK_BACKEND"] = "sync"
    os.environ["DEMO_TICKETS"] = "0"
    os.environ.setdefault("LLM_BASE_URL", "")
    os.environ["DJANGO_SETTINGS_MODULE"] = "supportdesk.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate_all", verbosity=0)


def build(workdir: Path, fresh: bool) -> None:
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    configure(workdir)
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    call_command("train_models", "--if-missing", verbosity=0)


def file_tickets(tickets: list[dict], *, quoted: bool = False) -> list[dict]:
    """File each ticket as intake does and read back what the first pass made of it. With
    `quoted`, each body is the e-mail a mail client sends (sign-off and the quoted earlier reply,
    bench/pipeline.py) filed as the API files it, quote and all: triage must read past it."""
    from django.db import transaction
    from django.utils import timezone

    from knowledge.models import Article, FAQSuggestion
    from replies.models import Draft
    from supportdesk.models import Customer, Message, Ticket
    from supportdesk.services import ticket_create
    from triage.models import TriageResult

    keys = source_keys()
    articles = {a.pk: (a.title, a.language) for a in Article.objects.all()}
    sources = {a.pk: a for a in Article.objects.select_related("translation_of")}
    outcomes = []
    now = timezone.now()
    for item in tickets:
        external_id = f"first-pass-{item['id']}"
        message = Message.objects.filter(external_id=external_id).first()
        if message is None:
            person = item["customer"]
            seen = now - timedelta(days=0 if person.get("new") else 400)
            Customer.objects.update_or_create(
                email=person["email"].lower(),
                defaults={"name": person["name"], "locale": person["locale"]},
                create_defaults={
                    "name": person["name"],
                    "locale": person["locale"],
                    "plan": person["plan"],
                    "is_vip": person["vip"],
                    "first_seen": seen,
                },
            )
            with transaction.atomic():
                ticket = ticket_create(
                    email=person["email"],
                    subject=item["subject"],
                    body=item["email_body"] if quoted else item["body"],
                    channel="api" if quoted else "email",
                    external_id=external_id,
                )
            message = ticket.messages.get(external_id=external_id)
        # Fresh from the database: the pipeline ran after the ticket object was made.
        ticket = Ticket.objects.select_related("category").get(pk=message.ticket_id)
        triage = TriageResult.objects.filter(message=message).first()
        draft = Draft.objects.filter(in_reply_to=message).order_by("-pk").first()
        cited = []
        passage = None
        if draft:
            cited = [
                keys.get(articles.get(c.get("article_id"), ("", "")), "?") for c in draft.citations
            ]
            if draft.citations:
                passage = passage_number(draft.citations[0], sources)
        outcomes.append(
            {
                "item": item,
                "category": ticket.category.slug if ticket.category_id else None,
                "out_of_scope": bool(triage and triage.out_of_scope),
                "confidence": triage.category_confidence if triage else 0.0,
                "raw_category": triage.category if triage else "",
                "emotion": triage.emotion if triage else "",
                "triage_language": triage.language if triage else "",
                "draft_language": draft.language if draft else "",
                "grounded": bool(draft and draft.grounded),
                "cited": cited,
                "passage": passage,
                "suggested": FAQSuggestion.objects.filter(source_ticket=ticket).exists(),
                "draft": draft.text if draft else "",
                "flagged": ticket.needs_manual_triage,
            }
        )
    return outcomes


def passage_number(citation: dict, articles: dict) -> int | None:
    """Which passage of its article a citation quotes, numbered as in the English original;
    None when that cannot be told (a translation split into a different number of passages)."""
    from knowledge.text import split_passages, to_script

    article = articles.get(citation.get("article_id"))
    if article is None:
        return None
    parts = split_passages(article.body)
    original = article.translation_of or article
    if len(parts) != len(split_passages(original.body)):
        return None
    if citation.get("language") and citation["language"] != article.language:
        parts = [to_script(p, citation["language"]) for p in parts]
    text = citation.get("passage", "")
    return parts.index(text) if text in parts else None


def score(outcomes: list[dict]) -> dict[str, dict[str, tuple[int, int] | float]]:
    """Per language (and overall): (right, asked) for each check, and the ECE."""
    table: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    calibration: dict[str, tuple[list[float], list[bool]]] = defaultdict(lambda: ([], []))
    for o in outcomes:
        item = o["item"]
        for language in (item["language"], "all"):
            row = table[language]
            if item["category"]:
                ok = o["category"] == item["category"] and not o["out_of_scope"]
                row["category"][0] += ok
                row["category"][1] += 1
                row["out of scope"][0] += o["out_of_scope"]
                row["out of scope"][1] += 1
                confidences, correct = calibration[language]
                confidences.append(o["confidence"])
                correct.append(o["raw_category"] == item["category"])
            if item["article"]:
                right = bool(o["cited"]) and o["cited"][0] == item["article"]
                row["cites right"][0] += right
                row["cites right"][1] += 1
                acceptable = item.get("passages")
                if right and acceptable and o["passage"] is not None:
                    row["passage"][0] += o["passage"] in acceptable
                    row["passage"][1] += 1
            elif item["kind"] != "no_question":
                row["held"][0] += (not o["grounded"]) and o["suggested"]
                row["held"][1] += 1
            if o["draft_language"]:
                row["language"][0] += o["draft_language"] == item["language"]
                row["language"][1] += 1
            row["emotion"][0] += o["emotion"] == item["emotion"]
            row["emotion"][1] += 1
    for language, (confidences, correct) in calibration.items():
        table[language]["ECE"] = expected_calibration_error(confidences, correct)
    return table


def report(table: dict) -> None:
    print(f"{'language':<9}" + "".join(f"{c:>14}" for c in COLUMNS))
    for language in (*LANGUAGES, "all"):
        if language not in table:
            continue
        cells = []
        for column in COLUMNS:
            value = table[language].get(column)
            if column == "ECE":
                cells.append(f"{value or 0:>14.3f}")
            elif not value or not value[1]:
                cells.append(f"{'-':>14}")
            else:
                right, asked = value
                cells.append(f"{100 * right / asked:>8.1f}% {right:>2}/{asked:<2}")
        print(f"{language:<9}" + "".join(cells))


def explain(outcomes: list[dict]) -> None:
    for o in outcomes:
        item = o["item"]
        problems = []
        if item["category"] and (o["category"] != item["category"] or o["out_of_scope"]):
            got = "out of scope" if o["out_of_scope"] else o["category"]
            problems.append(f"category {got} ({o['confidence']:.2f}), want {item['category']}")
        if item["article"] and (not o["cited"] or o["cited"][0] != item["article"]):
            problems.append(f"cites {o['cited'] or 'nothing'}, want {item['article']}")
        elif item.get("passages") and o["passage"] not in (None, *item["passages"]):
            problems.append(f"quotes passage {o['passage']}, want {item['passages']}")
        unanswerable = not item["article"] and item["kind"] != "no_question"
        if unanswerable and (o["grounded"] or not o["suggested"]):
            problems.append(f"unanswerable but grounded={o['grounded']} cites {o['cited']}")
        if o["draft_language"] and o["draft_language"] != item["language"]:
            problems.append(f"draft in {o['draft_language']}")
        if o["emotion"] != item["emotion"]:
            problems.append(f"emotion {o['emotion']}, want {item['emotion']}")
        if problems:
            body = " ".join(item["body"].split())[:110]
            print(f"\n{item['id']}: {body}\n  - " + "\n  - ".join(problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", action="store_true", help="Rebuild the installation.")
    parser.add_argument("--verbose", action="store_true", help="List every miss.")
    parser.add_argument("--tickets", type=Path, default=TICKETS)
    parser.add_argument(
        "--quoted",
        action="store_true",
        help="File each ticket as an e-mail with the quoted earlier reply, through the API.",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-first-pass")
    args = parser.parse_args()
    # Each run files the tickets again into a clean database; the trained models and the
    # embedding cache are kept unless --fresh.
    database = args.workdir / "supportdesk.sqlite3"
    if database.exists() and "DATABASE_URL" not in os.environ:
        database.unlink()
    build(args.workdir, args.fresh)
    tickets = load_tickets(args.tickets)
    if args.quoted:
        from pipeline import email_tickets

        mails = {mail["id"]: mail["email_body"] for mail in email_tickets(len(tickets))}
        tickets = [{**item, "email_body": mails[item["id"]]} for item in tickets]
    outcomes = file_tickets(tickets, quoted=args.quoted)
    if args.verbose:
        explain(outcomes)
        print()
    report(score(outcomes))


if __name__ == "__main__":
    main()
