"""Business hours: working time added, counted and taken away across nights, weekends,
holidays and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.hours import Hours

HOUR = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = Hours("Europe/Berlin", frozenset(range(5)), time(9), time(17))  # Mon–Fri 9–17


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_time_inside_one_day_is_plain_addition():
    assert OFFICE.add(berlin(2026, 3, 3, 10), 2 * HOUR) == berlin(2026, 3, 3, 12)


def test_what_does_not_fit_today_carries_over_to_the_next_morning():
    assert OFFICE.add(berlin(2026, 3, 3, 16), 2 * HOUR) == berlin(2026, 3, 4, 10)


def test_a_friday_evening_message_is_due_on_monday():
    friday_evening = berlin(2026, 3, 6, 19, 30)

    assert OFFICE.add(friday_evening, 4 * HOUR) == berlin(2026, 3, 9, 13)


def test_holidays_are_skipped():
    easter = Hours(
        "Europe/Berlin",
        frozenset(range(5)),
        time(9),
        time(17),
        frozenset({date(2026, 4, 3), date(2026, 4, 6)}),  # Good Friday, Easter Monday
    )

    assert easter.add(berlin(2026, 4, 2, 16), 2 * HOUR) == berlin(2026, 4, 7, 10)


def test_local_hours_hold_across_a_daylight_saving_change():
    # Berlin moves to summer time on Sunday 29 March 2026: 9:00 is 8:00 UTC before, 7:00 after.
    due = OFFICE.add(berlin(2026, 3, 27, 16), 2 * HOUR)

    assert due == berlin(2026, 3, 30, 10)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_counting_and_taking_away_working_time_undo_adding_it():
    start = berlin(2026, 3, 5, 15)
    due = OFFICE.add(start, 11 * HOUR)

    assert due == berlin(2026, 3, 9, 10)  # 2 h Thursday, 8 h Friday, 1 h Monday
    assert OFFICE.between(start, due) == 11 * HOUR
    assert OFFICE.between(due, start) == -11 * HOUR
    assert OFFICE.subtract(due, 11 * HOUR) == start
    assert OFFICE.add(due, -11 * HOUR) == start


def test_a_weekend_holds_no_working_time():
    assert OFFICE.between(berlin(2026, 3, 6, 17), berlin(2026, 3, 9, 9)) == timedelta(0)


@pytest.mark.parametrize(
    ("days", "opens", "closes", "zone"),
    [
        (frozenset(), time(9), time(17), "UTC"),
        (frozenset({7}), time(9), time(17), "UTC"),
        (frozenset({0}), time(17), time(9), "UTC"),
        (frozenset({0}), time(9), time(9), "UTC"),
    ],
)
def test_a_schedule_that_never_opens_is_refused(days, opens, closes, zone):
    with pytest.raises(ValueError):
        Hours(zone, days, opens, closes)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(Exception, match="Mars"):
        Hours("Mars/Olympus", frozenset({0}), time(9), time(17))
