"""Sign-in throttling: the project's two hooks into django-axes (configured in settings.py).

Which client address a failed sign-in counts against, and the page a locked-out person sees.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from supportdesk.intake.views import retry_later
from supportdesk.intake.webform import client_address


def signin_client_address(request: HttpRequest) -> str | None:
    """The address the web form's rate limit counts (behind ``TRUSTED_PROXY_COUNT`` proxies,
    IPv6 per /64). Axes stores one IP address, so a /64 is kept as its first address; a
    request without a usable address (an internal ``force_login``) has none."""
    address = client_address(request).partition("/")[0]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """429 with the lockout page and ``Retry-After``. Every refused attempt restarts the
    cool-off, so the wait is the whole cool-off from now."""
    retry_after = int(settings.AXES_COOLOFF_TIME.total_seconds())
    return retry_later(request, template="registration/lockout.html", retry_after=retry_after)
