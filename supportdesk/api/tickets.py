"""Tickets and their messages: list, create, read, add a message."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from supportdesk import services
from supportdesk.api.common import (
    FIELD_NAMES,
    field_errors,
    idempotent,
    intake_data,
    list_params,
    listing,
    not_strings,
    page_json,
    page_size,
    query_form,
    read_json,
)
from supportdesk.api.selectors import (
    InvalidCursor,
    message_list_for_api,
    ticket_for_api,
    ticket_list_for_api,
)
from supportdesk.inbox.forms import (
    API_PAGE_SIZE,
    ApiPageForm,
    ApiTicketListForm,
)
from supportdesk.intake.api_base import allow_methods, api_view, error
from supportdesk.intake.forms import API_EXTERNAL_ID_PREFIX, TicketIntakeForm, TicketMessageForm
from supportdesk.models import Message, Ticket


@api_view
@allow_methods("GET", "POST")
@idempotent
def tickets(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        return _ticket_list(request)
    return _ticket_create(request)


def _ticket_list(request: HttpRequest) -> JsonResponse:
    return listing(
        request,
        ApiTicketListForm,
        lambda f: ticket_list_for_api(
            status=f["status"],
            channel=f["channel"],
            customer_email=f["customer_email"],
            updated_since=f["updated_since"],
            cursor=f["cursor"],
            page_size=page_size(f),
        ),
        ticket_summary_json,
    )


def _ticket_create(request: HttpRequest) -> JsonResponse:
    data, problem = read_json(request)
    if problem:
        return problem
    if not isinstance(data.get("customer"), dict):
        return error(
            400,
            "Validation failed.",
            fields={"customer": ["An object with at least 'email' is required."]},
        )
    not_text = {
        **not_strings(data, ("subject", "body")),
        **not_strings(data["customer"], ("email", "name", "locale"), prefix="customer."),
    }
    if not_text:
        return error(400, "Validation failed.", fields=not_text)
    form = TicketIntakeForm(intake_data(data))
    if not form.is_valid():
        return error(400, "Validation failed.", fields=field_errors(form, FIELD_NAMES))
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
    form, problem = query_form(request, ApiPageForm)
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
    return JsonResponse(page_json(request, page, message_json, list_params(request)))


def _message_add(request: HttpRequest, pk: int) -> JsonResponse:
    data, problem = read_json(request)
    if problem:
        return problem
    not_text = not_strings(data, ("body", "external_id"))
    if not_text:
        return error(400, "Validation failed.", fields=not_text)
    form = TicketMessageForm({"body": data.get("body"), "external_id": data.get("external_id")})
    if not form.is_valid():
        return error(400, "Validation failed.", fields=field_errors(form))
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
    detail = ticket_for_api(ticket_id=pk)
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
