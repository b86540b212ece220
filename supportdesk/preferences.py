"""Each person's time zone and language: put in the session at sign-in, read from it on every
request (a session from before this existed reads them from the database once).

A person who chose no language sees the desk in their browser's (Django's LocaleMiddleware,
which also serves the customers on the contact form); one who chose none of the time zones
sees the desk's own (TIME_ZONE).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from supportdesk.models import AgentPreference

SESSION_KEY = "desk_time_zone"
LANGUAGE_SESSION_KEY = "desk_language"


@dataclass(frozen=True)
class Preferences:
    time_zone: str = ""  # "" = the desk's
    language: str = ""  # "" = the browser's


@cache
def time_zones() -> list[str]:
    """Every IANA time zone name this machine knows, sorted (for the preferences form)."""
    return sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})


def valid_time_zone(name: str) -> bool:
    return name in time_zones()


def valid_language(code: str) -> bool:
    return code in dict(settings.LANGUAGES)


def preferences_of(user: AbstractBaseUser) -> Preferences:
    row = AgentPreference.objects.filter(user=user).values_list("time_zone", "language").first()
    if row is None:
        return Preferences()
    time_zone, language = row
    return Preferences(
        time_zone=time_zone if time_zone and valid_time_zone(time_zone) else "",
        language=language if language and valid_language(language) else "",
    )


def time_zone_of(user: AbstractBaseUser) -> str:
    """The user's chosen time zone, or "" for the desk's own (TIME_ZONE)."""
    return preferences_of(user).time_zone


def preferences_set(
    *, request: HttpRequest, user: AbstractBaseUser, time_zone: str, language: str
) -> None:
    if time_zone and not valid_time_zone(time_zone):
        raise ValueError(f"Unknown time zone: {time_zone}.")
    if language and not valid_language(language):
        raise ValueError(f"Unknown language: {language}.")
    AgentPreference.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone, "language": language}
    )
    _remember(request, Preferences(time_zone=time_zone, language=language))


def session_preferences(request: HttpRequest) -> Preferences:
    """What the session holds (read from the database once for a session from before)."""
    session = request.session
    time_zone, language = session.get(SESSION_KEY), session.get(LANGUAGE_SESSION_KEY)
    if time_zone is None or language is None:
        chosen = preferences_of(request.user)
        _remember(request, chosen)
        return chosen
    return Preferences(time_zone=time_zone, language=language)


def remember_preferences(*, request: HttpRequest | None, user: AbstractBaseUser, **kwargs) -> None:
    """At sign-in: keep the person's preferences in their new session."""
    if getattr(request, "session", None) is not None:
        _remember(request, preferences_of(user))


def _remember(request: HttpRequest, chosen: Preferences) -> None:
    request.session[SESSION_KEY] = chosen.time_zone
    request.session[LANGUAGE_SESSION_KEY] = chosen.language


class PreferencesMiddleware:
    """Shows the desk in the signed-in person's language and time zone (no query once the
    session holds them). Comes after LocaleMiddleware, whose browser language it overrides."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        chosen = Preferences()
        if user is not None and user.is_authenticated:
            chosen = session_preferences(request)
        if chosen.time_zone:
            timezone.activate(zoneinfo.ZoneInfo(chosen.time_zone))
        else:
            timezone.deactivate()
        if chosen.language:
            translation.activate(chosen.language)
            request.LANGUAGE_CODE = chosen.language
        return self.get_response(request)
