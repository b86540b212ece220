"""Reads of agents' decisions on AI output."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Count, OuterRef, Subquery

from feedback.models import FeedbackEvent, Rating, SatisfactionEstimate, SuggestionSnapshot
from feedback.services import OUTCOME_APPROVED, OUTCOME_AUTO, OUTCOME_EDITED
from feedback.suggestions import Evidence, Suggestion
from supportdesk.models import Message, Ticket

# Decisions that show an agent looked at a ticket's triage: they acted on its draft, or
# corrected the labels.
_LOOKED = (
    FeedbackEvent.Kind.DRAFT_APPROVED,
    FeedbackEvent.Kind.DRAFT_EDITED,
    FeedbackEvent.Kind.ESCALATED,
    FeedbackEvent.Kind.TRIAGE_CORRECTED,
)


@dataclass(frozen=True)
class Agreement:
    kept: int  # tickets whose label the agent left as the AI gave it
    judged: int  # tickets an agent looked at

    @property
    def share(self) -> float:
        return self.kept / self.judged if self.judged else 0.0


def triage_agreement(*, last: int = 200) -> dict[str, Agreement]:
    """Of the last `last` tickets agents acted on, how many kept the AI's category and emotion:
    the accuracy of triage as the people who correct it see it. One bounded query."""
    events = (
        FeedbackEvent.objects.filter(kind__in=_LOOKED)
        .order_by("-created_at")
        .values_list("ticket_id", "kind", "before", "after")[: last * 4]
    )
    judged: set[int] = set()
    changed: dict[str, set[int]] = {"category": set(), "emotion": set()}
    for ticket_id, kind, before, after in events:
        if ticket_id not in judged and len(judged) >= last:
            continue
        judged.add(ticket_id)
        if kind == FeedbackEvent.Kind.TRIAGE_CORRECTED:
            for label, tickets in changed.items():
                if (before or {}).get(label) != (after or {}).get(label):
                    tickets.add(ticket_id)
    return {
        label: Agreement(kept=len(judged - tickets), judged=len(judged))
        for label, tickets in changed.items()
    }


FOLLOW_UP_KINDS = (FeedbackEvent.Kind.FOLLOW_UP, FeedbackEvent.Kind.TAKEOVER)


def follow_up_counts(*, since: datetime) -> dict[str, dict[str, int]]:
    """Follow-ups and takeovers since `since`, by how the reply they count against was sent
    from its draft: ``{"follow_up": {"approved": n, "edited": n, "auto": n}, "takeover": …}``.
    One grouped query, served by the (kind, created_at) index."""
    counts = {
        kind: dict.fromkeys((OUTCOME_APPROVED, OUTCOME_EDITED, OUTCOME_AUTO), 0)
        for kind in FOLLOW_UP_KINDS
    }
    rows = (
        FeedbackEvent.objects.filter(kind__in=FOLLOW_UP_KINDS, created_at__gte=since)
        .order_by()
        .values("kind", "before__outcome")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        by_outcome = counts[row["kind"]]
        outcome = row["before__outcome"]
        by_outcome[outcome] = by_outcome.get(outcome, 0) + row["n"]
    return counts


def rated_message(*, message_id: int) -> Message | None:
    """The outbound message a rating link names, with its ticket (for the customer's language)
    and its rating, if any (``message.rating`` raises ``Rating.DoesNotExist`` without one)."""
    return (
        Message.objects.filter(pk=message_id, direction=Message.Direction.OUTBOUND)
        .select_related("ticket", "rating")
        .first()
    )


@dataclass(frozen=True)
class SatisfactionAgreement:
    """How often the estimate said what the customer said in the survey."""

    count: int  # solved tickets with both a surveyed rating and an estimate
    exact: float  # share where the two scores are the same
    good_vs_not: float  # share where both say "good", or both say it was not
    # confusion[surveyed][estimated] = tickets, over Rating.Score in order (good, okay, bad)
    confusion: dict[str, dict[str, int]]


def satisfaction_agreement(*, since: datetime) -> SatisfactionAgreement:
    """Of the solved tickets estimated since `since` that the customer also rated (the latest
    rating on the ticket counts), how often the estimate agrees with the survey. One grouped
    query: the estimates come by the period index, each ticket's latest rating by its ticket."""
    latest = (
        Rating.objects.filter(ticket_id=OuterRef("ticket_id"))
        .order_by("-created_at", "-pk")
        .values("score")[:1]
    )
    rows = (
        SatisfactionEstimate.objects.filter(
            updated_at__gte=since, ticket__status=Ticket.Status.SOLVED
        )
        .annotate(surveyed=Subquery(latest))
        .filter(surveyed__isnull=False)
        .order_by()
        .values_list("surveyed", "score")
        .annotate(n=Count("pk"))
    )
    scores = Rating.Score.values
    confusion = {surveyed: dict.fromkeys(scores, 0) for surveyed in scores}
    for surveyed, estimated, n in rows:
        confusion[surveyed][estimated] += n
    count = sum(sum(row.values()) for row in confusion.values())
    exact = sum(confusion[s][s] for s in scores)
    good = Rating.Score.GOOD
    same_side = sum(
        n
        for surveyed, row in confusion.items()
        for estimated, n in row.items()
        if (surveyed == good) == (estimated == good)
    )
    return SatisfactionAgreement(
        count=count,
        exact=exact / count if count else 0.0,
        good_vs_not=same_side / count if count else 0.0,
        confusion=confusion,
    )


@dataclass(frozen=True)
class StoredSuggestions:
    suggestions: list[Suggestion]  # without the events behind them: `with_evidence()`
    computed_at: datetime
    evidence_json: str

    def with_evidence(self) -> list[Suggestion]:
        evidence = json.loads(self.evidence_json)
        return [
            replace(s, evidence=tuple(Evidence.from_json(e) for e in rows))
            for s, rows in zip(self.suggestions, evidence, strict=True)
        ]


def suggestion_snapshots() -> dict[str, StoredSuggestions]:
    """The stored suggestions per source (SuggestionSnapshot.Source) that have been computed.
    One query, whatever the volume of feedback behind them."""
    return {
        snapshot.source: StoredSuggestions(
            [Suggestion.from_json(data) for data in snapshot.suggestions],
            snapshot.computed_at,
            snapshot.evidence,
        )
        for snapshot in SuggestionSnapshot.objects.all()
    }
