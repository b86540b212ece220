"""Triage corrections and the supervisor's escalation queue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from supportdesk.inbox.forms import TriageCorrectionForm
from supportdesk.inbox.ticket_page import ticket_detail
from supportdesk.inbox.views import (
    HtmxHttpRequest,
    agent_view,
    htmx_redirect,
    show_refusal,
    ticket_context,
)
from supportdesk.models import Category, Ticket
from supportdesk.services import ticket_tag_add, ticket_tag_remove
from triage.escalations import escalation_acknowledge
from triage.models import Escalation
from triage.selectors import (
    escalations_open_page,
    routing_rules_listing,
    rule_override_report,
)
from triage.services import (
    escalations_bulk_acknowledge,
    routing_override,
    ticket_deescalate,
    ticket_escalate,
    ticket_merge,
    ticket_reassign,
    triage_correct,
)


def supervisor_view(view):
    return login_required(permission_required("supportdesk.supervise", raise_exception=True)(view))


@agent_view
@require_POST
def correct(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    form = TriageCorrectionForm(request.POST, categories=Category.objects.filter(active=True))
    status = 200
    if form.is_valid():
        triage_correct(
            ticket_id=ticket.pk,
            actor=request.user,
            category=form.cleaned_data["category"],
            emotion=form.cleaned_data["emotion"],
            urgency=form.cleaned_data["urgency"],
        )
    else:
        status = 400
    if not request.htmx:
        return htmx_redirect(request, f"/tickets/{ticket.pk}/")
    context = ticket_context(ticket_detail(ticket_id=ticket.pk), user=request.user)
    if status == 400:
        context["correction_form"] = form
    return render(request, "supportdesk/ticket.html#ticket-summary", context, status=status)


@agent_view
@require_POST
def reassign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    raw = request.POST.get("assignee", "")
    try:
        assignee_id = int(raw) if raw else None
        ticket_reassign(ticket_id=ticket.pk, actor=request.user, assignee_id=assignee_id)
    except ValueError:
        return _summary(
            request, ticket, gettext("Choose someone who works the inbox."), key="assign_error"
        )
    return _summary(request, ticket)


def _summary(
    request: HtmxHttpRequest, ticket: Ticket, error: str = "", *, key: str = "routing_error"
) -> HttpResponse:
    """The ticket's summary panel again, with `error` (if any) shown under `key`'s form."""
    if not request.htmx:
        return htmx_redirect(request, f"/tickets/{ticket.pk}/")
    context = ticket_context(ticket_detail(ticket_id=ticket.pk), user=request.user)
    context[key] = error
    response = render(
        request, "supportdesk/ticket.html#ticket-summary", context, status=400 if error else 200
    )
    return show_refusal(response) if error else response


@agent_view
@require_POST
def tag_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    try:
        ticket_tag_add(ticket_id=ticket.pk, name=request.POST.get("name", ""))
    except ValueError as exc:
        return _summary(request, ticket, str(exc), key="tag_error")
    return _summary(request, ticket)


@agent_view
@require_POST
def tag_remove(request: HtmxHttpRequest, pk: int, tag_id: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    ticket_tag_remove(ticket_id=ticket.pk, tag_id=tag_id)
    return _summary(request, ticket)


@agent_view
@require_POST
def merge(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Merge this ticket into another of the customer's; the agent lands on that one."""
    ticket = get_object_or_404(Ticket, pk=pk)
    raw = request.POST.get("target", "").lstrip("#")
    try:
        target = ticket_merge(
            source_id=ticket.pk, target_id=int(raw) if raw.isdigit() else 0, actor=request.user
        )
    except Ticket.DoesNotExist:
        return _summary(request, ticket, gettext("There is no such ticket."), key="merge_error")
    except ValueError as exc:
        return _summary(request, ticket, str(exc), key="merge_error")
    return htmx_redirect(request, f"/tickets/{target.pk}/")


@supervisor_view
@require_POST
def reroute(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    try:
        routing_override(
            ticket_id=ticket.pk, actor=request.user, action=request.POST.get("action", "")
        )
    except ValueError as exc:
        return _summary(request, ticket, str(exc))
    return _summary(request, ticket)


@agent_view
@require_POST
def escalate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    try:
        ticket_escalate(
            ticket_id=ticket.pk, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValueError as exc:
        return _summary(request, ticket, str(exc))
    return _summary(request, ticket)


@supervisor_view
@require_POST
def deescalate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    ticket_deescalate(ticket_id=ticket.pk, actor=request.user)
    return _summary(request, ticket)


@supervisor_view
@vary_on_headers("HX-Request")
def supervisor(request: HtmxHttpRequest) -> HttpResponse:
    context = {"escalations": escalations_open_page()}
    template = "supportdesk/supervisor.html"
    return render(request, f"{template}#escalation-list" if request.htmx else template, context)


@supervisor_view
def routing_rules(request: HtmxHttpRequest) -> HttpResponse:
    """The routing rules in evaluation order, read-only; admins edit them in the admin."""
    context = {
        "rules": routing_rules_listing(),
        "report": rule_override_report(),
        "can_edit": request.user.has_perm("triage.change_routingrule"),
    }
    return render(request, "triage/routing_rules.html", context)


@supervisor_view
@require_POST
def escalations_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Acknowledge (or take) the selected escalations at once."""
    ids = [int(v) for v in request.POST.getlist("escalation") if v.isdigit()]
    status, message = 200, ""
    try:
        count = escalations_bulk_acknowledge(
            escalation_ids=ids, actor=request.user, assign=request.POST.get("assign") == "1"
        )
        message = ngettext(
            "%(count)s escalation acknowledged.", "%(count)s escalations acknowledged.", count
        ) % {"count": count}
    except ValueError as exc:
        status, message = 400, str(exc)
    if not request.htmx:
        return htmx_redirect(request, "/supervisor/")
    context = {"escalations": escalations_open_page(), "bulk_message": message}
    response = render(
        request, "supportdesk/supervisor.html#escalation-list", context, status=status
    )
    return show_refusal(response) if status >= 400 else response


@supervisor_view
@require_POST
def acknowledge(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    escalation = get_object_or_404(Escalation, pk=pk)
    escalation_acknowledge(
        escalation_id=escalation.pk, actor=request.user, assign=request.POST.get("assign") == "1"
    )
    if not request.htmx:
        return htmx_redirect(request, "/supervisor/")
    context = {"escalations": escalations_open_page()}
    return render(request, "supportdesk/supervisor.html#escalation-list", context)
