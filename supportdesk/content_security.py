"""The Content-Security-Policy header: django-csp's middleware, plus the live socket's origin.

The policy itself is CONTENT_SECURITY_POLICY in settings. Every desk page opens a WebSocket to
the host it was served from (`ws-connect="/ws/desk/…"`). CSP Level 3 lets `'self'` match that
ws:/wss: origin, but browsers that implement only Level 2 do not, so connect-src also names
this host's ws: and wss: origins explicitly.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase


class DeskCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts  # a 400 for a host we do not serve: it opens no socket
        sockets = [f"ws://{host}", f"wss://{host}"]
        update = dict(parts.update or {})
        existing = update.get("connect-src") or []
        update["connect-src"] = [*([existing] if isinstance(existing, str) else existing), *sockets]
        parts.update = update
        return parts
