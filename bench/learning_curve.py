"""Simulate agents correcting a stream of tickets, and how fast the category model learns.

    .venv/bin/python bench/learning_curve.py [--embeddings on|off] [--batch 25] [--corrections 400]

Start from 5 labelled examples per Banking77 category. Tickets (the rest of the training split,
shuffled) arrive one by one; whenever the active model gets one wrong, the agent's correction
becomes a training example. After every `--batch` corrections the model is retrained and its
accuracy on the fixed validation split (the same 90/10 split as bench/triage_quality.py) is
printed. Correct predictions add nothing, as in the inbox.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from pathlib import Path

from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.engine import evaluate_category_model, train_category_model  # noqa: E402
from triage.engine.embed import EmbeddingCache, default_embedder  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"
WORK = ROOT / "var" / "triage-bench"
START_PER_CATEGORY = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", choices=("on", "off"), default="on")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--corrections", type=int, default=400)
    args = parser.parse_args()
    if args.embeddings == "off":
        os.environ["SUPPORTDESK_EMBEDDINGS"] = "off"
    embedder = default_embedder()
    cache = EmbeddingCache.under(WORK, embedder) if embedder else None
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    train, val = train_test_split(
        rows, test_size=0.1, stratify=[c for _, c in rows], random_state=0
    )
    if cache is not None:
        cache.embed([t for t, _ in rows])  # one-time; cached for later runs
    random.Random(0).shuffle(train)
    examples, stream, seen = [], [], {}
    for text, label in train:
        if seen.get(label, 0) < START_PER_CATEGORY:
            seen[label] = seen.get(label, 0) + 1
            examples.append((text, label))
        else:
            stream.append((text, label))
    features = f"TF-IDF + {embedder.name}" if embedder else "TF-IDF only"
    print(f"Learning from corrections: Banking77, {features}, {len(val)} validation rows")
    print(f"{'corrections':>11}  {'examples':>8}  {'accuracy':>8}  {'top-1':>6}  {'train s':>7}")
    corrections, position, first = 0, 0, None
    while True:
        start = time.perf_counter()
        model = train_category_model(examples, embeddings=cache)
        seconds = time.perf_counter() - start
        metrics = evaluate_category_model(model, val)
        if first is None:
            first = (metrics["accuracy"], metrics["top1_accuracy"])
        print(
            f"{corrections:>11}  {len(examples):>8}  {100 * metrics['accuracy']:>7.1f}%"
            f"  {100 * metrics['top1_accuracy']:>5.1f}%  {seconds:>7.1f}",
            flush=True,
        )
        if corrections >= args.corrections or position >= len(stream):
            break
        batch_end = corrections + args.batch
        while corrections < batch_end and position < len(stream):
            chunk = stream[position : position + 100]
            position += len(chunk)
            predictions = model.predict_many([t for t, _ in chunk])
            for prediction, (text, label) in zip(predictions, chunk, strict=True):
                if corrections < batch_end and (
                    prediction.out_of_scope or prediction.label != label
                ):
                    examples.append((text, label))
                    corrections += 1
    gain = 100 * (metrics["accuracy"] - first[0])
    top1_gain = 100 * (metrics["top1_accuracy"] - first[1])
    print(
        f"accuracy rose {gain:.1f} points (top-1 {top1_gain:.1f}) over {corrections} corrections"
        " (floor: 10 points within 200)"
    )


if __name__ == "__main__":
    main()
