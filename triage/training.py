"""Train the local models from labelled examples and keep their versions.

Category examples live in the database (imported files and agents' corrections). Emotion ships
trained from the bundled GoEmotions-derived file, plus agents' emotion corrections.
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings
from django.db import transaction

from triage.models import LabelledExample, ModelVersion
from triage.registry import model_signing_key

EMOTION_DATA = Path(__file__).resolve().parent / "data" / "emotion_examples.tsv"
TARGETS = ("category", "emotion")


def training_examples(target: str) -> list[tuple[str, str]]:
    rows = list(
        LabelledExample.objects.filter(target=target).order_by("pk").values_list("text", "label")
    )
    if target == "emotion":
        with EMOTION_DATA.open(encoding="utf-8", newline="") as handle:
            shipped = [(r[0], r[1]) for r in csv.reader(handle, delimiter="\t") if len(r) == 2]
        rows = shipped + rows
    return rows


def model_train(*, target: str, oos_label: str | None = None) -> ModelVersion | None:
    """Train a new version, store it, and make it active. None when there is nothing to learn."""
    from triage.engine import train_and_save

    examples = training_examples(target)
    if len({label for _, label in examples}) < 2:
        return None
    version, metrics = train_and_save(
        target, examples, settings.MODELS_DIR, oos_label=oos_label, key=model_signing_key()
    )
    with transaction.atomic():
        ModelVersion.objects.filter(target=target, is_active=True).update(is_active=False)
        return ModelVersion.objects.create(
            target=target,
            version=version,
            metrics=metrics,
            example_count=len(examples),
            is_active=True,
        )
