"""Business hours as plain Python: adding, counting and taking away working time.

A schedule is open from `opens` to `closes` local time on its weekdays, except on holidays.
Times are aware datetimes in and out (UTC out); local days are walked with zoneinfo, so a
daylight-saving change moves the UTC hours of a window, never its local ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# However sparse a schedule is, a target is never looked for more than this far away.
HORIZON_DAYS = 3 * 366
ZERO = timedelta(0)
# Holidays further back than this no longer touch any running SLA timer.
HOLIDAYS_BACK = timedelta(days=400)


@dataclass(frozen=True)
class Hours:
    timezone: str
    days: frozenset[int]  # 0 = Monday
    opens: time
    closes: time
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("Business hours need at least one weekday (0 = Monday to 6).")
        if self.closes <= self.opens:
            raise ValueError("Business hours must close after they open, on the same day.")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days or day in self.holidays:
            return None
        zone = ZoneInfo(self.timezone)
        return (
            datetime.combine(day, self.opens, tzinfo=zone).astimezone(UTC),
            datetime.combine(day, self.closes, tzinfo=zone).astimezone(UTC),
        )

    def _windows(self, moment: datetime, step: int) -> Iterator[tuple[datetime, datetime]]:
        """Open windows from the local day of `moment`, forwards (step 1) or backwards (-1)."""
        day = moment.astimezone(ZoneInfo(self.timezone)).date()
        for offset in range(HORIZON_DAYS):
            window = self._window(day + timedelta(days=step * offset))
            if window is not None:
                yield window
        raise ValueError(f"No business hours within {HORIZON_DAYS} days.")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start` (before it, if negative)."""
        if duration < ZERO:
            return self.subtract(start, -duration)
        left = duration
        for opens, closes in self._windows(start, 1):
            if closes <= start:
                continue
            begin = max(opens, start)
            if left <= closes - begin:
                return begin + left
            left -= closes - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def subtract(self, end: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time before `end`."""
        left = duration
        for opens, closes in self._windows(end, -1):
            if opens >= end:
                continue
            finish = min(closes, end)
            if left <= finish - opens:
                return finish - left
            left -= finish - opens
        raise AssertionError("unreachable")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (negative if `end` comes first)."""
        if end < start:
            return -self.between(end, start)
        total = ZERO
        for opens, closes in self._windows(start, 1):
            if opens >= end:
                return total
            total += max(ZERO, min(closes, end) - max(opens, start))
        return total  # pragma: no cover


# The SLA code works with `Hours | None`; None is the wall clock (open around the clock).


def schedule_hours(schedule: object, holidays: Iterable[date]) -> Hours:
    """`Hours` from a stored schedule (anything with `timezone`, `days` as weekday digits,
    `opens` and `closes`) and its holidays. Raises ValueError for a schedule that was saved
    around the admin's checks."""
    return Hours(
        timezone=schedule.timezone,
        days=frozenset(int(day) for day in schedule.days),
        opens=schedule.opens,
        closes=schedule.closes,
        holidays=frozenset(holidays),
    )


def add(hours: Hours | None, start: datetime, duration: timedelta) -> datetime:
    return start + duration if hours is None else hours.add(start, duration)


def subtract(hours: Hours | None, end: datetime, duration: timedelta) -> datetime:
    return end - duration if hours is None else hours.subtract(end, duration)


def between(hours: Hours | None, start: datetime, end: datetime) -> timedelta:
    return end - start if hours is None else hours.between(start, end)
