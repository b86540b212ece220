"""Draft quality of the offline engine on the labelled retrieval questions, per language.

    .venv/bin/python bench/draft_quality.py            # figures per language
    .venv/bin/python bench/draft_quality.py --verbose  # every failed check

For each answerable question the draft is written as for a paying customer named "Ana", then
checked the way an agent would read it:

* language — written in the question's language: starts with that locale's greeting and ends
  with its signature (a source-language quote is allowed only with needs_translation set);
* cites right — the first citation is the expected article (or its translation);
* translation flag — needs_translation is set exactly when the cited article is in another
  language;
* no repeat — a follow-up drafted after the first reply was sent does not quote the same
  passage again.

Plain Python, no database: the index comes from ``bench/retrieval_quality.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval_quality import KB_PATH, load_index, load_questions  # noqa: E402

from knowledge.retrieval import best_passages  # noqa: E402
from replies.engine import DraftInput, LocalDraftEngine, language_matches, profile_for  # noqa: E402

CHECKS = ("grounded", "language", "cites right", "translation flag", "no repeat")


def _draft(question: dict, passages: tuple, previous: tuple[str, ...] = ()):
    return LocalDraftEngine().draft(
        DraftInput(
            question=question["question"],
            subject="",
            language=question["language"],
            customer_name="Ana",
            customer_tier="paying",
            emotion="neutral",
            passages=passages,
            previous_replies=previous,
            brand_name="Lumen",
        )
    )


def _titles_by_source() -> dict[str, set[str]]:
    """Each title, with the titles of its translations and source: one answer, many languages."""
    groups: dict[str, set[str]] = defaultdict(set)
    for item in json.loads(KB_PATH.read_text()):
        groups[item["translation_of"] or item["key"]].add(item["title"])
    return {title: group for group in groups.values() for title in group}


def evaluate(verbose: bool) -> dict[str, dict[str, list[int]]]:
    index = load_index()
    same_answer = _titles_by_source()
    results: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for q in load_questions():
        if not q["expected_title"]:
            continue
        language = q["language"]
        passages = tuple(best_passages(index, q["question"], language, k=3))
        first = _draft(q, passages)
        checks = {"grounded": first.grounded}
        if first.grounded:
            tone = profile_for(language)
            greeting = tone.greeting.split("{name}")[0] + (
                "Ana" if "{name}" in tone.greeting else ""
            )
            checks["language"] = (
                first.text.startswith(greeting.strip() or tone.greeting_anonymous)
                and first.language == language
                and tone.signature.replace("{brand}", "Lumen") in first.text
            )
            cited = first.citations[0]
            checks["cites right"] = cited.title in same_answer.get(q["expected_title"], set())
            checks["translation flag"] = first.needs_translation == (
                not language_matches(cited.language, language)
            )
            follow_up = _draft(q, passages, previous=(first.text,))
            quoted = passages[0].text.strip().splitlines()[-1].strip()
            checks["no repeat"] = quoted not in follow_up.text
        for name, passed in checks.items():
            results[language][name][0] += bool(passed)
            results[language][name][1] += 1
            if verbose and not passed:
                print(f"  [{language}] {name}: {q['question']}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="list every failed check")
    args = parser.parse_args()
    results = evaluate(args.verbose)
    print(f"{'language':<9}" + "".join(f"{name:>18}" for name in CHECKS))
    for language in sorted(results):
        cells = []
        for name in CHECKS:
            passed, total = results[language][name]
            cells.append(f"{passed}/{total} ({passed / total:.0%})" if total else "-")
        print(f"{language:<9}" + "".join(f"{cell:>18}" for cell in cells))


if __name__ == "__main__":
    main()
