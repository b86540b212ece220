"""SLA timers on a frozen clock: every check gets `now` explicitly."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from supportdesk import realtime
from supportdesk.hours import Hours
from supportdesk.models import BusinessHours, Message, Ticket
from supportdesk.sla import (
    AT_RISK,
    BREACHED,
    OK,
    Clock,
    Policy,
    due_dates,
    next_check_at,
    policy_for,
    resume,
    sla_status,
)
from tests.factories import CustomerFactory, MessageFactory, TicketFactory
from triage.models import Escalation, RoutingRule, SlaPolicy
from triage.services import triage_message
from triage.sla_timers import sla_check, sla_refresh

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

POLICIES = [
    Policy(1, "Any", 8 * HOUR, 72 * HOUR),
    Policy(2, "High", HOUR, 8 * HOUR, urgency="high"),
    Policy(3, "Enterprise", HOUR, 12 * HOUR, plan="enterprise"),
    Policy(4, "Enterprise high", timedelta(minutes=15), 4 * HOUR, "high", "enterprise"),
]


@pytest.mark.parametrize(
    ("urgency", "plan", "name"),
    [
        ("low", "free", "Any"),
        ("high", "free", "High"),
        ("low", "enterprise", "Enterprise"),
        ("high", "enterprise", "Enterprise high"),
    ],
)
def test_the_most_specific_policy_applies(urgency, plan, name):
    assert policy_for(POLICIES, urgency=urgency, plan=plan).name == name


def _clock(**changes):
    base = {"started_at": T0, "first_response_due": T0 + HOUR, "resolution_due": T0 + 8 * HOUR}
    return Clock(**{**base, **changes})


@pytest.mark.parametrize(
    ("minutes", "state"),
    [(0, OK), (47, OK), (49, AT_RISK), (59, AT_RISK), (60, BREACHED), (300, BREACHED)],
)
def test_first_response_turns_at_risk_in_its_last_fifth_and_breached_when_due(minutes, state):
    assert sla_status(_clock(), now=T0 + timedelta(minutes=minutes)).state == state


def test_an_answer_in_time_stops_the_first_response_timer():
    clock = _clock(first_response_at=T0 + timedelta(minutes=30))

    status = sla_status(clock, now=T0 + 2 * HOUR)

    assert status.state == OK
    assert next_check_at(clock, now=T0 + 2 * HOUR) == T0 + 8 * HOUR - 96 * timedelta(minutes=1)


def test_a_late_answer_stays_breached():
    status = sla_status(_clock(first_response_at=T0 + 2 * HOUR), now=T0 + 3 * HOUR)

    assert (status.state, status.reasons) == (BREACHED, ("First response was late",))


def test_breach_says_by_how_much():
    status = sla_status(_clock(), now=T0 + HOUR + timedelta(minutes=75))

    assert status.reasons == ("First response overdue by 1 h 15 min",)


def test_solved_tickets_stop_the_resolution_timer():
    clock = _clock(first_response_at=T0 + timedelta(minutes=5), solved=True)

    assert sla_status(clock, now=T0 + 100 * HOUR).state == OK
    assert next_check_at(clock, now=T0 + 100 * HOUR) is None


def test_waiting_on_the_customer_pauses_the_resolution_timer():
    answered = T0 + timedelta(minutes=30)
    clock = _clock(first_response_at=answered, paused_at=T0 + 2 * HOUR)

    status = sla_status(clock, now=T0 + 100 * HOUR)  # long past the 8 h, but not our time

    assert status.state == OK
    assert next_check_at(clock, now=T0 + 100 * HOUR) is None


def test_a_resumed_timer_counts_only_the_time_the_ticket_was_ours():
    # 2 h ours, 48 h waiting on the customer, then ours again: the 8 h target moves on by 48 h.
    due, waited = resume(resolution_due=T0 + 8 * HOUR, paused_at=T0 + 2 * HOUR, now=T0 + 50 * HOUR)
    clock = _clock(first_response_at=T0 + timedelta(minutes=30), resolution_due=due,
                   paused_for=waited)  # fmt: skip

    assert (due, waited) == (T0 + 56 * HOUR, 48 * HOUR)
    assert sla_status(clock, now=T0 + 54 * HOUR).state == OK
    # "At risk" still means the last fifth of the policy's 8 h, not of the 56 h on the wall.
    assert sla_status(clock, now=T0 + 55 * HOUR).state == AT_RISK
    assert next_check_at(clock, now=T0 + 50 * HOUR) == due - 96 * timedelta(minutes=1)
    assert sla_status(clock, now=T0 + 57 * HOUR).reasons == ("Resolution overdue by 1 h 0 min",)


def test_a_breach_before_the_wait_stays_a_breach_while_paused():
    clock = _clock(first_response_at=T0 + timedelta(minutes=30), paused_at=T0 + 9 * HOUR)

    status = sla_status(clock, now=T0 + 30 * HOUR)

    assert (status.state, status.reasons) == (BREACHED, ("Resolution overdue by 1 h 0 min",))


OFFICE = Hours("UTC", frozenset(range(5)), time(9), time(17))  # Monday to Friday, 9 to 17
FRIDAY_4PM = datetime(2026, 3, 6, 16, tzinfo=UTC)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_business_hours_policy_counts_only_working_time():
    policy = Policy(9, "Office", 2 * HOUR, 16 * HOUR, hours=OFFICE)

    first_due, resolution_due = due_dates(policy, started_at=FRIDAY_4PM)
    clock = Clock(FRIDAY_4PM, first_due, resolution_due, hours=OFFICE)

    assert first_due == _utc(2026, 3, 9, 10)  # 1 h on Friday, 1 h on Monday
    assert resolution_due == _utc(2026, 3, 10, 16)  # 1 h Friday, 8 h Monday, 7 h Tuesday
    assert sla_status(clock, now=_utc(2026, 3, 8, 23)).state == OK  # the weekend costs nothing
    # "At risk" is the last fifth of the two working hours: 24 minutes, from 9:36 on Monday.
    assert next_check_at(clock, now=FRIDAY_4PM) == _utc(2026, 3, 9, 9, 36)
    assert sla_status(clock, now=_utc(2026, 3, 9, 9, 40)).state == AT_RISK
    assert sla_status(clock, now=_utc(2026, 3, 9, 10)).state == BREACHED


def test_a_wait_over_the_weekend_costs_only_the_working_hours_it_spanned():
    due, skipped = resume(
        resolution_due=_utc(2026, 3, 10, 16),
        paused_at=FRIDAY_4PM,
        now=_utc(2026, 3, 9, 9),  # the customer answers first thing on Monday
        hours=OFFICE,
    )

    assert skipped == HOUR  # Friday 16 to 17
    assert due == _utc(2026, 3, 10, 17)  # the 16 working hours left, from Monday 9:00


def test_next_check_is_the_next_moment_a_state_can_change():
    clock = _clock()

    assert next_check_at(clock, now=T0) == T0 + timedelta(minutes=48)
    assert next_check_at(clock, now=T0 + timedelta(minutes=48)) == T0 + HOUR
    assert next_check_at(clock, now=T0 + HOUR) == T0 + 8 * HOUR - 96 * timedelta(minutes=1)


# -- on tickets --------------------------------------------------------------------------------
# Routing starts the timers at the real time; the checks then get `now` explicitly. Tickets
# are created at the start of the current minute, so "T + 50 min" is always in the future.

NOW = datetime.now(tz=UTC).replace(second=0, microsecond=0)


def _routed(stub_triage, *, urgency="high", customer=None, created_at=NOW):
    stub_triage(category="delivery", emotion="neutral", urgency=urgency)
    ticket = TicketFactory(
        status=Ticket.Status.NEW, created_at=created_at, customer=customer or CustomerFactory()
    )
    triage_message(message_id=MessageFactory(ticket=ticket).pk)
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
def test_routing_sets_due_dates_by_urgency_and_plan(categories, stub_triage):
    high = _routed(stub_triage, urgency="high")
    enterprise = _routed(stub_triage, urgency="low", customer=CustomerFactory(plan="enterprise"))

    assert (high.first_response_due_at, high.resolution_due_at) == (NOW + HOUR, NOW + 8 * HOUR)
    assert enterprise.first_response_due_at == NOW + HOUR
    assert enterprise.resolution_due_at == NOW + 12 * HOUR


@pytest.mark.django_db
def test_a_rule_can_name_the_sla_policy(categories, stub_triage):
    vip_policy = SlaPolicy.objects.create(
        name="VIP", first_response_minutes=10, resolution_minutes=120
    )
    RoutingRule.objects.create(
        position=1, name="VIP SLA", vip=True, sla_policy=vip_policy, stop_processing=False
    )

    ticket = _routed(stub_triage, urgency="low", customer=CustomerFactory(is_vip=True))

    assert ticket.first_response_due_at == NOW + timedelta(minutes=10)


@pytest.mark.django_db
def test_the_periodic_check_marks_at_risk_then_breached_and_alerts_once(
    categories, stub_triage, sent_events, django_capture_on_commit_callbacks
):
    ticket = _routed(stub_triage, urgency="high")
    Escalation.objects.all().delete()  # the seed rules already alert on high urgency
    Ticket.objects.filter(pk=ticket.pk).update(is_escalated=False)

    assert sla_check(now=NOW + timedelta(minutes=40)) == 0  # nothing due: nothing read
    assert Ticket.objects.get(pk=ticket.pk).sla_state == OK

    with django_capture_on_commit_callbacks(execute=True):
        sla_check(now=NOW + timedelta(minutes=50))
    ticket.refresh_from_db()
    assert ticket.sla_state == AT_RISK
    assert (realtime.TICKET_UPDATED, ticket.pk) in sent_events
    assert not Escalation.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        sla_check(now=NOW + HOUR + timedelta(minutes=5))
    ticket.refresh_from_db()
    assert ticket.sla_state == BREACHED
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.reason == "SLA breached: First response overdue by 5 min"
    assert (realtime.ESCALATIONS_CHANGED, ticket.pk) in sent_events

    sla_check(now=NOW + 7 * HOUR)
    sla_check(now=NOW + 9 * HOUR)
    assert Escalation.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_a_reply_in_time_moves_the_countdown_to_resolution(categories, stub_triage, agent):
    ticket = _routed(stub_triage, urgency="high")
    Message.objects.create(
        ticket=ticket,
        direction=Message.Direction.OUTBOUND,
        body_text="On it.",
        author_user=agent,
        created_at=NOW + timedelta(minutes=20),
    )

    sla_check(now=NOW + HOUR + timedelta(minutes=1))

    ticket.refresh_from_db()
    assert ticket.sla_state == OK
    assert ticket.sla_due_at == NOW + 8 * HOUR


@pytest.mark.django_db
def test_solving_stops_the_resolution_timer_and_reopening_restarts_it(
    categories, stub_triage, agent
):
    from supportdesk.services import ticket_reopen, ticket_solve

    ticket = _routed(stub_triage, urgency="high")
    Escalation.objects.all().delete()
    Message.objects.create(
        ticket=ticket, direction=Message.Direction.OUTBOUND, body_text="Fixed.", author_user=agent,
        created_at=NOW + timedelta(minutes=20),
    )  # fmt: skip

    ticket_solve(ticket_id=ticket.pk)
    sla_check(now=NOW + 9 * HOUR)  # past the 8 h resolution target, but solved in time
    assert Ticket.objects.get(pk=ticket.pk).sla_state == OK
    assert not Escalation.objects.exists()

    ticket_reopen(ticket_id=ticket.pk)
    sla_check(now=NOW + 9 * HOUR)
    assert Ticket.objects.get(pk=ticket.pk).sla_state == BREACHED
    assert Escalation.objects.get(ticket=ticket).reason.startswith("SLA breached: Resolution")


@pytest.mark.django_db
def test_waiting_on_the_customer_pauses_resolution_until_they_write_again(
    categories, stub_triage, agent, agent_client
):
    from unittest import mock

    from replies.services import reply_send_manual
    from supportdesk.services import ticket_message_add

    ticket = _routed(stub_triage, urgency="high")  # resolution due NOW + 8 h
    Escalation.objects.all().delete()
    reply_send_manual(ticket_id=ticket.pk, actor=agent, text="Which order number is it?")

    sla_check(now=NOW + 30 * HOUR)  # the customer takes 30 hours to answer
    ticket.refresh_from_db()
    assert (ticket.status, ticket.sla_state, ticket.sla_due_at) == (Ticket.Status.WAITING, OK, None)
    assert not Escalation.objects.exists()
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "paused while waiting on the customer" in page
    replied_at = ticket.sla_paused_at

    with mock.patch("django.utils.timezone.now", return_value=NOW + 30 * HOUR):
        ticket_message_add(ticket_id=ticket.pk, body="It is 4417.")
    ticket.refresh_from_db()
    # The 8 h target moved on by the wait, from the reply to the customer's answer.
    assert ticket.resolution_due_at == NOW + 8 * HOUR + (NOW + 30 * HOUR - replied_at)
    assert ticket.sla_paused_at is None and ticket.status == Ticket.Status.OPEN

    sla_check(now=NOW + 31 * HOUR)
    ticket.refresh_from_db()
    assert (ticket.sla_state, ticket.sla_due_at) == (OK, ticket.resolution_due_at)
    sla_check(now=NOW + 39 * HOUR)
    assert Ticket.objects.get(pk=ticket.pk).sla_state == BREACHED
    assert Escalation.objects.get(ticket=ticket).reason.startswith("SLA breached: Resolution")


@pytest.mark.django_db
def test_tickets_of_a_business_hours_policy_keep_their_schedule(
    categories, stub_triage, agent_client
):
    office = BusinessHours.objects.create(name="Office", timezone="UTC", days="01234")
    SlaPolicy.objects.update(
        business_hours=office
    )  # the seeded policies: high urgency is 1 h / 8 h

    ticket = _routed(stub_triage, urgency="high", created_at=_utc(2026, 3, 6, 16, 30))

    assert ticket.sla_hours == office
    assert ticket.first_response_due_at == _utc(2026, 3, 9, 9, 30)  # half an hour each day
    assert ticket.resolution_due_at == _utc(2026, 3, 9, 16, 30)  # 0.5 h Friday, 7.5 h Monday

    assert sla_refresh(ticket_id=ticket.pk, now=_utc(2026, 3, 8, 20)) == OK  # Sunday night
    assert sla_refresh(ticket_id=ticket.pk, now=_utc(2026, 3, 9, 9, 20)) == AT_RISK
    assert sla_refresh(ticket_id=ticket.pk, now=_utc(2026, 3, 9, 9, 31)) == BREACHED
    page = agent_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "counting Office hours only" in page


@pytest.mark.django_db
def test_the_inbox_row_counts_down_and_shows_a_breach(categories, stub_triage, agent_client):
    ticket = _routed(stub_triage, urgency="high", created_at=datetime.now(tz=UTC))

    html = agent_client.get("/inbox/").content.decode()
    assert "sla sla-ok" in html and "data-countdown" in html and "due in" in html

    sla_check(now=datetime.now(tz=UTC) + 2 * HOUR)
    html = agent_client.get("/inbox/").content.decode()
    assert f'id="ticket-{ticket.pk}"' in html
    assert "sla-breached" in html and "SLA breached" in html


@pytest.mark.django_db
def test_a_ticket_routed_after_its_due_time_is_breached_at_once(categories, stub_triage):
    from io import StringIO

    from django.core.management import call_command

    _routed(stub_triage, urgency="high", created_at=datetime.now(tz=UTC) - 2 * HOUR)
    out = StringIO()

    call_command("sla_check", stdout=out)

    ticket = Ticket.objects.get()
    assert ticket.sla_state == BREACHED
    # One card for the ticket, whatever else raised it, saying the SLA was already breached.
    (escalation,) = Escalation.objects.filter(ticket=ticket)
    assert "SLA breached before the ticket was routed" in escalation.reason
    assert out.getvalue().strip() == "Checked 0 ticket(s)."  # next moment: resolution at risk

    call_command("sla_check", stdout=out)  # nothing more is due yet
    assert Escalation.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_the_command_refreshes_tickets_whose_moment_has_come(categories, stub_triage):
    from io import StringIO

    from django.core.management import call_command

    ticket = _routed(stub_triage, urgency="high", created_at=datetime.now(tz=UTC))
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_next_check_at=datetime.now(tz=UTC) - timedelta(minutes=1)
    )
    out = StringIO()

    call_command("sla_check", stdout=out)

    assert out.getvalue().strip() == "Checked 1 ticket(s)."
    assert Ticket.objects.get(pk=ticket.pk).sla_next_check_at > datetime.now(tz=UTC)


@pytest.mark.django_db
def test_the_embedded_worker_checks_slas_every_minute(settings):
    from django_q.models import Schedule

    from supportdesk.queue import periodic_schedules_sync

    settings.TASK_BACKEND = "q2"
    periodic_schedules_sync()

    schedule = Schedule.objects.get(name="sla_check")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "triage.tasks.sla_check",
        Schedule.MINUTES,
        1,
    )


def _schedule_form(**changes):
    form = {
        "name": "Tokyo office",
        "timezone": "Asia/Tokyo",
        "days": ["0", "1", "2", "3", "4"],
        "opens": "09:00",
        "closes": "18:00",
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-0-date": "2026-11-23",
        "holidays-0-name": "Labour Thanksgiving Day",
    }
    return {**form, **changes}


@pytest.mark.django_db
def test_an_admin_sets_up_business_hours_with_holidays_and_a_policy_uses_them(
    desk_admin_client,
):
    response = desk_admin_client.post("/admin/supportdesk/businesshours/add/", _schedule_form())
    assert response.status_code == 302, response.content.decode()[:2000]

    schedule = BusinessHours.objects.get()
    assert (schedule.timezone, schedule.days, schedule.opens) == ("Asia/Tokyo", "01234", time(9))
    assert [(h.date.isoformat(), h.name) for h in schedule.holidays.all()] == [
        ("2026-11-23", "Labour Thanksgiving Day")
    ]
    SlaPolicy.objects.filter(name="High urgency").update(business_hours=schedule)
    from triage.selectors import sla_policies

    high = next(p for p in sla_policies() if p.name == "High urgency")
    assert high.hours_id == schedule.pk and date(2026, 11, 23) in high.hours.holidays


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"closes": "08:00"}, "Closing time must be after opening time."),
        ({"days": []}, "This field is required."),
        ({"timezone": "Tokyo"}, "Unknown time zone"),
    ],
)
@pytest.mark.django_db
def test_the_admin_refuses_business_hours_that_never_open(desk_admin_client, changes, error):
    response = desk_admin_client.post(
        "/admin/supportdesk/businesshours/add/", _schedule_form(**changes)
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not BusinessHours.objects.exists()


@pytest.mark.django_db
def test_a_schedule_broken_outside_the_admin_falls_back_to_the_wall_clock(caplog):
    broken = BusinessHours.objects.create(name="Broken", days="", timezone="UTC")
    SlaPolicy.objects.update(business_hours=broken)
    from triage.selectors import sla_policies

    assert all(p.hours is None and p.hours_id is None for p in sla_policies())
    assert "Business hours" in caplog.text
