"""Per-class offsets that turn calibrated probabilities into macro-F1-friendly decisions.

A calibrated model answers "how likely is each class", and its most likely class maximises
accuracy, not macro-F1: rare classes (GoEmotions "anxious" is ~1.5 % of rows) lose most close
calls to frequent ones. Adding one log-offset per class before taking the best class moves
those close calls without retraining; the offsets are chosen on a held-out slice the model did
not learn from, by coordinate ascent on macro-F1. The returned probabilities are the
re-normalised shifted ones, so the reported confidence is the probability of the class that is
actually answered (check their calibration on the same held-out rows).
"""

from __future__ import annotations

import numpy as np

# Offsets are searched in [-LIMIT, LIMIT] (natural log: a factor of e^1.5 ~ 4.5 at most), in
# STEP increments, ROUNDS passes over the classes; larger ranges overfit a few thousand rows.
LIMIT = 1.5
STEP = 0.1
ROUNDS = 2


def shift(probabilities: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
    """Probabilities re-weighted by exp(offsets) and normalised again (no-op without offsets)."""
    if offsets is None:
        return probabilities
    weighted = probabilities * np.exp(offsets)[None, :]
    return weighted / weighted.sum(axis=1, keepdims=True)


def macro_f1(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Macro-F1 over classes present in `truth` or `predicted`, on integer class indices."""
    hits = np.bincount(truth[truth == predicted], minlength=n_classes)
    actual = np.bincount(truth, minlength=n_classes)
    guessed = np.bincount(predicted, minlength=n_classes)
    seen = (actual + guessed) > 0
    f1 = 2 * hits[seen] / (actual[seen] + guessed[seen])
    return float(f1.mean())


def fit_offsets(probabilities: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Log-offsets per class (mean zero) maximising macro-F1 of argmax(log p + offsets).

    `truth` holds column indices into `probabilities`. Ties keep the smaller change, so a
    class whose offset does not matter stays at zero."""
    n_classes = probabilities.shape[1]
    logs = np.log(np.clip(probabilities, 1e-12, 1.0))
    offsets = np.zeros(n_classes)
    best = macro_f1(truth, logs.argmax(axis=1), n_classes)
    grid = np.round(np.arange(-LIMIT, LIMIT + STEP / 2, STEP), 6)
    grid = grid[np.argsort(np.abs(grid), kind="stable")]  # try small changes first
    for _ in range(ROUNDS):
        for column in range(n_classes):
            for value in grid:
                trial = offsets.copy()
                trial[column] = value
                score = macro_f1(truth, (logs + trial).argmax(axis=1), n_classes)
                if score > best + 1e-9:
                    best, offsets = score, trial
    return offsets - offsets.mean()
