"""Emotion of a customer message: an English model plus a multilingual lexicon.

The model is trained on English Reddit comments (GoEmotions mapped to the product emotions),
so it is trusted on English only. For other languages a lexicon cue, when present, decides;
otherwise the model's guess is kept with its confidence discounted, because n-grams learnt from
English carry little over to, say, Japanese.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from .lexicon import find_emotion_cues
from .model import Example, TrainedModel, expected_calibration_error, text_features
from .terms import language_family
from .types import EMOTIONS

NON_ENGLISH_DISCOUNT = 0.5
# Char n-grams beyond this many add training time, not accuracy (checked on the dev split).
CHAR_MAX_FEATURES = 100_000


@dataclass(frozen=True)
class EmotionPrediction:
    emotion: str  # one of EMOTIONS
    confidence: float
    source: str  # "model" | "lexicon" | "none"
    cues: tuple[str, ...] = ()


def load_emotion_examples(path: Path) -> list[Example]:
    """Read a `text<TAB>emotion` file (header optional); unknown emotions are skipped."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        return [(r[0], r[1]) for r in rows if len(r) == 2 and r[0] and r[1] in EMOTIONS]


def _classifier(seed: int) -> LogisticRegression:
    # Balanced weights: "anxious" is ~1.5 % of GoEmotions and would never be predicted.
    # warm_start lets the refit on all rows start from the held-out fit's solution.
    return LogisticRegression(
        C=1.0, class_weight="balanced", max_iter=1000, random_state=seed, warm_start=True
    )


def train_emotion_model(
    examples: Sequence[Example], *, seed: int = 0, holdout: float = 0.1
) -> TrainedModel:
    """Train on (text, emotion) pairs; with `holdout` > 0 the metrics come from a held-out
    slice and the model is then refitted on everything.

    The fit is the slow part (tens of seconds on the full GoEmotions file), so the vocabulary
    is learnt once from all texts (no labels involved) and the refit continues from the
    held-out fit's weights instead of starting over; that roughly halves training time.
    """
    rows = [(t, e) for t, e in examples if t.strip() and e in EMOTIONS]
    labels = sorted({e for _, e in rows})
    if len(labels) < 2:
        raise ValueError("need examples of at least two emotions")
    texts = [t for t, _ in rows]
    targets = np.asarray([e for _, e in rows])
    features = text_features(char_max_features=CHAR_MAX_FEATURES, min_df=2)
    matrix = features.fit_transform(texts)
    classifier = _classifier(seed)
    model = TrainedModel(
        target="emotion",
        pipeline=Pipeline([("features", features), ("classify", classifier)]),
        labels=tuple(labels),
    )
    if holdout > 0 and len(rows) * holdout >= 2 * len(labels):
        train_rows, held_rows = train_test_split(
            np.arange(len(rows)), test_size=holdout, stratify=targets, random_state=seed
        )
        classifier.fit(matrix[train_rows], targets[train_rows])
        held = [(texts[i], str(targets[i])) for i in held_rows]
        model.metrics = evaluate_emotion_model(model, held)
    classifier.fit(matrix, targets)
    classifier.warm_start = False
    model.metrics |= {"examples": float(len(rows))}
    return model


def evaluate_emotion_model(model: TrainedModel, examples: Sequence[Example]) -> dict[str, float]:
    """Model-only accuracy, macro-F1 and ECE (the lexicon is not involved)."""
    texts = [t for t, _ in examples]
    truth = np.asarray([e for _, e in examples])
    probabilities = model.pipeline.predict_proba(texts)
    predicted = model.pipeline.classes_[probabilities.argmax(axis=1)]
    return {
        "heldout": float(len(examples)),
        "accuracy": float((predicted == truth).mean()),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "ece": expected_calibration_error(probabilities, predicted == truth),
    }


def predict_emotion(model: TrainedModel | None, text: str, *, language: str) -> EmotionPrediction:
    """Emotion of `text` written in `language` (BCP 47)."""
    english = language_family(language) == "en"
    hit = None if english else find_emotion_cues(text, language)
    if hit is not None:
        return EmotionPrediction(hit.emotion, hit.confidence, "lexicon", hit.cues)
    if model is None or not text.strip():
        return EmotionPrediction("neutral", 0.0, "none")
    prediction = model.predict(text)
    confidence = prediction.confidence if english else prediction.confidence * NON_ENGLISH_DISCOUNT
    return EmotionPrediction(prediction.label, confidence, "model")
