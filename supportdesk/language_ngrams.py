"""A small character n-gram model of how customers write to a support desk, by language.

Naive Bayes over the character 1- to 4-grams of each word (letters only, lower case, padded
with a space at both ends, so that short words such as " my ", " de ", " não " are n-grams of
their own). It is learned from the realistic support messages this project ships in eight
languages (Traditional and Simplified Chinese count as one, "zh": script decides between them):

* `supportdesk/demo/answer_examples.csv` and `supportdesk/demo/category_examples_written.csv`,
* `triage/data/emotion_support_examples.csv`,

all written for this project, and kept in `supportdesk/data/language_ngrams.npz` (the 32,000
n-grams seen at least twice: 150 kB, ~7 MB in memory). Rebuild it after changing those files:

    python -m supportdesk.language_ngrams

The model does for short texts what lingua's high-accuracy mode did, at ~7 MB instead of
~150 MB (`supportdesk.language`): it knows the words of support requests ("pedido",
"Bestellung", "commande", "encomenda", "refund", "danke", "obrigado") in exactly the languages
the demo installation serves, and nothing of any other language.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "language_ngrams.npz"
SOURCES = (
    ROOT / "supportdesk" / "demo" / "answer_examples.csv",
    ROOT / "supportdesk" / "demo" / "category_examples_written.csv",
    ROOT / "triage" / "data" / "emotion_support_examples.csv",
)
MAX_N = 4
MIN_COUNT = 2
# Additive smoothing of each language's n-gram counts.
ALPHA = 0.5
# Letters only: digits, punctuation and symbols say nothing about the language.
_NOT_LETTERS = re.compile(r"[\W\d_]+", re.UNICODE)
_HAN_OR_KANA = re.compile(r"[\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def ngrams(text: str) -> list[str]:
    """The character 1..MAX_N-grams of each word of `text`, words padded with spaces. Chinese
    and Japanese have no spaces between words: their runs give characters and pairs of
    characters (longer n-grams would be many and rare, and script already tells most)."""
    grams: list[str] = []
    for word in _NOT_LETTERS.sub(" ", text.lower()).split():
        if _HAN_OR_KANA.search(word):
            # Each character and each pair, twice: a character then weighs about what a letter
            # of an alphabet does (it is part of MAX_N n-grams), so that a Chinese sentence is
            # not outvoted by the English product name or quoted line beside it.
            pairs = [word[i : i + 2] for i in range(len(word) - 1)]
            grams.extend([*word, *pairs] * 2)
            continue
        grams.extend(word)
        padded = f" {word} "
        for n in range(2, MAX_N + 1):
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class NgramModel:
    """Log-probabilities of n-grams by language; n-grams it never saw are not evidence."""

    def __init__(self, languages: Sequence[str], vocabulary: Sequence[str], log_probs: np.ndarray):
        self.languages = tuple(languages)
        self.index = {gram: i for i, gram in enumerate(vocabulary)}
        self.log_probs = log_probs  # (len(vocabulary), len(languages)), float32

    def log_likelihoods(self, text: str, languages: Sequence[str]) -> tuple[np.ndarray, int]:
        """(sum of the known n-grams' log-probabilities under each of `languages` — all of
        which the model must know —, how many known n-grams there were)."""
        rows = [i for i in map(self.index.get, ngrams(text)) if i is not None]
        columns = [self.languages.index(code) for code in languages]
        if not rows:
            return np.zeros(len(columns)), 0
        return self.log_probs[np.ix_(rows, columns)].sum(axis=0, dtype=np.float64), len(rows)


@functools.cache
def ngram_model() -> NgramModel | None:
    """The shipped model, read once per process; None when the file is missing."""
    if not DATA.is_file():
        return None
    with np.load(DATA, allow_pickle=False) as data:
        return NgramModel(
            [str(code) for code in data["languages"]],
            str(data["vocabulary"]).split("\n"),
            data["log_probs"].astype(np.float32),
        )


def base_language(code: str) -> str:
    return code.split("-")[0].lower()


def training_texts() -> Iterable[tuple[str, str]]:
    """(base language, text) of every message in SOURCES."""
    for source in SOURCES:
        with source.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                yield base_language(row["language"]), row["text"]


def build(path: Path = DATA) -> dict[str, int]:
    counts: dict[str, Counter[str]] = {}
    for language, text in training_texts():
        counts.setdefault(language, Counter()).update(ngrams(text))
    languages = sorted(counts)
    total = Counter[str]()
    for counter in counts.values():
        total.update(counter)
    vocabulary = sorted(gram for gram, count in total.items() if count >= MIN_COUNT)
    matrix = np.array(
        [[counts[language][gram] for language in languages] for gram in vocabulary],
        dtype=np.float64,
    )
    log_probs = np.log(matrix + ALPHA) - np.log(matrix.sum(axis=0) + ALPHA * len(vocabulary))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        languages=np.array(languages),
        vocabulary=np.array("\n".join(vocabulary)),
        log_probs=log_probs.astype(np.float16),
    )
    ngram_model.cache_clear()
    return {language: sum(counts[language].values()) for language in languages}


if __name__ == "__main__":
    sizes = build()
    print(f"{DATA.name}: {DATA.stat().st_size // 1024} kB; n-grams read by language: {sizes}")
