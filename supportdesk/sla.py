"""Service-level targets as plain Python: which policy applies, when a ticket is due, and
whether it is on track, at risk or breached at a given moment (always passed in: no clock).

- A policy names an urgency and/or a plan (empty: any); the most specific matching policy
  wins (urgency and plan > plan only > urgency only > neither), then the earliest listed.
- A target is at risk once less than AT_RISK_SHARE of its time is left, breached once due.
- The first-response target stops counting at the first reply; resolution at "solved".
- Resolution is paused while the ticket waits on the customer: when they write again, its due
  time moves on by the wait (`resume`), so only the time the ticket was ours counts.
- A policy may count business hours only (`supportdesk.hours`): then every span above is working
  time, and a ticket that arrives on Friday evening is not breached by Monday morning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportdesk.hours import Hours, add, between, subtract

AT_RISK_SHARE = 0.2

OK = "ok"
AT_RISK = "at_risk"
BREACHED = "breached"
STATES = (OK, AT_RISK, BREACHED)
_RANK = {"": 0, OK: 1, AT_RISK: 2, BREACHED: 3}


@dataclass(frozen=True)
class Policy:
    id: int | None
    name: str
    first_response: timedelta
    resolution: timedelta
    urgency: str = ""
    plan: str = ""
    hours: Hours | None = None  # None: around the clock
    hours_id: int | None = None  # the schedule's row, stored on the ticket


@dataclass(frozen=True)
class Clock:
    """One ticket's SLA timers."""

    started_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None = None
    solved: bool = False
    paused_at: datetime | None = None  # waiting on the customer since
    paused_for: timedelta = timedelta(0)  # earlier waits, already added to resolution_due
    hours: Hours | None = None  # the policy's business hours; None: around the clock

    @property
    def resolution_runs(self) -> bool:
        return self.resolution_due is not None and not self.solved and self.paused_at is None

    def risk_at(self, due: datetime, *, skipped: timedelta = timedelta(0)) -> datetime:
        """When a target that ends at `due` turns "at risk": once less than AT_RISK_SHARE of
        its (working) time is left. `skipped` is time the target was paused, so the share is
        of the policy's time, not of the wait."""
        total = between(self.hours, self.started_at, due) - skipped
        return subtract(self.hours, due, total * AT_RISK_SHARE)


@dataclass(frozen=True)
class Status:
    state: str  # ok | at_risk | breached
    reasons: tuple[str, ...]


def policy_for(policies: Iterable[Policy], *, urgency: str, plan: str) -> Policy | None:
    best, best_score = None, -1
    for policy in policies:
        if policy.urgency and policy.urgency != urgency:
            continue
        if policy.plan and policy.plan != plan:
            continue
        score = 2 * bool(policy.plan) + bool(policy.urgency) + bool(policy.plan and policy.urgency)
        if score > best_score:
            best, best_score = policy, score
    return best


def due_dates(policy: Policy, *, started_at: datetime) -> tuple[datetime, datetime]:
    return (
        add(policy.hours, started_at, policy.first_response),
        add(policy.hours, started_at, policy.resolution),
    )


def resume(
    *, resolution_due: datetime, paused_at: datetime, now: datetime, hours: Hours | None = None
) -> tuple[datetime, timedelta]:
    """The customer wrote again (or the ticket left "waiting"): the (working) time that was
    left when the wait began is left again from now. Returns (new due time, the working time
    the wait took)."""
    if now <= paused_at:
        return resolution_due, timedelta(0)
    left = between(hours, paused_at, resolution_due)  # negative: it was already overdue
    return add(hours, now, left), between(hours, paused_at, now)


def _target_state(risk_at: datetime, due: datetime, now: datetime) -> str:
    if now >= due:
        return BREACHED
    return AT_RISK if now > risk_at else OK


def _late(now: datetime, due: datetime) -> str:
    minutes = int((now - due).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def sla_status(clock: Clock, *, now: datetime) -> Status:
    """The worse of the two targets that still count."""
    state, reasons = OK, []
    first_due = clock.first_response_due
    if first_due is not None:
        if clock.first_response_at is not None:
            if clock.first_response_at > first_due:
                state = BREACHED
                reasons.append("First response was late")
        else:
            first = _target_state(clock.risk_at(first_due), first_due, now)
            if first == BREACHED:
                reasons.append(f"First response overdue by {_late(now, first_due)}")
            elif first == AT_RISK:
                reasons.append("First response due soon")
            state = max(state, first, key=_RANK.__getitem__)
    if clock.resolution_due is not None and not clock.solved:
        # Paused, it is judged as it stood when the wait began: a breach stays a breach, and
        # nothing is "due soon" while the customer has the ball.
        at = now if clock.paused_at is None else min(now, clock.paused_at)
        due = clock.resolution_due
        resolution = _target_state(clock.risk_at(due, skipped=clock.paused_for), due, at)
        if resolution == AT_RISK and clock.paused_at is not None:
            resolution = OK
        if resolution == BREACHED:
            reasons.append(f"Resolution overdue by {_late(at, clock.resolution_due)}")
        elif resolution == AT_RISK:
            reasons.append("Resolution due soon")
        state = max(state, resolution, key=_RANK.__getitem__)
    return Status(state, tuple(reasons))


def worse(a: str, b: str) -> bool:
    """Whether state a is worse than state b."""
    return _RANK[a] > _RANK[b]


def next_check_at(clock: Clock, *, now: datetime) -> datetime | None:
    """The next moment the state can change (a target turns at risk or due), or None when no
    timer still runs. The periodic check only looks at tickets whose moment has come."""
    moments = []
    if clock.first_response_due is not None and clock.first_response_at is None:
        moments += [clock.risk_at(clock.first_response_due), clock.first_response_due]
    if clock.resolution_runs:
        due = clock.resolution_due
        moments += [clock.risk_at(due, skipped=clock.paused_for), due]
    later = [m for m in moments if m > now]
    return min(later) if later else None
