"""The public web form: who is asking (behind proxies), how often they may, and the write.

Lives beside ``services.py`` (same conventions) so the form's rules stay in one place.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from supportdesk.models import Ticket
from supportdesk.outbox.automail import acknowledgement_queue
from supportdesk.services import ticket_create

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The address to rate-limit: the socket peer, or with ``TRUSTED_PROXY_COUNT`` = N the
    entry N places from the right of X-Forwarded-For (each trusted proxy appends the address it
    saw, so entries further left are whatever the client wrote). IPv6 clients count per /64,
    since one host usually owns the whole prefix."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    candidate = remote
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if forwarded:
            candidate = forwarded[-hops] if len(forwarded) >= hops else forwarded[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            return remote or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def web_form_rate_limit_hit(*, client: str, now: float | None = None) -> int:
    """Count one submission from ``client``. Returns 0 when it is within the limit, else the
    seconds until the client may submit again (for Retry-After).

    Fixed windows of ``WEB_FORM_RATE_WINDOW`` seconds in the shared cache. If the cache is
    down the form stays open: losing a customer's message is worse than letting a bot through.
    """
    window = settings.WEB_FORM_RATE_WINDOW
    now = time.time() if now is None else now
    bucket = int(now // window)
    digest = hashlib.sha256(client.encode()).hexdigest()[:32]
    key = f"webform-rate:{bucket}:{digest}"
    try:
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
    except Exception:
        logger.exception("web form rate limit unavailable; letting the submission through")
        return 0
    if count <= settings.WEB_FORM_RATE_LIMIT:
        return 0
    return max(1, math.ceil((bucket + 1) * window - now))


@transaction.atomic
def web_ticket_submit(
    *, email: str, subject: str, body: str, name: str = "", locale: str = ""
) -> Ticket:
    """A customer's ticket from the web form; the acknowledgement e-mail goes out after commit."""
    ticket = ticket_create(
        email=email,
        name=name,
        locale=locale,
        subject=subject,
        body=body,
        channel=Ticket.Channel.WEB,
    )
    acknowledgement_queue(ticket=ticket, message=ticket.messages.get())
    return ticket
