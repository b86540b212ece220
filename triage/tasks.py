"""Background tasks for triage. They take plain arguments and call services."""

from __future__ import annotations

from triage.training import model_train


def retrain_models(target: str = "category") -> None:
    model_train(target=target)
