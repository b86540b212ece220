"""Retrieval quality on the demo KB: does a question find its article, and does an off-topic
question find nothing?

    .venv/bin/python bench/retrieval_quality.py            # figures at MATCH_THRESHOLD
    .venv/bin/python bench/retrieval_quality.py --sweep    # the same figures per threshold
    .venv/bin/python bench/retrieval_quality.py --verbose  # every miss and false match

Plain Python: the index is built straight from ``supportdesk/demo/kb_articles.json`` with
``knowledge.retrieval``, no database. The labelled questions are in
``bench/data/retrieval_questions.jsonl`` (question, language, expected_title; null means no
article answers it). Recall counts only hits that ``best_passages`` would ground a reply on,
because that is what the customer sees.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge import retrieval  # noqa: E402
from knowledge.retrieval import ArticleDoc, KBIndex, best_passages  # noqa: E402

KB_PATH = ROOT / "supportdesk" / "demo" / "kb_articles.json"
QUESTIONS_PATH = ROOT / "bench" / "data" / "retrieval_questions.jsonl"
SWEEP = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


@dataclass(frozen=True)
class Figures:
    recall_at_1: float
    recall_at_3: float
    false_match_rate: float
    misses: list[str]
    false_matches: list[str]


def load_index() -> KBIndex:
    items = json.loads(KB_PATH.read_text())
    ids = {item["key"]: number for number, item in enumerate(items, start=1)}
    return KBIndex.build(
        ArticleDoc(
            article_id=ids[item["key"]],
            title=item["title"],
            body=item["body"],
            language=item["language"],
            source_id=ids.get(item["translation_of"] or ""),
        )
        for item in items
    )


def load_questions() -> list[dict]:
    lines = QUESTIONS_PATH.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def evaluate(index: KBIndex, questions: list[dict]) -> Figures:
    answerable = [q for q in questions if q["expected_title"]]
    off_topic = [q for q in questions if not q["expected_title"]]
    at_1 = at_3 = 0
    misses: list[str] = []
    false_matches: list[str] = []
    for q in answerable:
        titles = [p.title for p in best_passages(index, q["question"], q["language"], k=3)]
        at_1 += titles[:1] == [q["expected_title"]]
        at_3 += q["expected_title"] in titles
        if titles[:1] != [q["expected_title"]]:
            misses.append(f"[{q['language']}] {q['question']}  ->  {titles[:1] or 'nothing'}")
    for q in off_topic:
        hits = best_passages(index, q["question"], q["language"], k=3)
        if hits:
            false_matches.append(
                f"[{q['language']}] {q['question']}  ->  {hits[0].title} ({hits[0].score})"
            )
    return Figures(
        recall_at_1=at_1 / len(answerable) if answerable else 0.0,
        recall_at_3=at_3 / len(answerable) if answerable else 0.0,
        false_match_rate=len(false_matches) / len(off_topic) if off_topic else 0.0,
        misses=misses,
        false_matches=false_matches,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", action="store_true", help="figures for several thresholds")
    parser.add_argument("--verbose", action="store_true", help="list misses and false matches")
    args = parser.parse_args()

    index = load_index()
    questions = load_questions()
    answerable = sum(1 for q in questions if q["expected_title"])
    print(
        f"{len(index)} passages; {answerable} answerable questions, "
        f"{len(questions) - answerable} off-topic"
    )
    thresholds = SWEEP if args.sweep else (retrieval.MATCH_THRESHOLD,)
    default = retrieval.MATCH_THRESHOLD
    print(f"{'threshold':>9}  {'recall@1':>8}  {'recall@3':>8}  {'false-match':>11}")
    for threshold in thresholds:
        # The sweep swaps the module constant; search() and best_passages() read it per call.
        retrieval.MATCH_THRESHOLD = threshold
        figures = evaluate(index, questions)
        marker = "  <- MATCH_THRESHOLD" if threshold == default and args.sweep else ""
        print(
            f"{threshold:>9.2f}  {figures.recall_at_1:>8.1%}  {figures.recall_at_3:>8.1%}  "
            f"{figures.false_match_rate:>11.1%}{marker}"
        )
    retrieval.MATCH_THRESHOLD = default
    if args.verbose:
        figures = evaluate(index, questions)
        print("\nMisses at @1:", *figures.misses or ["none"], sep="\n  ")
        print("\nFalse matches:", *figures.false_matches or ["none"], sep="\n  ")


if __name__ == "__main__":
    main()
