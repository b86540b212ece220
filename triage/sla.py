"""Service-level targets as plain Python: which policy applies, when a ticket is due, and
whether it is on track, at risk or breached at a given moment (always passed in: no clock).

- A policy names an urgency and/or a plan (empty: any); the most specific matching policy
  wins (urgency and plan > plan only > urgency only > neither), then the earliest listed.
- A target is at risk once less than AT_RISK_SHARE of its time is left, breached once due.
- The first-response target stops counting at the first reply; resolution at "solved".
- Resolution is paused while the ticket waits on the customer: when they write again, its due
  time moves on by the wait (`resume`), so only the time the ticket was ours counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

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

    @property
    def resolution_runs(self) -> bool:
        return self.resolution_due is not None and not self.solved and self.paused_at is None

    @property
    def resolution_started(self) -> datetime:
        """Start of the resolution window as if the waits had not happened, so "at risk"
        still means a fifth of the policy's time is left."""
        return self.started_at + self.paused_for


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
    return started_at + policy.first_response, started_at + policy.resolution


def resume(
    *, resolution_due: datetime, paused_at: datetime, now: datetime
) -> tuple[datetime, timedelta]:
    """The customer wrote again (or the ticket left "waiting"): the resolution due time moved
    on by the wait. Returns (new due time, the wait)."""
    waited = max(now - paused_at, timedelta(0))
    return resolution_due + waited, waited


def _target_state(started: datetime, due: datetime, now: datetime) -> str:
    if now >= due:
        return BREACHED
    if due - now < (due - started) * AT_RISK_SHARE:
        return AT_RISK
    return OK


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
            first = _target_state(clock.started_at, first_due, now)
            if first == BREACHED:
                reasons.append(f"First response overdue by {_late(now, first_due)}")
            elif first == AT_RISK:
                reasons.append("First response due soon")
            state = max(state, first, key=_RANK.__getitem__)
    if clock.resolution_due is not None and not clock.solved:
        # Paused, it is judged as it stood when the wait began: a breach stays a breach, and
        # nothing is "due soon" while the customer has the ball.
        at = now if clock.paused_at is None else min(now, clock.paused_at)
        resolution = _target_state(clock.resolution_started, clock.resolution_due, at)
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
        moments += _moments(clock.started_at, clock.first_response_due)
    if clock.resolution_runs:
        moments += _moments(clock.resolution_started, clock.resolution_due)
    later = [m for m in moments if m > now]
    return min(later) if later else None


def _moments(started: datetime, due: datetime) -> list[datetime]:
    return [due - (due - started) * AT_RISK_SHARE, due]
