"""Background tasks of the feedback room. They take plain arguments and call services."""

from __future__ import annotations

import logging

from feedback.estimates import satisfaction_estimate as satisfaction_estimate_service
from feedback.estimates import satisfaction_model_fit
from feedback.metrics import metrics_sweep as metrics_sweep_service
from feedback.services import edit_suggestions_refresh as edit_suggestions_service

logger = logging.getLogger(__name__)


def metrics_sweep() -> None:
    """Runs every minute: the metrics page's figures of tickets that changed."""
    metrics_sweep_service()


def satisfaction_estimate(ticket_id: int) -> None:
    """A ticket was solved: estimate how satisfied its customer is."""
    try:
        satisfaction_estimate_service(ticket_id=ticket_id)
    except Exception:  # a missing estimate never turns solving a ticket into an error
        logger.exception("satisfaction estimate failed for ticket %s", ticket_id)


def satisfaction_refit() -> None:
    """Daily: the local satisfaction model learns from the surveyed ratings."""
    satisfaction_model_fit()


def edit_suggestions_refresh() -> None:
    """Runs every few minutes: the suggestions page's suggestions from repeated edits."""
    edit_suggestions_service()
