"""Background tasks for feedback. They take ids and call services."""

from __future__ import annotations

import logging

from feedback.services import satisfaction_estimate as satisfaction_estimate_service
from feedback.services import satisfaction_model_fit

logger = logging.getLogger(__name__)


def satisfaction_estimate(ticket_id: int) -> None:
    """A ticket was solved: estimate how satisfied its customer is."""
    try:
        satisfaction_estimate_service(ticket_id=ticket_id)
    except Exception:  # a missing estimate never turns solving a ticket into an error
        logger.exception("satisfaction estimate failed for ticket %s", ticket_id)


def satisfaction_refit() -> None:
    """Daily: the local satisfaction model learns from the surveyed ratings."""
    satisfaction_model_fit()
