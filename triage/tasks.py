"""Background tasks for triage. They take plain arguments and call services."""

from __future__ import annotations

from triage.escalations import escalation_notify as escalation_notify_service
from triage.services import threshold_suggestions_refresh as threshold_suggestions_service
from triage.sla_timers import sla_check as sla_check_service
from triage.training import answer_model_refresh, default_oos_label, model_train
from triage.waiting import waiting_tickets_hand_out


def retrain_models(target: str = "category") -> None:
    """After RETRAIN_EVERY agents' corrections of `target` ("category" or "emotion"): train a new
    version, promoted only if it reads agents' held-back corrections at least as well."""
    model_train(target=target, oos_label=default_oos_label(target))


def answers_refresh() -> None:
    """Runs every few minutes: the answer model learns newly published articles."""
    answer_model_refresh()


def sla_check() -> None:
    """Runs every minute (django-q2 schedule or Celery beat): SLA at-risk and breach states."""
    sla_check_service()


def escalation_notify(escalation_id: int) -> None:
    """E-mail the on-duty supervisors about one high-urgency escalation."""
    escalation_notify_service(escalation_id=escalation_id)


def assign_waiting(user_id: int | None = None) -> None:
    """Tickets that waited for an agent: after `user_id` came online, and every minute."""
    waiting_tickets_hand_out(user_id=user_id)


def threshold_suggestions_refresh() -> None:
    """Runs every few minutes: the suggestions page's routing threshold suggestions."""
    threshold_suggestions_service()
