"""Classifier scores that become probabilities by temperature scaling (a linear SVM here).

One parameter (the temperature) cannot overfit a small held-out slice and keeps the SVM's
ranking; the caller fits it on scores the SVM did not train on (`fit_temperature`), then refits
the SVM on all rows and keeps the temperature. That costs two SVM fits instead of the six that
cross-validated calibration needs, which is what keeps Banking77-sized training under a minute.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC

# Log-spaced candidates: SVM margins live roughly in [-2, 2], so useful temperatures are small.
TEMPERATURES = np.geomspace(0.01, 5.0, 120)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, truth: np.ndarray, default: float = 1.0) -> float:
    """The temperature (of TEMPERATURES) that minimises log-loss of `scores` against the class
    indices `truth`, on rows the scoring model did not learn from; `default` when no rows."""
    if not len(truth):
        return default
    rows = np.arange(len(truth))
    losses = [
        -np.log(np.clip(softmax(scores, float(t))[rows, truth], 1e-12, 1)).mean()
        for t in TEMPERATURES
    ]
    return float(TEMPERATURES[int(np.argmin(losses))])


class TemperatureMixin:
    """Probabilities = softmax(scores / temperature) for a classifier with `scores(X)`,
    `classes_` and a `temperature` attribute."""

    classes_: np.ndarray
    temperature: float

    def scores(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def fit_temperature(self, X: Any, y: Any) -> float:
        """Choose the temperature that minimises log-loss on (X, y), rows the model did not
        learn from."""
        scores = self.scores(X)
        index = {label: i for i, label in enumerate(self.classes_)}
        known = np.array([label in index for label in y])
        columns = np.array([index[label] for label in np.asarray(y)[known]], dtype=int)
        self.temperature = fit_temperature(scores[known], columns, default=self.temperature)
        return self.temperature

    def predict_proba(self, X: Any) -> np.ndarray:
        return softmax(self.scores(X), self.temperature)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.scores(X).argmax(axis=1)]


class TemperatureSVC(TemperatureMixin, BaseEstimator, ClassifierMixin):
    def __init__(self, *, C: float = 1.0, temperature: float = 0.1, seed: int = 0) -> None:
        self.C = C
        self.temperature = temperature
        self.seed = seed

    def fit(self, X: Any, y: Any) -> TemperatureSVC:
        self.svc_ = LinearSVC(C=self.C, random_state=self.seed).fit(X, y)
        self.classes_ = self.svc_.classes_
        return self

    def scores(self, X: Any) -> np.ndarray:
        raw = self.svc_.decision_function(X)
        return np.column_stack([-raw, raw]) if raw.ndim == 1 else raw
