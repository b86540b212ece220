"""Train the local models from labelled examples and keep their versions.

Category examples live in the database (imported files and agents' corrections). Emotion ships
trained from the bundled GoEmotions-derived file, plus agents' emotion corrections.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
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


# The held-out score each target is judged by when deciding whether to promote a new version.
PROMOTION_METRIC = {"category": "accuracy", "emotion": "macro_f1"}


def should_promote(
    *, target: str, new_metrics: dict, new_labels: set[str], active: ModelVersion | None
) -> tuple[bool, str]:
    """A new version replaces the active one only if it scores at least as well on its held-out
    slice, unless the label set changed (a new taxonomy cannot be compared with the old)."""
    if active is None:
        return True, "no active model"
    if set(active.metrics.get("labels", [])) != new_labels:
        return True, "the set of labels changed"
    metric = PROMOTION_METRIC[target]
    new, old = new_metrics.get(metric, 0.0), active.metrics.get(metric, 0.0)
    if new >= old:
        return True, f"{metric} {new:.4f} ≥ {old:.4f}"
    return False, f"{metric} {new:.4f} < active {old:.4f}"


def model_train(
    *,
    target: str,
    oos_label: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ModelVersion | None:
    """Train a new version and store it; promote it if `should_promote` says so. None when
    there is nothing to learn. The returned row's `is_active` and `metrics["promotion"]` tell
    what happened.

    `progress(done, total)` reports the one-time embedding of examples not embedded before
    (stored under MODELS_DIR/embeddings; the shipped emotion rows come with their vectors)."""
    from triage.engine import set_active, train_and_save

    examples = training_examples(target)
    labels = {label for _, label in examples}
    if len(labels) < 2:
        return None
    version, metrics = train_and_save(
        target,
        examples,
        settings.MODELS_DIR,
        oos_label=oos_label,
        key=model_signing_key(),
        progress=progress,
        activate=False,
    )
    with transaction.atomic():
        active = (
            ModelVersion.objects.select_for_update().filter(target=target, is_active=True).first()
        )
        promote, why = should_promote(
            target=target, new_metrics=metrics, new_labels=labels, active=active
        )
        if promote:
            ModelVersion.objects.filter(target=target, is_active=True).update(is_active=False)
            set_active(Path(settings.MODELS_DIR) / target, version)
        return ModelVersion.objects.create(
            target=target,
            version=version,
            metrics={**metrics, "labels": sorted(labels), "promotion": why},
            example_count=len(examples),
            is_active=promote,
        )
