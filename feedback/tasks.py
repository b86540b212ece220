"""Background tasks of the feedback room. They take plain arguments and call services."""

from __future__ import annotations

from feedback.metrics import metrics_sweep as metrics_sweep_service


def metrics_sweep() -> None:
    """Runs every minute: the metrics page's figures of tickets that changed."""
    metrics_sweep_service()
