"""Triage every row of a CSV or JSONL file with the active local models, writing JSONL."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from triage.engine import LocalTriageEngine
from triage.engine.types import TriageInput, TriageResult
from triage.management.commands.import_examples import read_records
from triage.models import ModelVersion
from triage.registry import get_triage_engine
from triage.training import emotion_install_shipped, model_train, shipped_model_problem

BATCH = 256


def result_json(row_id: object, result: TriageResult) -> dict:
    return {
        "id": row_id,
        "language": result.language,
        "language_confidence": round(result.language_confidence, 4),
        "category": None if result.out_of_scope or not result.category else result.category,
        "category_confidence": round(result.category_confidence, 4),
        "out_of_scope": result.out_of_scope,
        "emotion": result.emotion,
        "emotion_confidence": round(result.emotion_confidence, 4),
        "emotion_intensity": round(result.emotion_intensity, 4),
        "urgency": result.urgency,
        "urgency_reasons": list(result.urgency_reasons),
        "needs_human": result.needs_human,
        "needs_human_reasons": list(result.needs_human_reasons),
    }


class Command(BaseCommand):
    help = "Triage a CSV/JSONL file (column `text`, optional `id`, `subject`) into JSONL."

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True)
        parser.add_argument("--output", required=True)

    def handle(self, *args, input: str, output: str, **options):
        source = Path(input)
        if not source.is_file():
            raise CommandError(f"No such file: {input}")
        records = read_records(source)
        if records and "text" not in records[0]:
            raise CommandError(f"{source.name} needs a 'text' column; it has {list(records[0])}.")
        if not ModelVersion.objects.filter(target="category", is_active=True).exists():
            # The contract: language, emotion and urgency are still read; category stays null.
            self.stderr.write(
                "category: no trained model, so every category is null "
                "(import labelled examples and run `manage.py train_models`)"
            )
        if not ModelVersion.objects.filter(target="emotion", is_active=True).exists():
            # Emotion ships trained: even a fresh installation reads emotion.
            if shipped_model_problem("emotion"):
                self.stderr.write("emotion: no active model yet; training the bundled one (once)…")
                model_train(target="emotion")
            else:
                self.stderr.write("emotion: no active model yet; installing the shipped one")
                emotion_install_shipped()
        engine = get_triage_engine()
        analyse_many = getattr(engine, "analyse_many", None)
        if isinstance(engine, LocalTriageEngine):
            # Load the language detector and the embedder before the clock starts, so the rate
            # printed below is the triage rate.
            loading = time.perf_counter()
            engine.warm_up()
            engine.analyse(TriageInput(text="warm up"))
            self.stderr.write(f"Models loaded in {time.perf_counter() - loading:.1f} s")
        started = time.perf_counter()
        with Path(output).open("w", encoding="utf-8") as out:
            for start in range(0, len(records), BATCH):
                chunk = records[start : start + BATCH]
                inputs = [
                    TriageInput(text=str(r.get("text") or ""), subject=str(r.get("subject") or ""))
                    for r in chunk
                ]
                results = analyse_many(inputs) if analyse_many else map(engine.analyse, inputs)
                for offset, (record, result) in enumerate(zip(chunk, results, strict=True)):
                    row_id = record.get("id", start + offset)
                    out.write(json.dumps(result_json(row_id, result), ensure_ascii=False) + "\n")
                self.stderr.write(f"\r{min(start + BATCH, len(records))}/{len(records)}", ending="")
        elapsed = time.perf_counter() - started
        rate = len(records) / elapsed if elapsed else 0.0
        self.stderr.write("")
        self.stdout.write(
            f"Triaged {len(records)} rows in {elapsed:.1f} s ({rate:.0f}/s) → {output}"
        )
