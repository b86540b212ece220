"""REST API v1: JSON in and out, bearer-token auth, clear errors, nothing half-saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from supportdesk import services
from supportdesk.forms import TicketIntakeForm
from supportdesk.models import Ticket
from supportdesk.selectors import ticket_detail


def error(status: int, message: str, **extra: object) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


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


def _read_json(request: HttpRequest) -> tuple[dict | None, JsonResponse | None]:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None, error(
            413, f"Body too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    if request.content_type != "application/json":
        return None, error(415, "Send the body as application/json.")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except RequestDataTooBig:
        return None, error(
            413, f"Body too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, error(400, f"Malformed JSON: {exc}")
    if not isinstance(data, dict):
        return None, error(400, "The body must be a JSON object.")
    return data, None


def _intake_data(data: dict) -> dict:
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


@api_view
@require_http_methods(["POST"])
def tickets(request: HttpRequest) -> JsonResponse:
    data, problem = _read_json(request)
    if problem:
        return problem
    if not isinstance(data.get("customer"), dict):
        return error(
            400,
            "Validation failed.",
            fields={"customer": ["An object with at least 'email' is required."]},
        )
    form = TicketIntakeForm(_intake_data(data))
    if not form.is_valid():
        fields = {FIELD_NAMES.get(k, k): v for k, v in form.errors.get_json_data().items()}
        fields = {k: [e["message"] for e in v] for k, v in fields.items()}
        return error(400, "Validation failed.", fields=fields)
    cleaned = form.cleaned_data
    ticket = services.ticket_create(
        email=cleaned["email"],
        name=cleaned["name"],
        locale=cleaned["locale"],
        subject=cleaned["subject"],
        body=cleaned["body"],
        channel=Ticket.Channel.API,
    )
    return JsonResponse(ticket_json(ticket.pk), status=201)


@api_view
@require_http_methods(["GET"])
def ticket(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        return JsonResponse(ticket_json(pk))
    except Ticket.DoesNotExist:
        return error(404, f"No ticket {pk}.")


def ticket_json(pk: int) -> dict:
    detail = ticket_detail(ticket_id=pk)
    t, tr, rd, dr = detail.ticket, detail.triage, detail.routing, detail.draft
    return {
        "id": t.pk,
        "reference": t.reference,
        "subject": t.subject,
        "status": t.status,
        "channel": t.channel,
        "language": t.language or None,
        "urgency": t.urgency_label if t.urgency != Ticket.Urgency.UNKNOWN else None,
        "needs_manual_triage": t.needs_manual_triage,
        "escalated": t.is_escalated,
        "customer": {
            "email": t.customer.email,
            "name": t.customer.name,
            "locale": t.customer.locale,
        },
        "triage": None
        if tr is None
        else {
            "category": tr.category or None,
            "category_confidence": tr.category_confidence,
            "out_of_scope": tr.out_of_scope,
            "emotion": tr.emotion,
            "emotion_confidence": tr.emotion_confidence,
            "urgency": tr.urgency,
            "urgency_reasons": tr.urgency_reasons,
            "needs_human": tr.needs_human,
            "needs_human_reasons": tr.needs_human_reasons,
            "language": tr.language,
            "engine": tr.engine,
            "engine_version": tr.engine_version,
        },
        "routing": None if rd is None else {"action": rd.action, "reasons": rd.reasons},
        "draft": None
        if dr is None
        else {
            "id": dr.pk,
            "status": dr.status,
            "text": dr.text,
            "language": dr.language,
            "citations": dr.citations,
            "grounded": dr.grounded,
            "needs_translation": dr.needs_translation,
        },
        "messages": [
            {
                "id": m.pk,
                "direction": "inbound" if m.direction == "in" else "outbound",
                "body": m.body_text,
                "created_at": m.created_at.isoformat(),
                "delivery_status": m.delivery_status or None,
            }
            for m in detail.messages
        ],
        "created_at": t.created_at.isoformat(),
    }
