"""The metrics page for supervisors and admins: figures, charts, the tickets behind each
figure, a CSV download, and "update now" for the precomputed figures."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from feedback.charts import Chart, polyline, share_lines, stacked_bars
from feedback.forms import MetricsFilterForm
from feedback.metrics import BATCH, metrics_sweep
from feedback.reports import (
    DEFAULT_WEEKS,
    DIMENSIONS,
    MEASURES,
    Figures,
    Filters,
    Report,
    metrics_report,
    metrics_tickets_page,
)
from supportdesk import words
from supportdesk.models import Category

PAGE_SIZE = 50


def supervisor_view(view):
    return login_required(permission_required("supportdesk.supervise", raise_exception=True)(view))


def _filters(request: HttpRequest) -> tuple[MetricsFilterForm, Filters, str]:
    query = request.GET.copy()
    # The period select shows the period the figures cover, also before anyone chose one.
    query.setdefault("weeks", str(DEFAULT_WEEKS))
    form = MetricsFilterForm(query)
    data = form.cleaned_data if form.is_valid() else {}
    filters = Filters(
        weeks=data.get("weeks") or DEFAULT_WEEKS,
        category=data.get("category") or "",
        language=data.get("language") or "",
        channel=data.get("channel") or "",
        agent=data.get("agent"),
        week=data.get("week"),
    )
    return form, filters, data.get("measure") or ""


def _link(name: str, filters: Filters, **extra) -> str:
    params = filters.as_params()
    params.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
    return f"{reverse(name)}?{urlencode(params)}"


def _charts(report: Report) -> dict:
    weeks = [week for week, _figures in report.weeks]
    figures = [f for _week, f in report.weeks]
    # Each bar's link name and tooltip: what it counts, which week, how many.
    bar_label = _("{name}, week of {week}: {value}")
    volume = stacked_bars(
        weeks,
        [
            ("automated", "bar-auto", _("answered automatically"), [f.automated for f in figures]),
            (
                "replied",
                "bar-human",
                _("answered by a person"),
                [f.replied - f.automated for f in figures],
            ),
            (
                "tickets",
                "bar-open",
                _("not answered yet"),
                [f.tickets - f.replied for f in figures],
            ),
        ],
        label=bar_label,
    )
    drafts = stacked_bars(
        weeks,
        [
            ("accepted", "bar-accepted", _("sent as written"), [f.accepted for f in figures]),
            ("edited", "bar-edited", _("edited"), [f.edited for f in figures]),
            ("rejected", "bar-rejected", _("rejected"), [f.rejected for f in figures]),
        ],
        label=bar_label,
    )
    satisfaction = share_lines(
        weeks,
        {
            "surveyed": [f.csat for f in figures],
            "estimated": [f.csat_estimated for f in figures],
        },
    )
    return {
        "volume": volume,
        "drafts": drafts,
        "satisfaction": satisfaction,
        "satisfaction_paths": {k: polyline(v) for k, v in satisfaction.lines.items()},
    }


# The tables' columns after the row's name: the figure a cell links to ("" for none) and how
# its value reads.
TABLE_CELLS = (
    ("tickets", lambda f: number_format(f.tickets, force_grouping=True)),
    ("automated", lambda f: words.share(f.automation_rate)),
    ("accepted", lambda f: words.share(f.accepted_rate)),
    ("edited", lambda f: words.share(f.edited_rate)),
    ("rejected", lambda f: words.share(f.rejected_rate)),
    ("", lambda f: "—" if f.edit_median is None else str(round(f.edit_median))),
    ("csat_good", lambda f: words.share(f.csat)),
    ("estimated_good", lambda f: words.share(f.csat_estimated)),
    ("replied", lambda f: words.duration(f.first_response_median)),
    ("sla_breached", lambda f: words.share(f.sla_attainment)),
    ("triage_corrected", lambda f: words.share(f.category_accuracy)),
    ("follow_ups", lambda f: number_format(f.follow_ups, force_grouping=True)),
    ("takeovers", lambda f: number_format(f.takeovers, force_grouping=True)),
    ("faq_gaps", lambda f: number_format(f.faq_gaps, force_grouping=True)),
)


def _cells(figures: Figures, link: str) -> SafeString:
    """One table row's cells, each linking to the tickets behind it. Rendered here rather
    than by the template engine: a year by week is 750 cells."""
    cells = []
    for measure, text in TABLE_CELLS:
        if measure:
            cells.append(
                format_html('<td><a href="{}&measure={}">{}</a></td>', link, measure, text(figures))
            )
        else:
            cells.append(format_html("<td>{}</td>", text(figures)))
    return mark_safe("".join(cells))  # every part escaped by format_html


def bars_svg(chart: Chart, link: str) -> SafeString:
    """A bar chart's bars as SVG, each a link to its week's tickets (rendered here: a year of
    three stacked series is 150 links)."""
    return format_html_join(
        "",
        '<a href="{}&week={}&measure={}" aria-label="{}"><rect x="{}" y="{}" '
        'width="{}" height="{}" class="{}"><title>{}</title></rect></a>',
        (
            (link, bar.week.isoformat(), bar.measure, bar.label, f"{bar.x:.1f}", f"{bar.y:.1f}",
             f"{bar.width:.1f}", f"{bar.height:.1f}", bar.css, bar.label)
            for bar in chart.bars
        ),
    )  # fmt: skip


@supervisor_view
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    form, filters, _measure = _filters(request)
    dimension = request.GET.get("by", "category")
    if dimension not in DIMENSIONS:
        dimension = "category"
    report = metrics_report(filters, dimension=dimension)
    base = f"{reverse('metrics-tickets')}?{urlencode(filters.as_params())}"
    group_rows = [
        (group.label, _cells(group.figures, f"{base}&{urlencode({dimension: group.key})}"))
        for group in report.by[dimension]
    ]
    week_rows = [(week, _cells(f, f"{base}&week={week.isoformat()}")) for week, f in report.weeks]
    charts = _charts(report)
    charts["volume_bars"] = bars_svg(charts["volume"], base)
    charts["drafts_bars"] = bars_svg(charts["drafts"], base)
    context = {
        "form": form,
        "filters": filters,
        "report": report,
        "charts": charts,
        "dimensions": DIMENSIONS,
        "dimension": dimension,
        "group_rows": group_rows,
        "week_rows": week_rows,
        "query": urlencode(filters.as_params()),
        "csv_url": _link("metrics-csv", filters),
    }
    return render(request, "feedback/metrics.html", context)


@supervisor_view
@require_GET
def metrics_ticket_list(request: HttpRequest) -> HttpResponse:
    form, filters, measure = _filters(request)
    if measure not in MEASURES:
        raise Http404(_("There is no such figure."))
    page = metrics_tickets_page(
        filters,
        measure=measure,
        before=request.GET.get("before", ""),
        after=request.GET.get("after", ""),
        size=PAGE_SIZE,
    )
    slugs = {row.category for row in page.rows if row.category}
    category_names = dict(Category.objects.filter(slug__in=slugs).values_list("slug", "name"))
    context = {
        "filters": filters,
        "measure": measure,
        "measure_label": MEASURES[measure][0],
        "category_names": category_names,
        "page": page,
        "query": urlencode({**filters.as_params(), "measure": measure}),
        "back": _link("metrics", filters),
    }
    return render(request, "feedback/metrics_tickets.html", context)


CSV_COLUMNS = (
    ("tickets", lambda f: f.tickets),
    ("answered", lambda f: f.replied),
    ("answered_automatically", lambda f: f.automated),
    ("automation_rate", lambda f: f.automation_rate),
    ("drafts_sent_as_written", lambda f: f.accepted),
    ("drafts_edited", lambda f: f.edited),
    ("drafts_rejected", lambda f: f.rejected),
    ("acceptance_rate", lambda f: f.accepted_rate),
    ("median_edit_distance", lambda f: f.edit_median),
    ("median_first_response_seconds", lambda f: f.first_response_median),
    ("median_resolution_seconds", lambda f: f.resolution_median),
    ("sla_attainment", lambda f: f.sla_attainment),
    ("rated_good", lambda f: f.csat_good),
    ("rated_okay", lambda f: f.csat_okay),
    ("rated_bad", lambda f: f.csat_bad),
    ("csat_surveyed", lambda f: f.csat),
    ("csat_estimated", lambda f: f.csat_estimated),
    ("estimate_agreement", lambda f: f.agreement),
    ("category_accuracy", lambda f: f.category_accuracy),
    ("emotion_accuracy", lambda f: f.emotion_accuracy),
    ("triage_corrected", lambda f: f.triage_corrected),
    ("follow_ups", lambda f: f.follow_ups),
    ("takeovers", lambda f: f.takeovers),
    ("faq_gaps", lambda f: f.faq_gaps),
)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


@supervisor_view
@require_GET
def metrics_csv(request: HttpRequest) -> HttpResponse:
    """The page's figures as CSV: the period, each week, and each group of each dimension."""
    _form, filters, _measure = _filters(request)
    report = metrics_report(filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="supportdesk-metrics-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(["group", "key", "label", *(name for name, _get in CSV_COLUMNS)])

    def row(group: str, key: str, label: str, figures: Figures) -> None:
        writer.writerow([group, key, label, *(_csv_value(get(figures)) for _n, get in CSV_COLUMNS)])

    row("period", f"{report.since.date().isoformat()}", "all", report.total)
    for week, figures in report.weeks:
        row("week", week.isoformat(), week.isoformat(), figures)
    for name, groups in report.by.items():
        for group in groups:
            row(name, group.key, group.label, group.figures)
    return response


@supervisor_view
@require_POST
def metrics_update(request: HttpRequest) -> HttpResponse:
    """Bring the figures up to date now instead of at the next minute's sweep (bounded)."""
    metrics_sweep(limit=BATCH * 4)
    target = request.POST.get("next", "")
    if not target.startswith(reverse("metrics")):
        target = reverse("metrics")
    return redirect(target)
