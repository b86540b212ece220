"""Record every human decision on an AI output. Called explicitly by the deciding service."""

from __future__ import annotations

import difflib
import json
import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from feedback.models import (
    FeedbackEvent,
    Outcome,
    Rating,
    SuggestionSnapshot,
    TicketMetrics,
)
from feedback.suggestions import Suggestion, edit_suggestions
from supportdesk.models import Message

logger = logging.getLogger(__name__)

# How a reply was sent from its draft, as the follow-up counts group it.
OUTCOME_APPROVED, OUTCOME_EDITED, OUTCOME_AUTO = "approved", "edited", "auto"

# Longer comments are cut, not refused: the customer has already said what mattered most.
RATING_COMMENT_MAX_CHARS = 2000


def text_diff(before: str, after: str) -> str:
    """A unified diff by line, readable in the admin and usable as training signal."""
    return "\n".join(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "draft", "sent", lineterm="", n=1
        )
    )


def feedback_record(
    *,
    kind: str,
    actor: AbstractBaseUser | None,
    ticket,
    draft=None,
    triage=None,
    routing=None,
    before: dict | None = None,
    after: dict | None = None,
    diff: str = "",
    note: str = "",
    reason: str = "",
    automatic: bool = False,
) -> FeedbackEvent:
    """Runs inside the caller's transaction. Exactly one of draft/triage/routing is judged.
    Also settles the outcome of the decision it judges (`outcome_settle`); `automatic` says the
    auto-send account sent the draft, which is no person's judgement of it."""
    if sum(x is not None for x in (draft, triage, routing)) != 1:
        raise ValueError("a feedback event judges exactly one AI output")
    event = FeedbackEvent.objects.create(
        kind=kind,
        actor=actor,
        ticket=ticket,
        draft=draft,
        triage=triage,
        routing=routing,
        before=before or {},
        after=after or {},
        diff=diff,
        reason=reason,
        note=note,
    )
    outcome_settle(event=event, automatic=automatic)
    return event


def outcome_open(*, ticket, triage=None, routing=None, draft=None, kb_gap: bool = False) -> None:
    """Runs inside the caller's transaction, as the AI decision is stored: its outcome record,
    pending until someone judges it. A second call for the same decision changes nothing.
    `kb_gap`: the draft answers a question the knowledge base had no good answer for.

    One `INSERT … ON CONFLICT DO NOTHING` (each decision's column is unique), not a read, a
    savepoint and an insert: the pipeline opens three outcomes for every message."""
    if triage is not None:
        outcome = Outcome(decision=Outcome.Decision.TRIAGE, ticket=ticket, triage=triage)
    elif routing is not None:
        outcome = Outcome(decision=Outcome.Decision.ROUTE, ticket=ticket, routing=routing)
    elif draft is not None:
        outcome = Outcome(
            decision=Outcome.Decision.DRAFT, ticket=ticket, draft=draft, kb_gap=kb_gap
        )
    else:
        raise ValueError("an outcome records exactly one AI decision")
    Outcome.objects.bulk_create([outcome], ignore_conflicts=True)


def edit_distance(before: str, after: str) -> int:
    """Characters inserted plus characters deleted to turn the draft into the reply sent."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    return len(before) + len(after) - 2 * kept


# Feedback kinds that overrule a decision, by the decision they overrule.
_ROUTE_OVERRIDES = {k.value for k in FeedbackEvent.ROUTING_OVERRIDES}
# A person acting on a draft (approving, editing or escalating it) saw the ticket's triage and
# route: unless they overrule them, they accepted them.
_ACTED = {
    FeedbackEvent.Kind.DRAFT_APPROVED,
    FeedbackEvent.Kind.DRAFT_EDITED,
    FeedbackEvent.Kind.ESCALATED,
}


def outcome_settle(*, event: FeedbackEvent, automatic: bool = False) -> None:
    """Runs inside the caller's transaction: the verdict `event` gives on the outcomes it
    judges. An override always wins; an acceptance never replaces a verdict already given."""
    kind, now = event.kind, event.created_at
    settled = {"actor_id": event.actor_id, "event": event, "decided_at": now}
    Kind, Verdict = FeedbackEvent.Kind, Outcome.Verdict
    if event.draft_id is not None:
        drafts = Outcome.objects.filter(draft_id=event.draft_id)
        if kind == Kind.DRAFT_APPROVED and automatic:
            drafts.update(
                decision=Outcome.Decision.AUTO_SEND,
                verdict=Verdict.ACCEPTED,
                event=event,
                decided_at=now,
            )
        elif kind == Kind.DRAFT_APPROVED:
            drafts.update(verdict=Verdict.ACCEPTED, **settled)
        elif kind == Kind.DRAFT_EDITED:
            drafts.update(
                verdict=Verdict.EDITED,
                reason=event.reason,
                edit_distance=edit_distance(
                    event.before.get("text", ""), event.after.get("text", "")
                ),
                **settled,
            )
        elif kind == Kind.ESCALATED:
            drafts.update(verdict=Verdict.REJECTED, **settled)
        elif kind == Kind.TAKEOVER:
            drafts.update(verdict=Verdict.OVERRIDDEN, **settled)
    if event.triage_id is not None and kind == Kind.TRIAGE_CORRECTED:
        changed = [
            label
            for label in ("category", "emotion", "urgency")
            if event.before.get(label) != event.after.get(label)
        ]
        Outcome.objects.filter(triage_id=event.triage_id).update(
            verdict=Verdict.OVERRIDDEN, changed=changed, **settled
        )
    if event.routing_id is not None and kind in _ROUTE_OVERRIDES:
        Outcome.objects.filter(routing_id=event.routing_id).update(
            verdict=Verdict.OVERRIDDEN, **settled
        )
    if kind in _ACTED and not automatic:
        # Escalating a draft says nothing for the route that brought it (it may have been the
        # wrong one); approving or editing it accepts both.
        accepted = (Outcome.Decision.TRIAGE,)
        if kind != Kind.ESCALATED:
            accepted += (Outcome.Decision.ROUTE,)
        Outcome.objects.filter(
            ticket_id=event.ticket_id, decision__in=accepted, verdict=Verdict.PENDING
        ).update(verdict=Verdict.ACCEPTED, **settled)
    metrics_mark_stale(ticket_id=event.ticket_id)


def outcome_drafts_rejected(*, draft_ids: list[int], actor: AbstractBaseUser | None) -> None:
    """Runs inside the caller's transaction: proposed drafts a person set aside (they wrote the
    reply themselves, or asked for the draft again) were rejected."""
    if not draft_ids:
        return
    Outcome.objects.filter(draft_id__in=draft_ids, verdict=Outcome.Verdict.PENDING).update(
        verdict=Outcome.Verdict.REJECTED, actor=actor, decided_at=timezone.now()
    )


def metrics_mark_stale(*, ticket_id: int) -> None:
    """A judgement of the ticket came in that may not touch the ticket row (a rating, a
    feedback event): the metrics sweep computes its figures again."""
    TicketMetrics.objects.filter(ticket_id=ticket_id, stale=False).update(stale=True)


def _reply_before(message: Message) -> Message | None:
    """The last reply on the ticket before `message` that did not fail to go out, with the
    draft it was sent from (``reply.sent_draft`` raises without one)."""
    return (
        Message.objects.filter(
            ticket_id=message.ticket_id,
            direction=Message.Direction.OUTBOUND,
            created_at__lte=message.created_at,
        )
        .exclude(pk=message.pk)
        .exclude(delivery_status=Message.Delivery.FAILED)
        .select_related("sent_draft")
        .order_by("-created_at", "-pk")
        .first()
    )


def _reply_outcome(reply: Message, draft) -> str:
    if reply.automatic:
        return OUTCOME_AUTO
    edited = FeedbackEvent.objects.filter(draft=draft, kind=FeedbackEvent.Kind.DRAFT_EDITED)
    return OUTCOME_EDITED if edited.exists() else OUTCOME_APPROVED


def _reply_sent_at(reply: Message) -> datetime:
    return reply.sent_at or reply.created_at


@transaction.atomic
def follow_up_record(*, message_id: int) -> FeedbackEvent | None:
    """The customer's message `message_id` reopened a solved ticket: when the last reply before
    it went out at most ``FOLLOW_UP_DAYS`` earlier, record one follow-up against the draft that
    reply was sent from. A reply a person wrote without a draft judges no AI output, so it gets
    none. Safe to call again for the same message: the stored event comes back."""
    message = Message.objects.get(pk=message_id)
    if message.direction != Message.Direction.INBOUND or not message.reopened:
        return None
    reply = _reply_before(message)
    draft = getattr(reply, "sent_draft", None) if reply is not None else None
    if draft is None:
        return None
    sent_at = _reply_sent_at(reply)
    later = message.created_at - sent_at
    if later.total_seconds() > settings.FOLLOW_UP_DAYS * 86400:
        return None
    days = round(later.total_seconds() / 86400, 1)
    # The unique (kind, message) pair decides between two runs of the pipeline on one message.
    event, created = FeedbackEvent.objects.get_or_create(
        kind=FeedbackEvent.Kind.FOLLOW_UP,
        message=message,
        defaults={
            "actor": None,
            "ticket_id": message.ticket_id,
            "draft": draft,
            "before": {
                "message_id": reply.pk,
                "sent_at": sent_at.isoformat(),
                "outcome": _reply_outcome(reply, draft),
            },
            "after": {"message_id": message.pk, "days_later": days},
            "note": f"Customer wrote again (message {message.pk}) {days} days after "
            f"reply {reply.pk} and the ticket was solved",
        },
    )
    if created:
        outcome_settle(event=event)
    return event


def takeover_record(*, reply: Message) -> FeedbackEvent | None:
    """Runs inside the caller's transaction with the ticket row locked, after the person's
    `reply` is stored. When the reply before it was automatic, the person took the ticket over
    from auto-send: record one takeover against the automatic reply's draft. The auto-send
    account wrote every automatic reply, so its own next reply is no takeover."""
    previous = _reply_before(reply)
    if (
        previous is None
        or not previous.automatic
        or previous.author_user_id == reply.author_user_id
    ):
        return None
    draft = getattr(previous, "sent_draft", None)
    if draft is None:
        return None
    sent_at = _reply_sent_at(previous)
    event, created = FeedbackEvent.objects.get_or_create(
        kind=FeedbackEvent.Kind.TAKEOVER,
        message=reply,
        defaults={
            "actor_id": reply.author_user_id,
            "ticket_id": reply.ticket_id,
            "draft": draft,
            "before": {
                "message_id": previous.pk,
                "sent_at": sent_at.isoformat(),
                "outcome": OUTCOME_AUTO,
            },
            "after": {"message_id": reply.pk, "text": reply.body_text},
            "note": f"Reply {reply.pk} took over after automatic reply {previous.pk}",
        },
    )
    if created:
        outcome_settle(event=event)
    return event


class RatingRefused(Exception):
    """The link names no outbound message (it was deleted, or never was one)."""


@transaction.atomic
def rating_record(*, message_id: int, score: str) -> tuple[Rating, bool]:
    """Record a customer's rating of one reply. The first rating stands: a later one (another
    score's link, a second click, a concurrent one) returns the stored rating and ``False``.

    The rating names the draft the reply was sent from, when there was one, so it counts for
    that AI output and, through the draft, for the triage and routing behind it."""
    message = (
        Message.objects.filter(pk=message_id, direction=Message.Direction.OUTBOUND)
        .select_related("sent_draft")
        .first()
    )
    if message is None:
        raise RatingRefused(f"no outbound message {message_id}")
    metrics_mark_stale(ticket_id=message.ticket_id)
    # The unique message column decides between concurrent first clicks; get_or_create takes
    # the row the other one stored.
    return Rating.objects.get_or_create(
        message=message,
        defaults={
            "ticket_id": message.ticket_id,
            "draft": getattr(message, "sent_draft", None),
            "score": score,
        },
    )


@transaction.atomic
def rating_comment_add(*, message_id: int, comment: str) -> tuple[Rating | None, bool]:
    """Add the customer's comment to their rating of one reply, once: a rating that already
    has a comment keeps it and ``False`` comes back. ``(None, False)`` when the reply has not
    been rated. Locks the rating row."""
    rating = Rating.objects.select_for_update().filter(message_id=message_id).first()
    text = comment.strip()[:RATING_COMMENT_MAX_CHARS]
    if rating is None or rating.comment or not text:
        return rating, False
    rating.comment = text
    rating.commented_at = timezone.now()
    rating.save(update_fields=["comment", "commented_at"])
    return rating, True


def suggestion_snapshot_save(
    *, source: str, suggestions: list[Suggestion], computed_at: datetime
) -> SuggestionSnapshot:
    """Store `source`'s latest suggestions (SuggestionSnapshot.Source), replacing the previous."""
    evidence = [[e.as_json() for e in s.evidence] for s in suggestions]
    snapshot, _ = SuggestionSnapshot.objects.update_or_create(
        source=source,
        defaults={
            "suggestions": [s.as_json() for s in suggestions],
            "evidence": json.dumps(evidence),
            "computed_at": computed_at,
        },
    )
    return snapshot


def edit_suggestions_refresh() -> SuggestionSnapshot:
    """Recompute the suggestions from repeated edits and store them for the suggestions page."""
    computed_at = timezone.now()
    return suggestion_snapshot_save(
        source=SuggestionSnapshot.Source.EDITS,
        suggestions=edit_suggestions(now=computed_at),
        computed_at=computed_at,
    )
