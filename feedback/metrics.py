"""The metrics page's precomputed figures: one `TicketMetrics` row per ticket.

A ticket's figures come from six tables (the ticket, its replies, the outcomes of its AI
decisions, ratings, follow-ups and takeovers). Computing them for every page view would make
the page grow with the desk; instead the sweep (a periodic task, every minute) recomputes the
rows of tickets that changed since it last ran (`Ticket.updated_at`, indexed) and of those
marked stale by a judgement that does not touch the ticket row (`metrics_mark_stale`). Rows are
computed a batch at a time with a constant number of grouped queries per batch.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from feedback.histogram import bucket
from feedback.models import (
    FeedbackEvent,
    MetricsRollup,
    Outcome,
    Rating,
    SatisfactionEstimate,
    TicketMetrics,
)
from supportdesk.models import Message, Ticket

BATCH = 500
# One sweep refreshes at most this many tickets; the next run goes on from where it stopped.
SWEEP_LIMIT = 20_000
# A ticket saved just before the last sweep may commit just after it: look back this far.
OVERLAP = timedelta(minutes=5)

_FIELDS = [f.name for f in TicketMetrics._meta.get_fields() if f.concrete and f.name != "ticket"]


@transaction.atomic
def ticket_metrics_refresh(*, ticket_ids: list[int]) -> set[date]:
    """Compute the figures of up to BATCH tickets again and store them. Returns the weeks
    they belong to, whose rollups are then out of date."""
    ids = list(ticket_ids)[:BATCH]
    tickets = list(
        Ticket.objects.filter(pk__in=ids).values(
            "pk", "created_at", "category__slug", "language", "channel", "assignee_id",
            "status", "solved_at", "first_response_due_at", "sla_state", "updated_at",
        )
    )  # fmt: skip
    if not tickets:
        return set()
    replies = {
        row["ticket_id"]: row
        for row in Message.objects.filter(ticket_id__in=ids, direction=Message.Direction.OUTBOUND)
        .exclude(delivery_status=Message.Delivery.FAILED)
        .order_by()
        .values("ticket_id")
        .annotate(
            first=Min("created_at"),
            auto=Count("pk", filter=Q(automatic=True)),
            human=Count("pk", filter=Q(automatic=False)),
        )
    }
    outcomes: dict[int, list[dict]] = defaultdict(list)
    for row in Outcome.objects.filter(ticket_id__in=ids).values(
        "ticket_id", "decision", "verdict", "edit_distance", "reason", "changed", "kb_gap"
    ):
        outcomes[row["ticket_id"]].append(row)
    ratings: dict[int, str] = {}
    for ticket_id, score in (
        Rating.objects.filter(ticket_id__in=ids)
        .order_by("created_at", "pk")
        .values_list("ticket_id", "score")
    ):
        ratings[ticket_id] = score  # the latest stands
    estimated = _estimates(ids)
    events: dict[tuple[int, str], int] = {
        (row["ticket_id"], row["kind"]): row["n"]
        for row in FeedbackEvent.objects.filter(
            ticket_id__in=ids,
            kind__in=(FeedbackEvent.Kind.FOLLOW_UP, FeedbackEvent.Kind.TAKEOVER),
        )
        .order_by()
        .values("ticket_id", "kind")
        .annotate(n=Count("pk"))
    }
    now = timezone.now()
    rows = [
        _figures(t, replies.get(t["pk"]), outcomes[t["pk"]], ratings, estimated, events, now)
        for t in tickets
    ]
    TicketMetrics.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["ticket"], update_fields=_FIELDS
    )
    return {row.week for row in rows}


def _estimates(ids: list[int]) -> dict[int, str]:
    """Estimated satisfaction per ticket, where the desk has estimated it."""
    return dict(
        SatisfactionEstimate.objects.filter(ticket_id__in=ids).values_list("ticket_id", "score")
    )


def week_of(moment) -> date:
    """The Monday of `moment`'s week in the desk's time zone."""
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def _seconds(start, end) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds()))


def _figures(ticket, replies, outcomes, ratings, estimated, events, now) -> TicketMetrics:
    pk = ticket["pk"]
    drafts = [o for o in outcomes if o["decision"] in ("draft", "auto_send")]
    verdicts = [o["verdict"] for o in drafts]
    edited = [o["edit_distance"] or 0 for o in drafts if o["verdict"] == "edited"]
    triage = [o for o in outcomes if o["decision"] == "triage" and o["verdict"] != "pending"]
    changed = {label for o in triage if o["verdict"] == "overridden" for label in o["changed"]}
    auto = replies["auto"] if replies else 0
    human = replies["human"] if replies else 0
    takeovers = events.get((pk, FeedbackEvent.Kind.TAKEOVER), 0)
    solved = ticket["status"] == Ticket.Status.SOLVED
    return TicketMetrics(
        ticket_id=pk,
        created_at=ticket["created_at"],
        week=week_of(ticket["created_at"]),
        category=ticket["category__slug"] or "",
        language=ticket["language"] or "",
        channel=ticket["channel"],
        agent_id=ticket["assignee_id"],
        replied=bool(replies),
        automated=auto > 0 and human == 0 and not takeovers,
        drafts_accepted=verdicts.count("accepted"),
        drafts_edited=verdicts.count("edited"),
        drafts_rejected=verdicts.count("rejected") + verdicts.count("overridden"),
        auto_sent=sum(1 for o in drafts if o["decision"] == "auto_send"),
        edit_distance=sum(edited) if edited else None,
        edit_reasons=sorted({o["reason"] for o in drafts if o["reason"]}),
        first_response_seconds=_seconds(
            ticket["created_at"], replies["first"] if replies else None
        ),
        resolution_seconds=_seconds(ticket["created_at"], ticket["solved_at"]) if solved else None,
        solved=solved,
        sla_applies=ticket["first_response_due_at"] is not None,
        sla_breached=ticket["sla_state"] == "breached",
        triage_judged=bool(triage),
        category_kept=bool(triage) and "category" not in changed,
        emotion_kept=bool(triage) and "emotion" not in changed,
        csat=ratings.get(pk, ""),
        csat_estimated=estimated.get(pk, "") if solved else "",
        follow_ups=events.get((pk, FeedbackEvent.Kind.FOLLOW_UP), 0),
        takeovers=takeovers,
        faq_gap=any(o["kb_gap"] for o in drafts),
        ticket_updated_at=ticket["updated_at"],
        stale=False,
        refreshed_at=now,
    )


def metrics_sweep(*, limit: int = SWEEP_LIMIT) -> int:
    """Refresh the figures of tickets changed since the last sweep, and of stale rows, oldest
    change first, at most `limit`; then the rollups of the weeks they belong to. Returns how
    many ticket rows were refreshed."""
    mark = TicketMetrics.objects.aggregate(mark=Max("ticket_updated_at"))["mark"]
    # Tickets changed since their figures were computed: past the watermark (less the
    # overlap), and not already computed at their current updated_at, so that a burst of more
    # than `limit` changes inside the overlap still moves on.
    up_to_date = TicketMetrics.objects.filter(
        ticket_id=OuterRef("pk"), ticket_updated_at=OuterRef("updated_at")
    )
    changed = Ticket.objects.filter(~Exists(up_to_date)).order_by("updated_at", "pk")
    if mark is not None:
        changed = changed.filter(updated_at__gte=mark - OVERLAP)
    ids = list(changed.values_list("pk", flat=True)[:limit])
    stale = TicketMetrics.objects.filter(stale=True).values_list("ticket_id", flat=True)
    seen = set(ids)
    ids += [pk for pk in stale[: max(0, limit - len(ids))] if pk not in seen]
    weeks: set[date] = set()
    for start in range(0, len(ids), BATCH):
        weeks |= ticket_metrics_refresh(ticket_ids=ids[start : start + BATCH])
    for week in sorted(weeks):
        metrics_rollup_week(week=week)
    return len(ids)


# The dimensions a rollup groups by, and the TicketMetrics column of each.
DIMENSIONS = {"category": "category", "language": "language", "channel": "channel",
              "agent": "agent_id"}  # fmt: skip
# Per-ticket columns kept as histograms (for medians), by their name in the figures.
HISTOGRAMS = {
    "edit_median": "edit_distance",
    "first_response_median": "first_response_seconds",
    "resolution_median": "resolution_seconds",
}
_COLUMNS = [
    "replied", "automated", "drafts_accepted", "drafts_edited", "drafts_rejected", "solved",
    "sla_applies", "sla_breached", "csat", "csat_estimated", "triage_judged", "category_kept",
    "emotion_kept", "follow_ups", "takeovers", "faq_gap", *DIMENSIONS.values(),
    *HISTOGRAMS.values(),
]  # fmt: skip


def ticket_counts(row: dict) -> dict[str, int]:
    """What one ticket adds to each count of the metrics page (feedback.reports.Figures)."""
    both = bool(row["csat"]) and bool(row["csat_estimated"])
    judged = row["triage_judged"]
    return {
        "tickets": 1,
        "replied": int(row["replied"]),
        "automated": int(row["automated"]),
        "accepted": row["drafts_accepted"],
        "edited": row["drafts_edited"],
        "rejected": row["drafts_rejected"],
        "solved": int(row["solved"]),
        "sla_applies": int(row["sla_applies"]),
        "sla_breached": int(row["sla_applies"] and row["sla_breached"]),
        "csat_good": int(row["csat"] == "good"),
        "csat_okay": int(row["csat"] == "okay"),
        "csat_bad": int(row["csat"] == "bad"),
        "estimated_good": int(row["csat_estimated"] == "good"),
        "estimated_okay": int(row["csat_estimated"] == "okay"),
        "estimated_bad": int(row["csat_estimated"] == "bad"),
        "both_rated": int(both),
        "agreeing": int(both and row["csat"] == row["csat_estimated"]),
        "triage_judged": int(judged),
        "category_kept": int(row["category_kept"]),
        "emotion_kept": int(row["emotion_kept"]),
        "triage_corrected": int(judged and not (row["category_kept"] and row["emotion_kept"])),
        "follow_ups": row["follow_ups"],
        "takeovers": row["takeovers"],
        "faq_gaps": int(row["faq_gap"]),
    }


@transaction.atomic
def metrics_rollup_week(*, week: date) -> int:
    """Sum one week's ticket figures into its rollups: the whole desk, each dimension's values,
    and each value within each value of another dimension. Replaces the week's rows."""
    groups: dict[tuple[str, str, str, str], dict] = {}

    def add(group: tuple[str, str, str, str], counts: dict, values: dict) -> None:
        entry = groups.get(group)
        if entry is None:
            entry = groups[group] = {"n": Counter(), "h": {n: Counter() for n in HISTOGRAMS}}
        entry["n"].update(counts)
        for name, column in HISTOGRAMS.items():
            if values[column] is not None:
                entry["h"][name][bucket(values[column])] += 1

    for row in TicketMetrics.objects.filter(week=week).values(*_COLUMNS).iterator(2000):
        counts = ticket_counts(row)
        keys = {d: "" if row[c] in (None, "") else str(row[c]) for d, c in DIMENSIONS.items()}
        add(("", "", "", ""), counts, row)
        for dimension, key in keys.items():
            add((dimension, key, "", ""), counts, row)
            for within, within_key in keys.items():
                if within != dimension:
                    add((dimension, key, within, within_key), counts, row)
    MetricsRollup.objects.filter(week=week).delete()
    MetricsRollup.objects.bulk_create(
        [
            MetricsRollup(
                week=week,
                dimension=d,
                key=k,
                tickets=e["n"]["tickets"],
                within=w,
                within_key=wk,
                figures={
                    "n": dict(e["n"]),
                    "h": {n: {str(b): c for b, c in h.items()} for n, h in e["h"].items()},
                },
            )  # fmt: skip
            for (d, k, w, wk), e in groups.items()
        ],
        batch_size=1000,
    )
    return len(groups)
