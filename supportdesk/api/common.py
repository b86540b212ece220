"""What every API view shares: JSON bodies, idempotency keys, list pages, field errors."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from supportdesk.api.selectors import ApiPage, InvalidCursor
from supportdesk.inbox.forms import API_PAGE_SIZE
from supportdesk.intake import idempotency
from supportdesk.intake.api_base import error
from supportdesk.intake.jsonbody import BadJSON, loads_strict


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Every other path under /api/v1/: a JSON 404, like the rest of the API."""
    return error(404, f"No API endpoint at {request.path}.")


def read_json(
    request: HttpRequest, *, empty_ok: bool = False
) -> tuple[dict | None, JsonResponse | None]:
    """The body as a JSON object, or a 400/413/415 response. With ``empty_ok``, no body at all
    (Content-Length 0, any content type) reads as ``{}``."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if empty_ok and length == 0:
        return {}, None
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None, error(
            413, f"Body too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    if request.content_type != "application/json":
        return None, error(415, "Send the body as application/json.")
    try:
        data = loads_strict(request.body)
    except RequestDataTooBig:
        return None, error(
            413, f"Body too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    except BadJSON as exc:
        return None, error(400, f"Malformed JSON: {exc}")
    if not isinstance(data, dict):
        return None, error(400, "The body must be a JSON object.")
    return data, None


# Visible ASCII only: keys are compared byte for byte and may appear in logs.
IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


def idempotent(view: Callable) -> Callable:
    """Honour an ``Idempotency-Key`` header on POST: one execution per (user, key), replayed
    with ``Idempotent-Replayed: true``; the same key with another request is a 409."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return view(request, *args, **kwargs)
        if not IDEMPOTENCY_KEY_RE.fullmatch(key):
            return error(400, "Idempotency-Key must be 1 to 255 visible ASCII characters.")
        # No body at all (an approval) counts as {}; endpoints that need one still refuse it.
        data, problem = read_json(request, empty_ok=True)
        if problem:
            return problem
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        fingerprint = hashlib.sha256(
            f"{request.method} {request.path}\n{canonical}".encode()
        ).hexdigest()

        def run() -> tuple[int, dict]:
            response = view(request, *args, **kwargs)
            return response.status_code, json.loads(response.content)

        try:
            outcome = idempotency.idempotent_request(
                user=request.user, key=key, fingerprint=fingerprint, run=run
            )
        except idempotency.IdempotencyMismatch:
            return error(
                409,
                "This Idempotency-Key was already used for a different request "
                "(another endpoint or body). Use a new key for a new request.",
            )
        except idempotency.IdempotencyInProgress:
            response = error(
                409, "A request with this Idempotency-Key is still in progress; retry shortly."
            )
            response["Retry-After"] = "1"
            return response
        response = JsonResponse(outcome.body, status=outcome.status_code)
        if outcome.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    return wrapper


def intake_data(data: dict) -> dict:
    customer = data.get("customer")
    customer = customer if isinstance(customer, dict) else {}
    return {
        "subject": data.get("subject"),
        "body": data.get("body"),
        "email": customer.get("email"),
        "name": customer.get("name") or "",
        "locale": customer.get("locale") or "",
    }


FIELD_NAMES = {"email": "customer.email", "name": "customer.name", "locale": "customer.locale"}


def not_strings(data: dict, names: tuple[str, ...], prefix: str = "") -> dict:
    """Field errors for values that are present but not JSON strings (forms would str() them)."""
    return {
        prefix + name: ["Must be a string."]
        for name in names
        if data.get(name) is not None and not isinstance(data[name], str)
    }


def field_errors(form: forms.Form, names: dict[str, str] | None = None) -> dict:
    names = names or {}
    return {
        names.get(field, field): [e["message"] for e in errors]
        for field, errors in form.errors.get_json_data().items()
    }


def page_json(request: HttpRequest, page: ApiPage, render: Callable, params: dict) -> dict:
    following = None
    if page.next_cursor:
        query = {k: v for k, v in params.items() if v not in ("", None)}
        query["cursor"] = page.next_cursor
        following = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    return {"results": [render(item) for item in page.items], "next": following}


def list_params(request: HttpRequest) -> dict:
    # The next URL repeats the caller's own parameters, as given.
    return {k: request.GET[k] for k in request.GET if k != "cursor"}


def query_form(request: HttpRequest, form_class: type[forms.Form]):
    """(form, None) for valid query parameters, else (None, a 400 response)."""
    unknown = sorted(set(request.GET) - set(form_class.base_fields))
    if unknown:
        return None, error(
            400,
            "Unknown query parameters.",
            fields={name: ["Not a parameter of this endpoint."] for name in unknown},
        )
    form = form_class(request.GET)
    if not form.is_valid():
        return None, error(400, "Invalid query parameters.", fields=field_errors(form))
    return form, None


def unknown_fields(data: dict, names: tuple[str, ...]) -> dict:
    return {name: ["Not a field of this endpoint."] for name in sorted(set(data) - set(names))}


def listing(
    request: HttpRequest,
    form_class: type[forms.Form],
    fetch: Callable[[dict], ApiPage],
    render: Callable,
) -> JsonResponse:
    """A cursor-paginated list: its query string checked by `form_class`, one page fetched
    with the cleaned filters, each row rendered by `render`."""
    form, problem = query_form(request, form_class)
    if problem:
        return problem
    try:
        page = fetch(form.cleaned_data)
    except InvalidCursor:
        return error(400, "Invalid cursor: use the 'next' URL of a previous page.")
    return JsonResponse(page_json(request, page, render, list_params(request)))


def page_size(filters: dict) -> int:
    return filters["limit"] or API_PAGE_SIZE
