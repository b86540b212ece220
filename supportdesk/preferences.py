"""Each person's time zone: put in the session at sign-in, read from it on every request (a
session from before this existed reads it from the database once)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from supportdesk.models import AgentPreference

SESSION_KEY = "desk_time_zone"


@cache
def time_zones() -> list[str]:
    """Every IANA time zone name this machine knows, sorted (for the preferences form)."""
    return sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})


def valid_time_zone(name: str) -> bool:
    return name in time_zones()


def time_zone_of(user: AbstractBaseUser) -> str:
    """The user's chosen time zone, or "" for the desk's own (TIME_ZONE)."""
    row = AgentPreference.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return row if row and valid_time_zone(row) else ""


def time_zone_set(*, request: HttpRequest, user: AbstractBaseUser, name: str) -> None:
    if name and not valid_time_zone(name):
        raise ValueError(f"Unknown time zone: {name}.")
    AgentPreference.objects.update_or_create(user=user, defaults={"time_zone": name})
    request.session[SESSION_KEY] = name


def remember_time_zone(*, request: HttpRequest | None, user: AbstractBaseUser, **kwargs) -> None:
    """At sign-in: keep the person's time zone in their new session."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_KEY] = time_zone_of(user)


class TimeZoneMiddleware:
    """Shows every date in the signed-in person's time zone (one query per session)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = ""
        if user is not None and user.is_authenticated:
            name = request.session.get(SESSION_KEY)
            if name is None:
                name = time_zone_of(user)
                request.session[SESSION_KEY] = name
        if name:
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        return self.get_response(request)
