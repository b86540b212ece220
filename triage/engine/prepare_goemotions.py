"""Map GoEmotions (27 emotions + neutral, multi-label) to the six product emotions.

Usage: python -m triage.engine.prepare_goemotions SOURCE_DIR OUT_TSV [--split train]

SOURCE_DIR holds the GoEmotions release (`train.tsv`, `dev.tsv`, `labels.txt`). The output is
one example per line, `text<TAB>emotion` (csv-quoted where needed), with a header row; it
is what `emotion.load_emotion_examples` reads.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterator
from pathlib import Path

# Product emotion for each GoEmotions label. surprise, realization and curiosity are left out on
# purpose: they say nothing a support agent acts on, and folding them into "neutral" or
# "confused" blurred both classes when checked.
GOEMOTIONS_TO_PRODUCT: dict[str, str] = {
    "anger": "angry",
    "annoyance": "angry",
    "disapproval": "angry",
    "disgust": "angry",
    "fear": "anxious",
    "nervousness": "anxious",
    "sadness": "sad",
    "disappointment": "sad",
    "embarrassment": "sad",
    "grief": "sad",
    "remorse": "sad",
    "confusion": "confused",
    "joy": "positive",
    "amusement": "positive",
    "approval": "positive",
    "excitement": "positive",
    "gratitude": "positive",
    "love": "positive",
    "optimism": "positive",
    "relief": "positive",
    "pride": "positive",
    "admiration": "positive",
    "caring": "positive",
    "desire": "positive",
    "neutral": "neutral",
}


def read_label_names(labels_path: Path) -> list[str]:
    """Label names in id order (line number = id)."""
    return [line.strip() for line in labels_path.read_text(encoding="utf-8").splitlines()]


def map_label_ids(label_ids: str, names: list[str]) -> str | None:
    """The single product emotion for a comma-separated id list, or None to drop the row.

    Rows whose labels map to more than one product emotion are ambiguous as training targets
    for a single-label classifier, so they are dropped rather than guessed.
    """
    mapped = {GOEMOTIONS_TO_PRODUCT.get(names[int(i)]) for i in label_ids.split(",") if i}
    mapped.discard(None)
    if len(mapped) != 1:
        return None
    return mapped.pop()


def iter_mapped_rows(tsv_path: Path, names: list[str]) -> Iterator[tuple[str, str]]:
    # The release is csv-quoted ("" inside quoted fields), so it is read as csv, not split.
    with tsv_path.open(encoding="utf-8", newline="") as handle:
        for parts in csv.reader(handle, delimiter="\t"):
            if len(parts) < 2:
                continue
            emotion = map_label_ids(parts[1], names)
            text = " ".join(parts[0].split())
            if emotion and text:
                yield text, emotion


def write_examples(rows: Iterator[tuple[str, str]], out_path: Path) -> int:
    """Write unique rows; returns how many were written."""
    seen: set[str] = set()
    count = 0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8", newline="") as handle:
        # csv quoting, so any csv reader with delimiter="\t" gets the text back exactly
        # (about 1 in 40 comments starts with a quotation mark).
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(("text", "emotion"))
        for text, emotion in rows:
            if text in seen:
                continue
            seen.add(text)
            writer.writerow((text, emotion))
            count += 1
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source_dir", type=Path)
    parser.add_argument("out_tsv", type=Path)
    parser.add_argument("--split", default="train", choices=("train", "dev", "test"))
    args = parser.parse_args(argv)
    names = read_label_names(args.source_dir / "labels.txt")
    rows = iter_mapped_rows(args.source_dir / f"{args.split}.tsv", names)
    count = write_examples(rows, args.out_tsv)
    print(f"wrote {count} examples to {args.out_tsv}")


if __name__ == "__main__":
    main()
