"""Reads of the metrics page: figures over a period, by week and by dimension, from the
precomputed `TicketMetrics` rows (feedback.metrics), and the tickets behind each figure.

Every page view is a constant number of grouped queries over the period's rows, served by the
(created_at) index; medians are the database's (feedback.aggregates.Median)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from feedback.aggregates import Median
from feedback.histogram import median, merged
from feedback.metrics import HISTOGRAMS, week_of
from feedback.models import MetricsRollup, TicketMetrics
from supportdesk.models import Category, Ticket

DIMENSIONS = {
    "category": _("Category"),
    "language": _("Language"),
    "channel": _("Channel"),
    "agent": _("Agent"),
}
PERIODS = (4, 12, 26, 52)  # weeks
# A computed report is kept this long at most (a newer state of the figures replaces it sooner).
REPORT_CACHE_SECONDS = 600
DEFAULT_WEEKS = 12

# The tickets behind each clickable figure.
MEASURES: dict[str, tuple] = {
    "tickets": (_("Tickets"), Q()),
    "replied": (_("Answered"), Q(replied=True)),
    "automated": (_("Answered automatically"), Q(automated=True)),
    "accepted": (_("Draft sent as written"), Q(drafts_accepted__gt=0)),
    "edited": (_("Draft edited, then sent"), Q(drafts_edited__gt=0)),
    "rejected": (_("Draft rejected"), Q(drafts_rejected__gt=0)),
    "csat_good": (_("Rated good"), Q(csat="good")),
    "csat_okay": (_("Rated okay"), Q(csat="okay")),
    "csat_bad": (_("Rated not good"), Q(csat="bad")),
    "estimated_good": (_("Estimated good"), Q(csat_estimated="good")),
    "estimated_bad": (_("Estimated not good"), Q(csat_estimated="bad")),
    "solved": (_("Solved"), Q(solved=True)),
    "sla_breached": (_("SLA breached"), Q(sla_applies=True, sla_breached=True)),
    "triage_corrected": (
        _("Triage corrected"),
        Q(triage_judged=True) & (Q(category_kept=False) | Q(emotion_kept=False)),
    ),
    "follow_ups": (_("Customer wrote again"), Q(follow_ups__gt=0)),
    "takeovers": (_("Taken over from an automatic reply"), Q(takeovers__gt=0)),
    "faq_gaps": (_("No good answer in the knowledge base"), Q(faq_gap=True)),
}


@dataclass(frozen=True)
class Figures:
    """One group's figures (the whole period, one week, or one dimension value)."""

    tickets: int = 0
    replied: int = 0
    automated: int = 0
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    edit_median: float | None = None
    first_response_median: float | None = None
    resolution_median: float | None = None
    solved: int = 0
    sla_applies: int = 0
    sla_breached: int = 0
    csat_good: int = 0
    csat_okay: int = 0
    csat_bad: int = 0
    estimated_good: int = 0
    estimated_okay: int = 0
    estimated_bad: int = 0
    both_rated: int = 0
    agreeing: int = 0
    triage_judged: int = 0
    category_kept: int = 0
    emotion_kept: int = 0
    triage_corrected: int = 0
    follow_ups: int = 0
    takeovers: int = 0
    faq_gaps: int = 0

    @staticmethod
    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def decided(self) -> int:
        return self.accepted + self.edited + self.rejected

    @property
    def automation_rate(self) -> float | None:
        return self.share(self.automated, self.replied)

    @property
    def accepted_rate(self) -> float | None:
        return self.share(self.accepted, self.decided)

    @property
    def edited_rate(self) -> float | None:
        return self.share(self.edited, self.decided)

    @property
    def rejected_rate(self) -> float | None:
        return self.share(self.rejected, self.decided)

    @property
    def rated(self) -> int:
        return self.csat_good + self.csat_okay + self.csat_bad

    @property
    def csat(self) -> float | None:
        """Surveyed CSAT: the share of ratings that were good."""
        return self.share(self.csat_good, self.rated)

    @property
    def estimated(self) -> int:
        return self.estimated_good + self.estimated_okay + self.estimated_bad

    @property
    def csat_estimated(self) -> float | None:
        return self.share(self.estimated_good, self.estimated)

    @property
    def agreement(self) -> float | None:
        """How often the estimate matched the customer's own rating, where there were both."""
        return self.share(self.agreeing, self.both_rated)

    @property
    def sla_attainment(self) -> float | None:
        return self.share(self.sla_applies - self.sla_breached, self.sla_applies)

    @property
    def category_accuracy(self) -> float | None:
        return self.share(self.category_kept, self.triage_judged)

    @property
    def emotion_accuracy(self) -> float | None:
        return self.share(self.emotion_kept, self.triage_judged)


def _aggregates() -> dict:
    def count(condition: Q) -> Count:
        return Count("pk", filter=condition)

    rated = ~Q(csat="") & ~Q(csat_estimated="")
    figures = {
        "tickets": Count("pk"),
        "replied": count(Q(replied=True)),
        "automated": count(Q(automated=True)),
        "accepted": Sum("drafts_accepted"),
        "edited": Sum("drafts_edited"),
        "rejected": Sum("drafts_rejected"),
        "edit_median": Median("edit_distance"),
        "first_response_median": Median("first_response_seconds"),
        "resolution_median": Median("resolution_seconds"),
        "solved": count(Q(solved=True)),
        "sla_applies": count(Q(sla_applies=True)),
        "sla_breached": count(Q(sla_applies=True, sla_breached=True)),
        "csat_good": count(Q(csat="good")),
        "csat_okay": count(Q(csat="okay")),
        "csat_bad": count(Q(csat="bad")),
        "estimated_good": count(Q(csat_estimated="good")),
        "estimated_okay": count(Q(csat_estimated="okay")),
        "estimated_bad": count(Q(csat_estimated="bad")),
        "both_rated": count(rated),
        "agreeing": count(rated & Q(csat=F("csat_estimated"))),
        "triage_judged": count(Q(triage_judged=True)),
        "category_kept": count(Q(category_kept=True)),
        "emotion_kept": count(Q(emotion_kept=True)),
        "triage_corrected": count(MEASURES["triage_corrected"][1]),
        "follow_ups": Sum("follow_ups"),
        "takeovers": Sum("takeovers"),
        "faq_gaps": count(Q(faq_gap=True)),
    }
    # Aliases apart from the columns they count ("csat" is both).
    return {f"m_{name}": aggregate for name, aggregate in figures.items()}


def _figures(row: dict) -> Figures:
    values = {k[2:]: v for k, v in row.items() if k.startswith("m_")}
    return Figures(**{k: v if "median" in k else (v or 0) for k, v in values.items()})


@dataclass(frozen=True)
class Filters:
    """What the page is narrowed to: the last `weeks` weeks and any dimension values."""

    weeks: int = DEFAULT_WEEKS
    category: str = ""
    language: str = ""
    channel: str = ""
    agent: int | None = None
    week: date | None = None  # one week only (a click on a chart's bar)

    def since(self, now: datetime) -> datetime:
        """The start of the first week shown: Monday 00:00 in the desk's time zone."""
        today = timezone.localtime(now).date()
        monday = today - timedelta(days=today.weekday()) - timedelta(weeks=self.weeks - 1)
        return timezone.make_aware(datetime.combine(monday, datetime.min.time()))

    def as_params(self) -> dict[str, str]:
        params = {"weeks": str(self.weeks)}
        for name in ("category", "language", "channel"):
            if getattr(self, name):
                params[name] = getattr(self, name)
        if self.agent is not None:
            params["agent"] = str(self.agent)
        if self.week is not None:
            params["week"] = self.week.isoformat()
        return params


def metrics_rows(filters: Filters, *, now: datetime | None = None) -> QuerySet[TicketMetrics]:
    """The precomputed rows of the tickets created in the period, narrowed by `filters`."""
    rows = TicketMetrics.objects.filter(created_at__gte=filters.since(now or timezone.now()))
    if filters.week is not None:
        rows = rows.filter(week=filters.week)
    for name in ("category", "language", "channel"):
        value = getattr(filters, name)
        if value:
            rows = rows.filter(**{name: "" if value == "-" else value})
    if filters.agent is not None:
        rows = rows.filter(agent_id=filters.agent or None)
    return rows


@dataclass(frozen=True)
class Group:
    key: str  # the filter value that narrows the page to this group ("-" for none)
    label: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    filters: Filters
    since: datetime
    total: Figures
    weeks: list[tuple[date, Figures]]
    by: dict[str, list[Group]] = field(default_factory=dict)
    as_of: datetime | None = None


def metrics_report(
    filters: Filters, *, dimension: str | None = None, now: datetime | None = None
) -> Report:
    """The page's figures: the period's total, each week's, and each dimension's groups, with
    all their figures for `dimension` (every dimension when None, as the CSV needs); the other
    dimensions' groups carry their ticket counts only (what the filters list).

    Read from the weekly rollups (three queries, whatever the number of tickets) when the page
    is narrowed by at most one dimension; narrowed by two or more, from the tickets' own rows
    with six grouped queries (the filters keep those few)."""
    now = now or timezone.now()
    # Every refresh of the figures replaces the rollups of the weeks it touched (new ids), so
    # the highest rollup id names the figures' state: a report computed for it stays right
    # until the sweep changes something.
    state = MetricsRollup.objects.aggregate(state=Max("pk"))["state"]
    parts = (
        state, filters, dimension, filters.since(now).date(), translation.get_language(),
        timezone.get_current_timezone_name(),
    )  # fmt: skip
    key = "metrics-report:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    report = cache.get(key)
    if report is None:
        report = _report(filters, dimension=dimension, now=now)
        cache.set(key, report, REPORT_CACHE_SECONDS)
    return report


def _report(filters: Filters, *, dimension: str | None, now: datetime) -> Report:
    narrowed = [name for name in DIMENSIONS if _filter_key(filters, name) is not None]
    if len(narrowed) <= 1 and filters.week is None:
        total, weeks, by = _from_rollups(filters, narrowed[0] if narrowed else "", dimension, now)
    else:
        total, weeks, by = _from_rows(filters, now)
    _name_groups(by)
    as_of = TicketMetrics.objects.aggregate(mark=Max("ticket_updated_at"))["mark"]
    return Report(filters=filters, since=filters.since(now), total=total, weeks=weeks, by=by,
                  as_of=as_of)  # fmt: skip


def _filter_key(filters: Filters, name: str) -> str | None:
    """The rollup key the page is narrowed to in dimension `name` ("" for none), or None."""
    if name == "agent":
        return None if filters.agent is None else (str(filters.agent) if filters.agent else "")
    value = getattr(filters, name)
    if not value:
        return None
    return "" if value == "-" else value


# The medians the tables show for a week or a group; the period's total has all of them.
TABLE_MEDIANS = ("edit_median", "first_response_median")


def _rollup_figures(entries: list[dict], medians=tuple(HISTOGRAMS)) -> Figures:
    counts: dict[str, int] = {}
    for entry in entries:
        for name, n in entry["n"].items():
            counts[name] = counts.get(name, 0) + n
    found = {
        name: median(merged(entry["h"].get(name, {}) for entry in entries)) for name in medians
    }
    return Figures(**counts, **found)


def _from_rollups(filters: Filters, narrowed: str, dimension: str | None, now: datetime):
    first = week_of(filters.since(now))
    weeks_shown = [first + timedelta(weeks=i) for i in range(filters.weeks)]
    period = MetricsRollup.objects.filter(week__gte=first, week__lte=weeks_shown[-1])
    if narrowed:
        key = _filter_key(filters, narrowed)
        total_rows = period.filter(dimension=narrowed, key=key, within="")
        group_rows = period.filter(
            Q(dimension=narrowed, key=key, within="") | Q(within=narrowed, within_key=key)
        )
    else:
        total_rows = period.filter(dimension="", within="")
        group_rows = period.filter(within="").exclude(dimension="")
    per_week = dict(total_rows.values_list("week", "figures"))
    total = _rollup_figures(list(per_week.values()))
    weeks = [
        (week, _rollup_figures([per_week[week]] if week in per_week else [], TABLE_MEDIANS))
        for week in weeks_shown
    ]
    # Every group's ticket count, summed in the database (no figures decoded).
    counts = group_rows.order_by().values("dimension", "key").annotate(total=Sum("tickets"))
    tickets = {(row["dimension"], row["key"]): row["total"] or 0 for row in counts}
    full: dict[tuple[str, str], list[dict]] = {}
    wanted = group_rows if dimension is None else group_rows.filter(dimension=dimension)
    medians = tuple(HISTOGRAMS) if dimension is None else TABLE_MEDIANS
    for name, key, figures in wanted.values_list("dimension", "key", "figures"):
        full.setdefault((name, key), []).append(figures)
    by: dict[str, list[Group]] = {}
    for name in DIMENSIONS:
        found = [
            Group(
                key=key or "-",
                label=key,
                figures=_rollup_figures(full[(d, key)], medians)
                if (d, key) in full
                else Figures(tickets=n),
            )  # fmt: skip
            for (d, key), n in tickets.items()
            if d == name
        ]
        found.sort(key=lambda g: (-g.figures.tickets, g.key))
        by[name] = found[:50]
    return total, weeks, by


def _from_rows(filters: Filters, now: datetime):
    rows = metrics_rows(filters, now=now)
    aggregates = _aggregates()
    total = _figures(rows.aggregate(**aggregates))
    weekly = rows.order_by().values("week").annotate(**aggregates)
    by_week = {row["week"]: _figures(row) for row in weekly}
    first = week_of(filters.since(now))
    weeks = [
        (first + timedelta(weeks=i), by_week.get(first + timedelta(weeks=i), Figures()))
        for i in range(filters.weeks)
    ]
    by = {}
    for name in DIMENSIONS:
        column = "agent_id" if name == "agent" else name
        grouped = (
            rows.order_by()
            .values(column)
            .annotate(**aggregates)
            .order_by("-m_tickets", column)[:50]
        )
        by[name] = [
            Group(
                key="-" if row[column] in ("", None) else str(row[column]),
                label=str(row[column] or ""),
                figures=_figures(row),
            )
            for row in grouped
        ]
    return total, weeks, by


def _name_groups(by: dict[str, list[Group]]) -> None:
    """Readable names for the groups: category names, agent usernames, channel names."""
    slugs = [g.key for g in by["category"] if g.key != "-"]
    names = dict(Category.objects.filter(slug__in=slugs).values_list("slug", "name"))
    agent_ids = [int(g.key) for g in by["agent"] if g.key != "-"]
    users = dict(get_user_model().objects.filter(pk__in=agent_ids).values_list("pk", "username"))
    channels = dict(Ticket.Channel.choices)
    none = {
        "category": _("No category"),
        "language": _("Unknown"),
        "channel": _("Unknown"),
        "agent": _("No agent (automatic or unassigned)"),
    }
    label_of = {
        "category": lambda key: names.get(key, key),
        "language": lambda key: key,
        "channel": lambda key: str(channels.get(key, key)),
        "agent": lambda key: users.get(int(key), key),
    }
    for name, groups in by.items():
        by[name] = [
            Group(g.key, str(none[name]) if g.key == "-" else label_of[name](g.key), g.figures)
            for g in groups
        ]


def metrics_tickets(filters: Filters, *, measure: str, now: datetime | None = None):
    """The tickets behind one figure, newest first, with what the list shows of each."""
    label, condition = MEASURES[measure]
    return (
        metrics_rows(filters, now=now)
        .filter(condition)
        .select_related("ticket__customer", "agent")
        .order_by("-created_at", "-ticket_id")
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TicketsPage:
    rows: list[TicketMetrics]
    # How many tickets the whole list holds; None when the figure counts drafts or events
    # (several per ticket) and the list runs over more than one page.
    count: int | None
    newer: str  # the cursor of the page of newer tickets; "" on the newest page
    older: str  # the cursor of the page of older tickets; "" on the oldest page


# The figures that add up a number per ticket (drafts, events), not the tickets themselves.
SUMMED_MEASURES = frozenset({"accepted", "edited", "rejected", "follow_ups", "takeovers"})


def _cursor(row: TicketMetrics) -> str:
    return f"{(row.created_at - _EPOCH) // timedelta(microseconds=1)}-{row.ticket_id}"


def _parse_cursor(value: str) -> tuple[datetime, int] | None:
    micros, _, ticket_id = value.partition("-")
    if not (micros.isdigit() and ticket_id.isdigit()):
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(ticket_id)


def metrics_tickets_page(
    filters: Filters,
    *,
    measure: str,
    before: str = "",
    after: str = "",
    size: int = 50,
    now: datetime | None = None,
) -> TicketsPage:
    """One page of the tickets behind a figure: the newest, or those just older than the
    `before` cursor, or just newer than the `after` cursor (links carry the cursors, not page
    numbers, so a page reads its rows from the created_at index wherever it is in the list).
    How many tickets the list holds is the figure the list was opened from, read from the
    report (the weekly rollups, cached for the page that links here), not counted again over
    the period, which would cost more the busier the desk; a figure of none reads no rows.
    A figure that adds up drafts or events says how many tickets only when they fit a page."""
    now = now or timezone.now()
    figure = getattr(metrics_report(filters, dimension="category", now=now).total, measure)
    if not figure:
        return TicketsPage([], 0, "", "")
    counted = None if measure in SUMMED_MEASURES else figure
    rows = metrics_tickets(filters, measure=measure, now=now)
    newer_than = _parse_cursor(after) if after else None
    older_than = _parse_cursor(before) if before and not newer_than else None
    if newer_than is not None:
        at, ticket_id = newer_than
        # The bound on created_at alone is what lets the index start at the cursor.
        newer_rows = rows.filter(
            Q(created_at__gte=at) & (Q(created_at__gt=at) | Q(ticket_id__gt=ticket_id))
        )
        found = list(newer_rows.order_by("created_at", "ticket_id")[: size + 1])
        page = found[:size][::-1]
        newer = _cursor(page[0]) if len(found) > size else ""
        older = _cursor(page[-1]) if page else after  # the rows it came from are older
        return TicketsPage(page, counted, newer, older)
    if older_than is not None:
        at, ticket_id = older_than
        rows = rows.filter(
            Q(created_at__lte=at) & (Q(created_at__lt=at) | Q(ticket_id__lt=ticket_id))
        )
    found = list(rows[: size + 1])
    page = found[:size]
    older = _cursor(page[-1]) if len(found) > size else ""
    newer = "" if older_than is None else (_cursor(page[0]) if page else before)
    if counted is None and not older and older_than is None:
        counted = len(page)
    return TicketsPage(page, counted, newer, older)
