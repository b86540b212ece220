"""Agent actions on a draft: approve & send, edit & send, escalate."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from replies.engine.macros import fill, first_name
from replies.models import Draft
from replies.selectors import macros_for
from replies.services import (
    DraftAlreadyDecided,
    draft_escalate,
    draft_regenerate,
    draft_send,
    reply_send_manual,
)
from supportdesk.inbox.ticket_page import ticket_detail
from supportdesk.inbox.views import (
    HtmxHttpRequest,
    agent_view,
    htmx_redirect,
    show_refusal,
    ticket_context,
)
from supportdesk.models import Message, Ticket
from supportdesk.outbox.delivery import (
    NotResendable,
    customer_outbound_unblock,
    outbox_confirm_delivered,
    outbox_resend,
)
from supportdesk.services import ReplyNotAllowed, note_add, presence_editing


def _ticket_response(
    request: HtmxHttpRequest,
    ticket_id: int,
    *,
    error: str = "",
    status: int = 200,
    kept_text: str = "",
):
    if not request.htmx:
        return htmx_redirect(request, f"/tickets/{ticket_id}/")
    context = ticket_context(ticket_detail(ticket_id=ticket_id), user=request.user)
    context["action_error"] = error
    context["kept_text"] = kept_text
    response = render(request, "supportdesk/ticket.html#ticket-work", context, status=status)
    return show_refusal(response) if status >= 400 else response


def _act(
    request: HtmxHttpRequest,
    ticket_id: int,
    action: Callable[[], object],
    *,
    typed: str | None = None,
) -> HttpResponse:
    """Run one action on a ticket and show its work panel again; a refusal is shown there with
    its reason (409: someone acted first; 403: not theirs to do; 400: the request cannot be
    carried out). What the agent `typed` is never lost: a refused action offers it back in the
    composer."""
    kept = (typed or "").strip()
    try:
        action()
    except DraftAlreadyDecided as exc:
        if kept:
            exc = f"{exc} Your text is kept below: send it as a further reply, or as a note."
        return _ticket_response(request, ticket_id, error=str(exc), status=409, kept_text=kept)
    except ReplyNotAllowed as exc:
        return _ticket_response(request, ticket_id, error=str(exc), status=403, kept_text=kept)
    except ValueError as exc:
        return _ticket_response(request, ticket_id, error=str(exc), status=400, kept_text=kept)
    return _ticket_response(request, ticket_id)


@agent_view
@require_POST
def send(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft, pk=pk)
    edited_text = request.POST.get("text") if request.POST.get("action") == "edit" else None
    return _act(
        request,
        draft.ticket_id,
        lambda: draft_send(
            draft_id=draft.pk,
            actor=request.user,
            text=edited_text,
            reason=request.POST.get("edit_reason", ""),
        ),
        typed=edited_text,
    )


@agent_view
@require_POST
def regenerate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft, pk=pk)
    instruction = request.POST.get("instruction", "")
    return _act(
        request,
        draft.ticket_id,
        lambda: draft_regenerate(draft_id=draft.pk, actor=request.user, instruction=instruction),
    )


@agent_view
@require_POST
def escalate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    draft = get_object_or_404(Draft, pk=pk)
    reason = request.POST.get("reason", "")[:250]
    return _act(
        request,
        draft.ticket_id,
        lambda: draft_escalate(draft_id=draft.pk, actor=request.user, reason=reason),
    )


@agent_view
@require_POST
def reply(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    text = request.POST.get("text", "")
    return _act(
        request,
        ticket.pk,
        lambda: reply_send_manual(ticket_id=ticket.pk, actor=request.user, text=text),
        typed=text,
    )


@agent_view
@require_POST
def note(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """An internal note for the team (never sent to the customer)."""
    ticket = get_object_or_404(Ticket, pk=pk)
    text = request.POST.get("text", "")
    return _act(
        request,
        ticket.pk,
        lambda: note_add(ticket_id=ticket.pk, actor=request.user, text=text),
        typed=text,
    )


@agent_view
@require_POST
def editing(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The agent's page says they are typing on this ticket (state=on) or stopped (off)."""
    ticket = get_object_or_404(Ticket, pk=pk)
    presence_editing(
        ticket_id=ticket.pk, user_id=request.user.pk, editing=request.POST.get("state") == "on"
    )
    return HttpResponse(status=204)


@agent_view
@require_POST
def outbound_action(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Resend a failed or unconfirmed reply, or confirm an unconfirmed one was delivered."""
    message = get_object_or_404(Message, pk=pk, direction=Message.Direction.OUTBOUND)
    action = request.POST.get("action")
    try:
        if action == "resend":
            outbox_resend(message_id=message.pk)
        elif action == "delivered":
            outbox_confirm_delivered(message_id=message.pk)
        else:
            return _ticket_response(
                request, message.ticket_id, error=gettext("Unknown delivery action."), status=400
            )
    except NotResendable as exc:
        return _ticket_response(request, message.ticket_id, error=str(exc), status=409)
    return _ticket_response(request, message.ticket_id)


@agent_view
@require_POST
def allow_sending(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Lift the stop on sends to a ticket's customer (their address was fixed)."""
    ticket = get_object_or_404(Ticket, pk=pk)
    customer_outbound_unblock(customer_id=ticket.customer_id)
    return _ticket_response(request, ticket.pk)


@agent_view
@require_GET
def macros(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The macro picker's list for this ticket: each macro in the ticket's language, its
    placeholders filled for this customer and this agent."""
    ticket = get_object_or_404(Ticket.objects.select_related("customer"), pk=pk)
    language = ticket.language or ticket.customer.locale or "en"
    customer = ticket.customer.display_name
    agent = request.user.get_full_name() or request.user.get_username()
    values = {
        "customer_name": customer,
        "customer_first_name": first_name(ticket.customer.name) or customer,
        "ticket_number": ticket.reference,
        "agent_name": agent,
        "agent_first_name": request.user.first_name or agent,
    }
    query = request.GET.get("q", "")[:100]
    found = [
        {"title": m.title, "language": m.language, "text": fill(m.body, values)}
        for m in macros_for(language=language, query=query)
    ]
    context = {"macros": found, "macro_query": query, "ticket": ticket}
    return render(request, "supportdesk/ticket.html#macro-list", context)
