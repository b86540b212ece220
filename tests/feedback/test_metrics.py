"""The metrics page: what supervisors read about the AI's work, computed from the precomputed
per-ticket figures, each figure linking to its tickets; the CSV carries the same figures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.metrics import metrics_rollup_week, metrics_sweep
from feedback.models import TicketMetrics
from feedback.reports import Filters, metrics_report
from feedback.services import rating_record
from replies.services import draft_create, draft_send
from supportdesk.models import Message, Ticket
from supportdesk.services import ticket_solve
from tests.factories import MessageFactory, TicketFactory
from triage.services import triage_correct, triage_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(demo_kb, stub_triage, agent):
    """Three tickets this week: one draft approved, one edited for tone, one not answered."""
    stub_triage(category="delivery", category_confidence=0.93, emotion="neutral", urgency="low")

    def ticket(subject: str, body: str, language: str = "en") -> tuple[Ticket, object]:
        t = TicketFactory(subject=subject, status=Ticket.Status.NEW, language=language)
        m = MessageFactory(ticket=t, body_text=body)
        triage_message(message_id=m.pk)
        return t, draft_create(message_id=m.pk)

    approved, d1 = ticket("Where is my parcel?", "How can I track my parcel?")
    edited, d2 = ticket("Tracking", "Where do I find the tracking number?")
    waiting, _ = ticket("Parcel", "My parcel did not arrive.")
    draft_send(draft_id=d1.pk, actor=agent)
    sent = draft_send(draft_id=d2.pk, actor=agent, text=d2.text + "\nWarm regards!", reason="tone")
    ticket_solve(ticket_id=approved.pk)
    triage_correct(
        ticket_id=edited.pk, actor=agent, category="delivery", emotion="anxious", urgency="low"
    )
    rating_record(message_id=sent.pk, score="bad")
    metrics_sweep()
    return {"approved": approved, "edited": edited, "waiting": waiting}


def test_the_report_counts_what_people_did_with_the_ai(desk):
    f = metrics_report(Filters()).total

    assert (f.tickets, f.replied, f.automated) == (3, 2, 0)
    assert (f.accepted, f.edited, f.rejected) == (1, 1, 0)
    assert f.accepted_rate == 0.5
    assert f.edit_median == pytest.approx(len("\nWarm regards!"), rel=0.05)
    assert (f.csat_bad, f.rated, f.csat) == (1, 1, 0.0)
    assert (f.triage_judged, f.category_kept, f.emotion_kept) == (2, 2, 1)
    assert f.emotion_accuracy == 0.5
    assert f.solved == 1 and f.resolution_median is not None
    assert f.first_response_median is not None


def test_figures_follow_later_judgements_after_the_sweep(desk, agent):
    ticket = desk["waiting"]
    row = TicketMetrics.objects.get(ticket=ticket)
    assert not row.replied

    from replies.models import Draft

    draft = Draft.objects.get(ticket=ticket, status="proposed")
    draft_send(draft_id=draft.pk, actor=agent)
    metrics_sweep()

    row.refresh_from_db()
    assert row.replied and row.drafts_accepted == 1
    assert metrics_report(Filters()).total.accepted == 2


def test_a_rating_marks_the_figures_stale_and_the_sweep_picks_them_up(desk):
    ticket = desk["approved"]
    reply = Message.objects.get(ticket=ticket, direction="out")

    rating_record(message_id=reply.pk, score="good")
    assert TicketMetrics.objects.get(ticket=ticket).stale

    metrics_sweep()
    row = TicketMetrics.objects.get(ticket=ticket)
    assert (row.stale, row.csat) == (False, "good")


def test_tickets_outside_the_period_or_the_filter_are_left_out(desk):
    old = desk["waiting"]
    this_week = TicketMetrics.objects.get(ticket=old).week
    # A ticket imported with its history: it came in 20 weeks ago.
    Ticket.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(weeks=20), updated_at=timezone.now()
    )
    metrics_sweep()
    metrics_rollup_week(week=this_week)

    assert metrics_report(Filters(weeks=12)).total.tickets == 2
    assert metrics_report(Filters(weeks=26)).total.tickets == 3
    assert metrics_report(Filters(language="ja")).total.tickets == 0
    # Narrowed by two dimensions, the figures come from the tickets' own rows: the same counts.
    assert metrics_report(Filters(weeks=26, language="en", channel="")).total.tickets == 3
    two = metrics_report(Filters(weeks=26, category="delivery", agent=0))
    assert two.total.tickets == 1  # only the unanswered ticket has no agent


def test_the_report_breaks_figures_down_by_week_and_dimension(desk, agent):
    report = metrics_report(Filters(weeks=4))

    assert len(report.weeks) == 4
    assert sum(f.tickets for _week, f in report.weeks) == 3
    assert report.weeks[-1][1].tickets == 3  # all this week
    categories = {g.key: g for g in report.by["category"]}
    assert categories["delivery"].figures.tickets == 3
    assert categories["delivery"].label != "delivery"  # the category's name, not its slug
    agents = {g.label: g.figures.tickets for g in report.by["agent"]}
    assert agents[agent.username] == 2


def test_the_page_shows_the_figures_and_links_each_to_its_tickets(desk, supervisor_client):
    html = supervisor_client.get("/metrics/").content.decode()
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())

    assert "Automation rate" in html
    # Each bar of a chart is a link that says what it counts.
    assert f'aria-label="sent as written, week of {monday.isoformat()}: 1"' in html
    assert "50 %" in html  # half the decided drafts were sent as written
    assert "measure=edited" in html
    listing = supervisor_client.get("/metrics/tickets/?weeks=12&measure=edited")
    body = listing.content.decode()
    assert listing.status_code == 200
    assert desk["edited"].subject in body
    assert desk["approved"].subject not in body
    assert '<span class="chip">Tone</span>' in body  # the edit's reason, as the agent picked it


def test_the_period_select_names_the_period_shown(desk, supervisor_client):
    html = supervisor_client.get("/metrics/").content.decode()
    assert '<option value="12" selected>Last 12 weeks</option>' in html

    html = supervisor_client.get("/metrics/?weeks=4").content.decode()
    assert '<option value="4" selected>Last 4 weeks</option>' in html


def test_a_chart_bar_opens_the_tickets_of_its_week(desk, supervisor_client):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    html = supervisor_client.get(
        f"/metrics/tickets/?weeks=4&week={monday.isoformat()}&measure=tickets"
    ).content.decode()

    assert "3 tickets" in html


def test_agents_cannot_open_the_metrics(agent_client, desk):
    assert agent_client.get("/metrics/").status_code == 403
    assert agent_client.get("/metrics/download.csv").status_code == 403


def test_an_unknown_figure_is_a_clear_404(supervisor_client, desk):
    response = supervisor_client.get("/metrics/tickets/?measure=nonsense")
    assert response.status_code == 404


def test_the_csv_holds_the_period_each_week_and_each_group(desk, supervisor_client):
    response = supervisor_client.get("/metrics/download.csv?weeks=4")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    period = rows[0]
    assert (period["group"], period["tickets"], period["acceptance_rate"]) == (
        "period", "3", "0.5000",
    )  # fmt: skip
    assert sum(1 for r in rows if r["group"] == "week") == 4
    delivery = next(r for r in rows if r["group"] == "category" and r["key"] == "delivery")
    assert delivery["drafts_edited"] == "1" and delivery["rated_bad"] == "1"


def test_update_now_refreshes_the_figures(desk, supervisor_client, agent):
    from replies.models import Draft

    draft = Draft.objects.get(ticket=desk["waiting"], status="proposed")
    draft_send(draft_id=draft.pk, actor=agent)

    response = supervisor_client.post("/metrics/update/", {"next": "/metrics/?weeks=4"})

    assert response.status_code == 302 and response["Location"] == "/metrics/?weeks=4"
    assert metrics_report(Filters()).total.accepted == 2


def test_the_page_makes_the_same_queries_for_three_tickets_or_thirty(
    desk, supervisor_client, stub_triage
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert supervisor_client.get("/metrics/?by=agent").status_code == 200
        return len(queries)

    few = count()
    for i in range(27):
        t = TicketFactory(subject=f"Question {i}", status=Ticket.Status.NEW, language="es")
        triage_message(message_id=MessageFactory(ticket=t, body_text="¿Dónde está?").pk)
    metrics_sweep()

    assert count() == few


def test_a_burst_of_changes_larger_than_one_sweep_is_worked_through(db):
    tickets = [TicketFactory(subject=f"Burst {i}") for i in range(5)]

    swept = [metrics_sweep(limit=2) for _ in range(4)]

    assert swept == [2, 2, 1, 0]
    assert TicketMetrics.objects.filter(ticket__in=tickets).count() == 5


def test_medians_read_from_the_rollup_histograms_are_within_ten_percent():
    import random

    from feedback.histogram import bucket, median, merged

    rng = random.Random(5)
    for spread in (0.3, 1.0, 2.0):
        values = [60 * rng.lognormvariate(4, spread) for _ in range(2001)]
        weekly = [{}, {}, {}]
        for i, value in enumerate(values):
            week = weekly[i % 3]
            week[str(bucket(value))] = week.get(str(bucket(value)), 0) + 1
        exact = sorted(values)[1000]
        assert median(merged(weekly)) == pytest.approx(exact, rel=0.1)


def test_a_report_is_computed_once_per_state_of_the_figures(desk, agent):
    from replies.models import Draft

    assert metrics_report(Filters()).total.accepted == 1
    with CaptureQueriesContext(connection) as queries:
        assert metrics_report(Filters()).total.accepted == 1
    assert len(queries) == 1  # the figures' state, then the stored report

    draft = Draft.objects.get(ticket=desk["waiting"], status="proposed")
    draft_send(draft_id=draft.pk, actor=agent)
    metrics_sweep()

    assert metrics_report(Filters()).total.accepted == 2


@pytest.mark.parametrize("language", ["en", "zh-hant", "ja", "es"])
@pytest.mark.parametrize("weeks", [4, 12, 26, 52])
def test_week_labels_under_a_chart_never_run_into_each_other(language, weeks):
    from datetime import date

    from django.utils import translation

    from feedback.charts import WIDTH, _label_width, stacked_bars

    monday = date(2026, 11, 30)
    days = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    with translation.override(language):
        chart = stacked_bars(days, [("tickets", "bar", "tickets", [1] * weeks)], label="{value}")
    spans = [
        (x - _label_width(t), x) if anchor == "end" else
        (x - _label_width(t) / 2, x + _label_width(t) / 2)
        for x, t, anchor in chart.weeks
    ]  # fmt: skip
    assert spans[-1][1] <= WIDTH
    assert all(left[1] < right[0] for left, right in zip(spans, spans[1:], strict=False))
    assert chart.weeks[-1][1] == date_format_short(monday, language)


def date_format_short(day, language):
    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override(language):
        return date_format(day, "MONTH_DAY_FORMAT")


def test_the_tickets_behind_a_figure_page_older_and_newer_without_losing_one(
    supervisor_client, monkeypatch
):
    from feedback import metrics_views

    now = timezone.now()
    tickets = [TicketFactory(subject=f"Parcel number {i:02}") for i in range(7)]
    for i, ticket in enumerate(tickets):  # two tickets share a moment: the id breaks the tie
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - timedelta(hours=min(i, 5)))
    metrics_sweep()
    monkeypatch.setattr(metrics_views, "PAGE_SIZE", 3)

    def subjects(html: str) -> list[str]:
        return [t.subject for t in tickets if f"{t.subject}</a>" in html]

    pages, url = [], "/metrics/tickets/?measure=tickets"
    while url:
        html = supervisor_client.get(url).content.decode()
        assert "7 tickets" in html
        pages.append((url, subjects(html), html))
        older = html.split('rel="next"')[0].rsplit('href="', 1)[-1] if 'rel="next"' in html else ""
        url = "/metrics/tickets/" + older.split('"')[0].replace("&amp;", "&") if older else ""

    newest_first = sorted(tickets, key=lambda t: (-min(tickets.index(t), 5), t.pk), reverse=True)
    assert [s for _, page, _ in pages for s in page] == [t.subject for t in newest_first]
    assert [len(page) for _, page, _ in pages] == [3, 3, 1]
    assert "Newer" not in pages[0][2] and "Older" not in pages[-1][2]
    # "Newer" on the last page opens the middle page again.
    newer = pages[-1][2].split('rel="prev"')[0].rsplit('href="', 1)[-1].split('"')[0]
    html = supervisor_client.get("/metrics/tickets/" + newer.replace("&amp;", "&")).content.decode()
    assert subjects(html) == pages[1][1]


def test_a_figure_of_drafts_says_how_many_tickets_only_when_they_fit_a_page(
    desk, supervisor_client, agent, monkeypatch
):
    from feedback import metrics_views

    # A second edited draft on the same ticket: the figure counts 2 drafts, the list 1 ticket.
    message = MessageFactory(ticket=desk["edited"], body_text="And the invoice?")
    triage_message(message_id=message.pk)
    draft = draft_create(message_id=message.pk)
    draft_send(draft_id=draft.pk, actor=agent, text=draft.text + "\nThanks!", reason="tone")
    metrics_sweep()
    assert metrics_report(Filters()).total.edited == 2

    html = supervisor_client.get("/metrics/tickets/?measure=edited").content.decode()
    assert '<p class="muted">1 ticket</p>' in html

    monkeypatch.setattr(metrics_views, "PAGE_SIZE", 1)
    html = supervisor_client.get("/metrics/tickets/?measure=replied").content.decode()
    assert '<p class="muted">2 tickets</p>' in html  # the figure counts tickets answered
    html = supervisor_client.get("/metrics/tickets/?measure=accepted").content.decode()
    assert '<p class="muted">1 ticket</p>' in html  # one ticket: it fits the page
