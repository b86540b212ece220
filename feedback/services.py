"""Record every human decision on an AI output. Called explicitly by the deciding service."""

from __future__ import annotations

import difflib

from django.contrib.auth.models import AbstractBaseUser

from feedback.models import FeedbackEvent


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
