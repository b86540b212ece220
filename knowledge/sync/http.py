"""GET JSON from a source's REST API, every failure turned into a `SyncSourceError` that names
the source and says what went wrong."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from django.utils.translation import gettext

from knowledge.sync import SyncSourceError


def get_json(client: httpx.Client, url: str, *, source: str, params: dict | None = None) -> Any:
    try:
        response = client.get(url, params=params)
    except httpx.TimeoutException:
        raise SyncSourceError(
            source,
            gettext("no answer from %(url)s within %(seconds)g seconds")
            % {"url": _where(url), "seconds": client.timeout.read},
        ) from None
    except httpx.HTTPError as exc:
        raise SyncSourceError(
            source,
            gettext("could not reach %(url)s: %(error)s") % {"url": _where(url), "error": exc},
        ) from exc
    if response.status_code in (401, 403):
        raise SyncSourceError(
            source,
            gettext("%(url)s refused the credentials (HTTP %(status)s)")
            % {"url": _where(url), "status": response.status_code},
        )
    if response.status_code >= 400:
        raise SyncSourceError(
            source,
            gettext("HTTP %(status)s from %(url)s")
            % {"status": response.status_code, "url": _where(url)},
        )
    try:
        return response.json()
    except ValueError:
        raise SyncSourceError(
            source, gettext("%(url)s did not answer with JSON") % {"url": _where(url)}
        ) from None


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as the APIs write it ("2026-12-01T10:00:00Z", "...000+01:00")."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _where(url: str) -> str:
    """The address without its query string (which may be long, never secret)."""
    return str(httpx.URL(url).copy_with(query=None))
