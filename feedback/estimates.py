"""The estimated satisfaction of a solved ticket: the conversation as the satisfaction engine
reads it, the stored estimate, and refitting the engine's weights from surveyed tickets."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.utils import timezone

from feedback.engine import satisfaction
from feedback.models import (
    FeedbackEvent,
    Rating,
    SatisfactionEstimate,
    SatisfactionModel,
)
from feedback.services import metrics_mark_stale
from supportdesk.llm.attempt import llm_attempt
from supportdesk.models import Message, Ticket

logger = logging.getLogger(__name__)

# Refitting reads at most this many of the newest surveyed tickets.
SATISFACTION_FIT_MAX_ROWS = 20_000


def satisfaction_weights() -> satisfaction.Weights:
    """The newest fitted weights, or the engine's priors while none were fitted."""
    fitted = SatisfactionModel.objects.order_by("-created_at", "-pk").first()
    if fitted is None:
        return satisfaction.PRIOR
    return satisfaction.Weights.from_json(fitted.weights, version=fitted.version)


def _hours(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max((later - earlier).total_seconds(), 0.0) / 3600


def satisfaction_conversation(ticket: Ticket) -> satisfaction.Conversation:
    """The ticket's conversation as the engine reads it: the counts over the whole ticket (one
    aggregate query), the latest turns with their triage emotions (one bounded query) and the
    follow-ups and takeovers (one grouped query)."""
    replies = Q(direction=Message.Direction.OUTBOUND) & ~Q(delivery_status=Message.Delivery.FAILED)
    inbound = Q(direction=Message.Direction.INBOUND)
    totals = Message.objects.filter(ticket=ticket).aggregate(
        customer=Count("pk", filter=inbound),
        replies=Count("pk", filter=replies),
        automatic=Count("pk", filter=replies & Q(automatic=True)),
        first_in=Min("created_at", filter=inbound),
        first_reply=Min("created_at", filter=replies),
    )
    latest = list(
        Message.objects.filter(ticket=ticket)
        .exclude(delivery_status=Message.Delivery.FAILED)
        .order_by("-created_at", "-pk")
        .values("direction", "body_text", "automatic", "created_at", "triage__emotion",
                "triage__emotion_intensity")[: satisfaction.MAX_TURNS]
    )  # fmt: skip
    latest.reverse()
    first_reply = totals["first_reply"]
    customer_messages, reply_turns, transcript = [], [], []
    for row in latest:
        if row["direction"] == Message.Direction.INBOUND:
            customer_messages.append(
                satisfaction.CustomerMessage(
                    text=row["body_text"],
                    emotion=row["triage__emotion"] or "",
                    intensity=row["triage__emotion_intensity"] or 0.0,
                    after_reply=first_reply is not None and row["created_at"] > first_reply,
                )
            )
            transcript.append(("customer", row["body_text"]))
        else:
            reply_turns.append(satisfaction.Reply(row["body_text"], row["automatic"]))
            transcript.append(("agent", row["body_text"]))
    kinds = dict(
        FeedbackEvent.objects.filter(
            ticket=ticket, kind__in=(FeedbackEvent.Kind.FOLLOW_UP, FeedbackEvent.Kind.TAKEOVER)
        )
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    solved_at = ticket.updated_at or timezone.now()  # the save that solved it touched it
    resolution = _hours(solved_at, ticket.created_at)
    if resolution is not None:
        resolution = max(resolution - ticket.sla_paused_for.total_seconds() / 3600, 0.0)
    return satisfaction.Conversation(
        customer_messages=customer_messages,
        replies=reply_turns,
        customer_message_count=totals["customer"],
        reply_count=totals["replies"],
        automatic_reply_count=totals["automatic"],
        reopen_count=ticket.reopen_count,
        follow_ups=kinds.get(FeedbackEvent.Kind.FOLLOW_UP, 0),
        takeovers=kinds.get(FeedbackEvent.Kind.TAKEOVER, 0),
        escalations=getattr(ticket, "escalation_count", 0),
        first_response_hours=_hours(first_reply, totals["first_in"]),
        resolution_hours=resolution,
        sla_breached=ticket.sla_state == "breached",
        transcript=transcript,
    )


def satisfaction_estimate(*, ticket_id: int) -> SatisfactionEstimate | None:
    """Estimate how satisfied the customer of the solved ticket `ticket_id` is, and store it
    (one per ticket: a ticket solved again gets its estimate updated). The language model
    answers when the installation uses it for reading customers' messages; the local model
    answers otherwise, and whenever the model's answer is unusable. None when the ticket is
    no longer solved (the customer wrote again before this ran), or was merged into another
    (its conversation went there).

    Runs outside any transaction: the language-model call must not hold a row lock, and the
    ledger rows are written in autocommit (supportdesk/llm/attempt.py)."""
    ticket = (
        Ticket.objects.select_related("customer")
        .annotate(escalation_count=Count("escalations"))
        .filter(pk=ticket_id, status=Ticket.Status.SOLVED, merged_into__isnull=True)
        .first()
    )
    if ticket is None:
        return None
    conversation = satisfaction_conversation(ticket)
    local = satisfaction.estimate(conversation, satisfaction_weights())
    customer_text = "\n".join(m.text for m in conversation.customer_messages)

    def ask(client, redactor, on_call):
        engine = satisfaction.LLMSatisfactionEngine(client)
        return engine.analyse(
            conversation, redactor=redactor, facts=local.features, on_call=on_call
        )

    attempt = llm_attempt(purpose="satisfaction", ticket=ticket, text=customer_text, call=ask)
    result = attempt.answer
    if result is None:
        note = f" · {attempt.fallback}" if attempt.fallback else ""
        result = replace(local, engine_version=f"{local.engine_version}{note}"[:120])
    return satisfaction_estimate_store(ticket_id=ticket.pk, result=result)


@transaction.atomic
def satisfaction_estimate_store(
    *, ticket_id: int, result: satisfaction.SatisfactionResult
) -> SatisfactionEstimate:
    """Keep the estimate of one ticket, replacing the one from an earlier solve."""
    now = timezone.now()
    fields = {
        "score": result.score,
        "probability": min(max(result.probability, 0.0), 1.0),
        "reasons": list(result.reasons),
        "engine": result.engine,
        "engine_version": result.engine_version[:120],
        "features": dict(result.features),
        "updated_at": now,
    }
    estimate, _ = SatisfactionEstimate.objects.update_or_create(
        ticket_id=ticket_id, defaults=fields, create_defaults={**fields, "created_at": now}
    )
    metrics_mark_stale(ticket_id=ticket_id)
    return estimate


def _latest_rating():
    return Subquery(
        Rating.objects.filter(ticket_id=OuterRef("ticket_id"))
        .order_by("-created_at", "-pk")
        .values("score")[:1]
    )


@transaction.atomic
def satisfaction_model_fit() -> SatisfactionModel | None:
    """Learn the local model's weights from the surveyed tickets (the latest rating on each,
    against the features kept with its estimate). None, and the weights stay as they are,
    while there are fewer than FIT_MIN_RATINGS of them or all in one class. One bounded query."""
    rows = list(
        SatisfactionEstimate.objects.annotate(surveyed=_latest_rating())
        .filter(surveyed__isnull=False)
        .order_by("-updated_at")
        .values_list("features", "surveyed")[:SATISFACTION_FIT_MAX_ROWS]
    )
    try:
        weights = satisfaction.fit(rows, version="fit")
    except satisfaction.NotEnoughRatings as exc:
        logger.info("satisfaction model not fitted: %s", exc)
        return None
    counts: dict[str, int] = {}
    for _, score in rows:
        counts[score] = counts.get(score, 0) + 1
    return SatisfactionModel.objects.create(
        weights=weights.as_json(), trained_on=len(rows), class_counts=counts
    )
