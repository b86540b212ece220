"""Background tasks for triage. They take plain arguments and call services."""

from __future__ import annotations

from triage.services import sla_check as sla_check_service
from triage.training import model_train


def retrain_models(target: str = "category") -> None:
    model_train(target=target)


def sla_check() -> None:
    """Runs every minute (django-q2 schedule or Celery beat): SLA at-risk and breach states."""
    sla_check_service()
