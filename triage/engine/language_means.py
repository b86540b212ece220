"""The mean sentence vector of each language's typical support messages.

The shipped multilingual encoder places every text of one language near the others of that
language, whatever it asks; subtracting the language's mean leaves mostly what the text says,
so that one question asked in two languages reads as close (knowledge gaps are clustered this
way: knowledge/engine/gaps.py). The means are computed once from the realistic support
messages in eight languages that ship with the demo (`supportdesk/demo/answer_examples.csv`)
and kept in `triage/data/language_means.npz`:

    python -m triage.engine.language_means
"""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data" / "language_means.npz"
SOURCE = Path(__file__).resolve().parents[2] / "supportdesk" / "demo" / "answer_examples.csv"


@functools.cache
def language_means(embedder_name: str) -> dict[str, np.ndarray]:
    """language -> mean vector, for vectors of `embedder_name`; {} when the file is for
    another encoder (or missing): vectors are then compared uncentred."""
    if not DATA.is_file():
        return {}
    with np.load(DATA, allow_pickle=False) as data:
        if str(data["name"]) != embedder_name:
            return {}
        return {
            str(k): v.astype(np.float32)
            for k, v in zip(data["languages"], data["means"], strict=True)
        }


def mean_for(embedder_name: str, language: str) -> np.ndarray | None:
    """The mean of `language`, of its base language ("pt-BR" → "pt"), else of all languages."""
    means = language_means(embedder_name)
    if not means:
        return None
    if language in means:
        return means[language]
    base = language.split("-")[0]
    if base in means:
        return means[base]
    return np.mean(np.stack(list(means.values())), axis=0)


def build(path: Path = DATA) -> dict[str, int]:
    from triage.engine.embed import E5Embedder
    from triage.engine.emotion import reading_text

    texts: dict[str, list[str]] = defaultdict(list)
    with SOURCE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts[row["language"]].append(reading_text(row["text"]))
    embedder = E5Embedder()
    languages = sorted(texts)
    means = np.stack([embedder.embed(texts[lang]).mean(axis=0) for lang in languages])
    np.savez_compressed(
        path, name=np.array(E5Embedder.name), languages=np.array(languages), means=means
    )
    return {lang: len(texts[lang]) for lang in languages}


if __name__ == "__main__":
    print(build())
