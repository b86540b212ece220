"""What a trained text classifier is, independent of what it classifies.

The category and emotion models share this shape so that `store` can save either and
`local` can run either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .decision import shift
from .features import text_features  # noqa: F401  (re-exported: part of this module's API)

Example = tuple[str, str]  # (text, label)
COMBINER_FLOOR = 1e-4


@dataclass(frozen=True)
class Prediction:
    label: str  # best label that is not the explicit out-of-scope class
    confidence: float  # calibrated probability of `label`
    out_of_scope: bool = False
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainedModel:
    """A fitted scikit-learn pipeline plus what is needed to interpret its output."""

    target: str  # "category" | "emotion"
    pipeline: Any  # sklearn Pipeline ending in a classifier with predict_proba
    labels: tuple[str, ...]
    oos_label: str | None = None
    # Inputs whose best probability falls below this are out of scope (0 disables it).
    oos_threshold: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    version: str = ""  # set by the store when saved or loaded
    # Optional second pipeline over sentence embeddings only (same classes). It reads any
    # language the embedder reads, so it alone answers for non-English text; for English its
    # probabilities are mixed in with weight 1 - `blend`.
    crosslingual: Any = None
    blend: float = 1.0
    # Optional learnt combination of the two readings for English: a classifier over
    # `combiner_features(main, crosslingual)`, fitted on out-of-fold probabilities. Without
    # one, the fixed `blend` applies.
    combiner: Any = None
    # Per-class log-offsets applied to the main reading before the best class is taken
    # (`decision.shift`); None leaves the calibrated probabilities as they are.
    offsets: Any = None
    # Emotion only: the support-desk reading that decides when present (emotion.SupportReading).
    support: Any = None

    def probabilities(self, texts: Sequence[str], *, cross_lingual: bool = False) -> np.ndarray:
        texts = list(texts)
        if self.crosslingual is None:
            return shift(self.pipeline.predict_proba(texts), self.offsets)
        other = self.crosslingual.predict_proba(texts)
        if cross_lingual or self.blend <= 0:
            return other
        main = self.pipeline.predict_proba(texts)
        if self.combiner is not None:
            mixed = self.combiner.predict_proba(combiner_features(main, other))
        else:
            mixed = self.blend * main + (1 - self.blend) * other
        return shift(mixed, self.offsets)

    def predict_many(
        self, texts: Sequence[str], *, cross_lingual: bool = False
    ) -> list[Prediction]:
        if not texts:
            return []
        probabilities = self.probabilities(texts, cross_lingual=cross_lingual)
        return [self._interpret(row) for row in probabilities]

    def predict(self, text: str, *, cross_lingual: bool = False) -> Prediction:
        return self.predict_many([text], cross_lingual=cross_lingual)[0]

    def _interpret(self, row: np.ndarray) -> Prediction:
        classes = [str(c) for c in self.pipeline.classes_]
        scores = {label: float(p) for label, p in zip(classes, row, strict=True)}
        in_scope = {k: v for k, v in scores.items() if k != self.oos_label}
        label = max(in_scope, key=in_scope.__getitem__)
        top = max(scores, key=scores.__getitem__)
        out_of_scope = (self.oos_label is not None and top == self.oos_label) or scores[
            top
        ] < self.oos_threshold
        return Prediction(
            label=label,
            confidence=in_scope[label],
            out_of_scope=out_of_scope,
            scores=scores,
        )


def combiner_features(*probabilities: np.ndarray) -> np.ndarray:
    """Log-probabilities of several models side by side, floored so that one model's certainty
    cannot outvote the others without bound."""
    return np.hstack([np.log(np.clip(p, COMBINER_FLOOR, 1.0)) for p in probabilities])


def expected_calibration_error(
    probabilities: np.ndarray, predicted_correct: np.ndarray, bins: int = 10
) -> float:
    """Top-label ECE over equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            gap = abs(predicted_correct[in_bin].mean() - confidence[in_bin].mean())
            total += in_bin.mean() * gap
    return float(total)


def label_counts(labels: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return counts
