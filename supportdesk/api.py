"""REST API v1: JSON in and out, bearer-token auth, clear errors, nothing half-saved."""

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

from feedback.models import FeedbackEvent
from replies.models import Draft
from replies.services import DraftAlreadyDecided, draft_send
from supportdesk import services
from supportdesk.inbox.forms import (
    API_PAGE_SIZE,
    ApiDraftListForm,
    ApiDraftSendForm,
    ApiFeedbackEventListForm,
    ApiPageForm,
    ApiTicketListForm,
    TriageCorrectionForm,
)
from supportdesk.inbox.selectors import (
    ApiPage,
    InvalidCursor,
    draft_for_api,
    draft_list_for_api,
    feedback_event_list_for_api,
    message_list_for_api,
    ticket_detail,
    ticket_list_for_api,
)
from supportdesk.intake import idempotency
from supportdesk.intake.api_base import allow_methods, api_view, error
from supportdesk.intake.forms import API_EXTERNAL_ID_PREFIX, TicketIntakeForm, TicketMessageForm
from supportdesk.intake.jsonbody import BadJSON, loads_strict
from supportdesk.models import Category, Message, Ticket
from triage.services import triage_correct


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Every other path under /api/v1/: a JSON 404, like the rest of the API."""
    return error(404, f"No API endpoint at {request.path}.")


def _read_json(
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
        data, problem = _read_json(request, empty_ok=True)
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


def _not_strings(data: dict, names: tuple[str, ...], prefix: str = "") -> dict:
    """Field errors for values that are present but not JSON strings (forms would str() them)."""
    return {
        prefix + name: ["Must be a string."]
        for name in names
        if data.get(name) is not None and not isinstance(data[name], str)
    }


def _field_errors(form: forms.Form, names: dict[str, str] | None = None) -> dict:
    names = names or {}
    return {
        names.get(field, field): [e["message"] for e in errors]
        for field, errors in form.errors.get_json_data().items()
    }


def _page_json(request: HttpRequest, page: ApiPage, render: Callable, params: dict) -> dict:
    following = None
    if page.next_cursor:
        query = {k: v for k, v in params.items() if v not in ("", None)}
        query["cursor"] = page.next_cursor
        following = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
    return {"results": [render(item) for item in page.items], "next": following}


def _list_params(request: HttpRequest) -> dict:
    # The next URL repeats the caller's own parameters, as given.
    return {k: request.GET[k] for k in request.GET if k != "cursor"}


def _query_form(request: HttpRequest, form_class: type[forms.Form]):
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
        return None, error(400, "Invalid query parameters.", fields=_field_errors(form))
    return form, None


@api_view
@allow_methods("GET", "POST")
@idempotent
def tickets(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        return _ticket_list(request)
    return _ticket_create(request)


def _listing(
    request: HttpRequest,
    form_class: type[forms.Form],
    fetch: Callable[[dict], ApiPage],
    render: Callable,
) -> JsonResponse:
    """A cursor-paginated list: its query string checked by `form_class`, one page fetched
    with the cleaned filters, each row rendered by `render`."""
    form, problem = _query_form(request, form_class)
    if problem:
        return problem
    try:
        page = fetch(form.cleaned_data)
    except InvalidCursor:
        return error(400, "Invalid cursor: use the 'next' URL of a previous page.")
    return JsonResponse(_page_json(request, page, render, _list_params(request)))


def _page_size(filters: dict) -> int:
    return filters["limit"] or API_PAGE_SIZE


def _ticket_list(request: HttpRequest) -> JsonResponse:
    return _listing(
        request,
        ApiTicketListForm,
        lambda f: ticket_list_for_api(
            status=f["status"],
            channel=f["channel"],
            customer_email=f["customer_email"],
            updated_since=f["updated_since"],
            cursor=f["cursor"],
            page_size=_page_size(f),
        ),
        ticket_summary_json,
    )


def _ticket_create(request: HttpRequest) -> JsonResponse:
    data, problem = _read_json(request)
    if problem:
        return problem
    if not isinstance(data.get("customer"), dict):
        return error(
            400,
            "Validation failed.",
            fields={"customer": ["An object with at least 'email' is required."]},
        )
    not_text = {
        **_not_strings(data, ("subject", "body")),
        **_not_strings(data["customer"], ("email", "name", "locale"), prefix="customer."),
    }
    if not_text:
        return error(400, "Validation failed.", fields=not_text)
    form = TicketIntakeForm(_intake_data(data))
    if not form.is_valid():
        return error(400, "Validation failed.", fields=_field_errors(form, FIELD_NAMES))
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
@allow_methods("GET")
def ticket(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        return JsonResponse(ticket_json(pk))
    except Ticket.DoesNotExist:
        return error(404, f"No ticket {pk}.")


@api_view
@allow_methods("GET", "POST")
@idempotent
def ticket_messages(request: HttpRequest, pk: int) -> JsonResponse:
    if request.method == "GET":
        return _message_list(request, pk)
    return _message_add(request, pk)


def _message_list(request: HttpRequest, pk: int) -> JsonResponse:
    form, problem = _query_form(request, ApiPageForm)
    if problem:
        return problem
    try:
        page = message_list_for_api(
            ticket_id=pk,
            cursor=form.cleaned_data["cursor"],
            page_size=form.cleaned_data["limit"] or API_PAGE_SIZE,
        )
    except Ticket.DoesNotExist:
        return error(404, f"No ticket {pk}.")
    except InvalidCursor:
        return error(400, "Invalid cursor: use the 'next' URL of a previous page.")
    return JsonResponse(_page_json(request, page, message_json, _list_params(request)))


def _message_add(request: HttpRequest, pk: int) -> JsonResponse:
    data, problem = _read_json(request)
    if problem:
        return problem
    not_text = _not_strings(data, ("body", "external_id"))
    if not_text:
        return error(400, "Validation failed.", fields=not_text)
    form = TicketMessageForm({"body": data.get("body"), "external_id": data.get("external_id")})
    if not form.is_valid():
        return error(400, "Validation failed.", fields=_field_errors(form))
    external_id = form.cleaned_data["external_id"]
    try:
        message, created = services.ticket_message_add(
            ticket_id=pk,
            body=form.cleaned_data["body"],
            external_id=API_EXTERNAL_ID_PREFIX + external_id if external_id else "",
        )
    except Ticket.DoesNotExist:
        return error(404, f"No ticket {pk}.")
    except services.ExternalIdTaken as exc:
        return error(
            409,
            f"external_id {external_id!r} is already used by a message on another ticket.",
            ticket_id=exc.ticket_id,
        )
    body = {**message_json(message), "ticket": {"id": pk, "status": message.ticket.status}}
    return JsonResponse(body, status=201 if created else 200)


def message_json(m: Message) -> dict:
    external_id = m.external_id
    return {
        "id": m.pk,
        "ticket_id": m.ticket_id,
        "direction": "inbound" if m.direction == Message.Direction.INBOUND else "outbound",
        "body": m.body_text,
        # Only ids a caller gave us through the API; other channels' ids are internal.
        "external_id": external_id.removeprefix(API_EXTERNAL_ID_PREFIX)
        if external_id.startswith(API_EXTERNAL_ID_PREFIX)
        else None,
        "created_at": m.created_at.isoformat(),
        "delivery_status": m.delivery_status or None,
    }


def ticket_summary_json(t: Ticket) -> dict:
    """A ticket as it appears in lists; needs ``customer`` selected with it."""
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
        "created_at": t.created_at.isoformat(),
        "updated_at": t.updated_at.isoformat(),
    }


def ticket_json(pk: int) -> dict:
    detail = ticket_detail(ticket_id=pk)
    tr, rd, dr = detail.triage, detail.routing, detail.draft
    return {
        **ticket_summary_json(detail.ticket),
        "triage": None
        if tr is None
        else {
            "category": tr.category or None,
            "category_confidence": tr.category_confidence,
            "out_of_scope": tr.out_of_scope,
            "emotion": tr.emotion,
            "emotion_confidence": tr.emotion_confidence,
            "emotion_intensity": tr.emotion_intensity,
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
        "messages": [message_json(m) for m in detail.messages],
    }


# -- the feedback loop: drafts, their approval, triage corrections, feedback events ----------


def _unknown_fields(data: dict, names: tuple[str, ...]) -> dict:
    return {name: ["Not a field of this endpoint."] for name in sorted(set(data) - set(names))}


@api_view
@allow_methods("GET")
def drafts(request: HttpRequest) -> JsonResponse:
    return _listing(
        request,
        ApiDraftListForm,
        lambda f: draft_list_for_api(
            status=f["status"],
            ticket_id=f["ticket"],
            since=f["since"],
            cursor=f["cursor"],
            page_size=_page_size(f),
        ),
        draft_json,
    )


@api_view
@allow_methods("GET", thing="draft")
def draft(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        return JsonResponse(draft_json(draft_for_api(draft_id=pk)))
    except Draft.DoesNotExist:
        return error(404, f"No draft {pk}.")


@api_view
@allow_methods("POST", thing="draft")
@idempotent
def draft_approve(request: HttpRequest, pk: int) -> JsonResponse:
    """Send the draft exactly as written. Takes no body (or ``{}``): text sent here by mistake
    must not be dropped silently while the original goes out."""
    data, problem = _read_json(request, empty_ok=True)
    if problem:
        return problem
    if data:
        return error(
            400,
            f"Approving sends the draft as written and takes no fields; to change the text, "
            f"POST it to /api/v1/drafts/{pk}/send.",
            fields=_unknown_fields(data, ()),
        )
    return _draft_decide(pk, actor=request.user, text=None, reason="")


SEND_FIELDS = ("text", "reason")


@api_view
@allow_methods("POST", thing="draft")
@idempotent
def draft_edit_send(request: HttpRequest, pk: int) -> JsonResponse:
    """Send edited text in place of the draft, with why it was changed."""
    data, problem = _read_json(request)
    if problem:
        return problem
    invalid = {**_unknown_fields(data, SEND_FIELDS), **_not_strings(data, SEND_FIELDS)}
    if invalid:
        return error(400, "Validation failed.", fields=invalid)
    form = ApiDraftSendForm({"text": data.get("text"), "reason": data.get("reason") or ""})
    if not form.is_valid():
        return error(400, "Validation failed.", fields=_field_errors(form))
    return _draft_decide(
        pk, actor=request.user, text=form.cleaned_data["text"], reason=form.cleaned_data["reason"]
    )


def _draft_decide(pk: int, *, actor, text: str | None, reason: str) -> JsonResponse:
    try:
        draft_send(draft_id=pk, actor=actor, text=text, reason=reason)
    except Draft.DoesNotExist:
        return error(404, f"No draft {pk}.")
    except DraftAlreadyDecided as exc:
        return error(409, str(exc))
    except services.ReplyNotAllowed as exc:
        return error(403, str(exc))
    except ValueError as exc:
        return error(400, str(exc))
    return JsonResponse(draft_json(draft_for_api(draft_id=pk)))


TRIAGE_FIELDS = ("category", "emotion", "urgency")


@api_view
@allow_methods("POST")
@idempotent
def ticket_triage(request: HttpRequest, pk: int) -> JsonResponse:
    """Correct a ticket's labels, as an agent does on the ticket page."""
    data, problem = _read_json(request)
    if problem:
        return problem
    # All three, as the ticket page sends them; a null category means "out of scope".
    invalid = {
        **{name: ["This field is required."] for name in TRIAGE_FIELDS if name not in data},
        **{
            name: ["May not be null."]
            for name in ("emotion", "urgency")
            if name in data and data[name] is None
        },
        **_unknown_fields(data, TRIAGE_FIELDS),
        **_not_strings(data, TRIAGE_FIELDS),
    }
    if invalid:
        return error(400, "Validation failed.", fields=invalid)
    form = TriageCorrectionForm(
        {
            "category": data["category"] or "",
            "emotion": data["emotion"],
            "urgency": data["urgency"],
        },
        categories=Category.objects.filter(active=True),
    )
    if not form.is_valid():
        return error(400, "Validation failed.", fields=_field_errors(form))
    try:
        ticket = triage_correct(ticket_id=pk, actor=request.user, **form.cleaned_data)
    except Ticket.DoesNotExist:
        return error(404, f"No ticket {pk}.")
    return JsonResponse(
        {
            "ticket_id": ticket.pk,
            "category": ticket.category.slug if ticket.category_id else None,
            "emotion": ticket.emotion or None,
            "urgency": ticket.urgency_label,
        }
    )


@api_view
@allow_methods("GET")
def feedback_events(request: HttpRequest) -> JsonResponse:
    return _listing(
        request,
        ApiFeedbackEventListForm,
        lambda f: feedback_event_list_for_api(
            kind=f["kind"],
            ticket_id=f["ticket"],
            since=f["since"],
            cursor=f["cursor"],
            page_size=_page_size(f),
        ),
        feedback_event_json,
    )


def draft_json(d: Draft) -> dict:
    """Needs ``decided_by``, ``in_reply_to`` and ``sent_message`` selected with it."""
    return {
        "id": d.pk,
        "ticket_id": d.ticket_id,
        "status": d.status,
        "text": d.text,
        "language": d.language,
        "citations": d.citations,
        "confidence": d.confidence,
        "grounded": d.grounded,
        "needs_translation": d.needs_translation,
        "needs_human_reason": d.needs_human_reason or None,
        "engine": d.engine,
        "engine_version": d.engine_version,
        "created_at": d.created_at.isoformat(),
        "decided_by": d.decided_by.get_username() if d.decided_by else None,
        "decided_at": d.decided_at.isoformat() if d.decided_at else None,
        "in_reply_to": message_json(d.in_reply_to),
        "sent_message": message_json(d.sent_message) if d.sent_message else None,
    }


def feedback_event_json(e: FeedbackEvent) -> dict:
    """Needs ``actor`` selected with it."""
    return {
        "id": e.pk,
        "kind": e.kind,
        "actor": e.actor.get_username() if e.actor else None,
        "ticket_id": e.ticket_id,
        "draft_id": e.draft_id,
        "triage_id": e.triage_id,
        "routing_id": e.routing_id,
        "message_id": e.message_id,
        "before": e.before,
        "after": e.after,
        "diff": e.diff,
        "reason": e.reason or None,
        "note": e.note,
        "created_at": e.created_at.isoformat(),
    }
