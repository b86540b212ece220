"""The feedback loop: drafts, their approval, triage corrections, feedback events."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from feedback.models import FeedbackEvent
from replies.models import Draft
from replies.services import DraftAlreadyDecided, draft_send
from supportdesk import services
from supportdesk.api.common import (
    field_errors,
    idempotent,
    listing,
    not_strings,
    page_size,
    read_json,
    unknown_fields,
)
from supportdesk.api.selectors import (
    draft_for_api,
    draft_list_for_api,
    feedback_event_list_for_api,
)
from supportdesk.api.tickets import message_json
from supportdesk.inbox.forms import (
    ApiDraftListForm,
    ApiDraftSendForm,
    ApiFeedbackEventListForm,
    TriageCorrectionForm,
)
from supportdesk.intake.api_base import allow_methods, api_view, error
from supportdesk.models import Category, Ticket
from triage.services import triage_correct


@api_view
@allow_methods("GET")
def drafts(request: HttpRequest) -> JsonResponse:
    return listing(
        request,
        ApiDraftListForm,
        lambda f: draft_list_for_api(
            status=f["status"],
            ticket_id=f["ticket"],
            since=f["since"],
            cursor=f["cursor"],
            page_size=page_size(f),
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
    data, problem = read_json(request, empty_ok=True)
    if problem:
        return problem
    if data:
        return error(
            400,
            f"Approving sends the draft as written and takes no fields; to change the text, "
            f"POST it to /api/v1/drafts/{pk}/send.",
            fields=unknown_fields(data, ()),
        )
    return _draft_decide(pk, actor=request.user, text=None, reason="")


SEND_FIELDS = ("text", "reason")


@api_view
@allow_methods("POST", thing="draft")
@idempotent
def draft_edit_send(request: HttpRequest, pk: int) -> JsonResponse:
    """Send edited text in place of the draft, with why it was changed."""
    data, problem = read_json(request)
    if problem:
        return problem
    invalid = {**unknown_fields(data, SEND_FIELDS), **not_strings(data, SEND_FIELDS)}
    if invalid:
        return error(400, "Validation failed.", fields=invalid)
    form = ApiDraftSendForm({"text": data.get("text"), "reason": data.get("reason") or ""})
    if not form.is_valid():
        return error(400, "Validation failed.", fields=field_errors(form))
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
    data, problem = read_json(request)
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
        **unknown_fields(data, TRIAGE_FIELDS),
        **not_strings(data, TRIAGE_FIELDS),
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
        return error(400, "Validation failed.", fields=field_errors(form))
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
    return listing(
        request,
        ApiFeedbackEventListForm,
        lambda f: feedback_event_list_for_api(
            kind=f["kind"],
            ticket_id=f["ticket"],
            since=f["since"],
            cursor=f["cursor"],
            page_size=page_size(f),
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
