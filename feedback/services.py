"""Record every human decision on an AI output. Called explicitly by the deciding service."""

from __future__ import annotations

import difflib

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from feedback.models import FeedbackEvent, Rating
from supportdesk.models import Message

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
) -> FeedbackEvent:
    """Runs inside the caller's transaction. Exactly one of draft/triage/routing is judged."""
    if sum(x is not None for x in (draft, triage, routing)) != 1:
        raise ValueError("a feedback event judges exactly one AI output")
    return FeedbackEvent.objects.create(
        kind=kind,
        actor=actor,
        ticket=ticket,
        draft=draft,
        triage=triage,
        routing=routing,
        before=before or {},
        after=after or {},
        diff=diff,
        note=note,
    )


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
