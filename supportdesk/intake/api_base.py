"""What every JSON endpoint shares (the REST API, the raw e-mail endpoint, the API document):
the error body, method checks and bearer-token authentication."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from supportdesk import services


def error(status: int, message: str, **extra: object) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


# Ids beyond a 64-bit integer are no ticket; the database would reject the comparison.
MAX_ID = 2**63 - 1


def allow_methods(*methods: str, thing: str = "ticket") -> Callable:
    """Like ``require_http_methods``, with the API's JSON error body. ``thing`` names what the
    ``pk`` in the path identifies, for the 404 of an id no row can have."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = error(405, f"Method {request.method} not allowed here.")
                response["Allow"] = ", ".join(methods)
                return response
            if kwargs.get("pk", 0) > MAX_ID:
                return error(404, f"No {thing} {kwargs['pk']}.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def api_view(view: Callable) -> Callable:
    """Bearer-token auth with the inbox permission; CSRF does not apply to token requests."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            response = error(401, "Missing bearer token: send 'Authorization: Bearer <token>'.")
            response["WWW-Authenticate"] = "Bearer"
            return response
        user = services.api_token_authenticate(raw)
        if user is None:
            response = error(401, "Invalid or revoked token.")
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        if not user.has_perm("supportdesk.work_inbox"):
            return error(403, "This token's user may not work tickets.")
        request.user = user
        return view(request, *args, **kwargs)

    return wrapper
