"""The agent inbox and the ticket page."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from feedback.models import FeedbackEvent
from supportdesk import services
from supportdesk.inbox.forms import InboxFilterForm, TriageCorrectionForm, status_label
from supportdesk.inbox.selectors import SORTS, model_quality, ticket_list_for_inbox
from supportdesk.inbox.ticket_page import ticket_detail, ticket_people
from supportdesk.models import Category, MessageAttachment, SavedView, Ticket
from supportdesk.preferences import (
    Preferences,
    preferences_set,
    session_preferences,
    time_zones,
)
from triage.selectors import (
    ASSIGNABLE_LIMIT,
    ASSIGNEE_MATCHES,
    assignable_agents,
    assignable_matching,
)
from triage.services import tickets_bulk

logger = logging.getLogger(__name__)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def show_refusal(response: HttpResponse) -> HttpResponse:
    """Mark a 4xx answer that carries the panel with the refusal's reason: the page swaps it in
    like any answer (static/js/desk.js), where other failed requests become a notice."""
    response["X-Desk-Swap-Error"] = "1"
    return response


def agent_view(view):
    """Signed-in users with the inbox permission; anonymous users go to the login page."""
    return login_required(permission_required("supportdesk.work_inbox", raise_exception=True)(view))


def _categories() -> list[Category]:
    return list(Category.objects.filter(active=True).order_by("name"))


@agent_view
@vary_on_headers("HX-Request")
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None, categories=_categories())
    context = _inbox_context(request, form, cursor=request.GET.get("after", ""))
    if request.htmx and request.GET.get("after"):
        return render(request, "supportdesk/inbox.html#ticket-page", context)
    if request.htmx:
        return render(request, "supportdesk/inbox.html#ticket-list", context)
    return render(request, "supportdesk/inbox.html", context)


def _inbox_context(request: HtmxHttpRequest, form: InboxFilterForm, *, cursor: str = "") -> dict:
    filters = form.filters()
    page = ticket_list_for_inbox(user=request.user, filters=filters, cursor=cursor)
    return {
        "form": form,
        "filters": filters,
        "saved_views": saved_views_of(request.user),
        "assignees": assignable_agents()[:ASSIGNABLE_LIMIT],
        "page": page,
        "query": filters.as_query(),
        "is_first_page": not cursor,
        "sort_label": SORTS.get(filters.sort, SORTS["urgency"])[1],
        "status_label": status_label(filters.status),
        "model_quality": model_quality(),
    }


@agent_view
@require_POST
def inbox_bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Assign or solve the selected tickets, then show the list again (the filter form's fields
    come with the request, so it is the list the agent was looking at)."""
    form = InboxFilterForm(request.POST, categories=_categories())
    ids = [int(v) for v in request.POST.getlist("ticket") if v.isdigit()]
    assignee = request.POST.get("assignee", "")
    status = 200
    try:
        outcome = tickets_bulk(
            ticket_ids=ids,
            actor=request.user,
            action=request.POST.get("action", ""),
            assignee_id=int(assignee) if assignee.isdigit() else None,
        )
        if request.POST.get("action") == "assign":
            said = ngettext(
                "%(count)s ticket assigned.", "%(count)s tickets assigned.", outcome.done
            )
        else:
            said = ngettext(
                "%(count)s ticket marked solved.", "%(count)s tickets marked solved.", outcome.done
            )
        message = said % {"count": outcome.done}
        if outcome.refused:
            message += " " + gettext("Not changed: %(reasons)s.") % {
                "reasons": "; ".join(outcome.refused[:5])
            }
    except ValueError as exc:
        message, status = str(exc), 400
    if not request.htmx:
        return redirect("inbox")
    context = _inbox_context(request, form)
    context["bulk_message"] = message
    response = render(request, "supportdesk/inbox.html#ticket-list", context, status=status)
    return show_refusal(response) if status >= 400 else response


def saved_views_of(user) -> list[SavedView]:
    return list(SavedView.objects.filter(user=user)[: services.SAVED_VIEWS_MAX])


@agent_view
@require_POST
def saved_view_save(request: HtmxHttpRequest) -> HttpResponse:
    """Save the inbox's current search, filters and order under a name (the form's own fields
    are posted with it, and read back through the filter form: only what it accepts is kept)."""
    form = InboxFilterForm(request.POST, categories=_categories())
    query = urlencode(form.filters().as_query())
    error = ""
    try:
        services.saved_view_save(user=request.user, name=request.POST.get("name", ""), query=query)
    except ValueError as exc:
        error = str(exc)
    return _saved_views_response(request, error=error)


@agent_view
@require_POST
def saved_view_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    services.saved_view_delete(user=request.user, view_id=pk)
    return _saved_views_response(request)


def _saved_views_response(request: HtmxHttpRequest, *, error: str = "") -> HttpResponse:
    if not request.htmx:
        return redirect("inbox")
    context = {"saved_views": saved_views_of(request.user), "saved_view_error": error}
    response = render(request, "supportdesk/inbox.html#saved-views", context)
    if error:
        response.status_code = 400
        show_refusal(response)
    return response


@agent_view
@vary_on_headers("HX-Request")
def ticket_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    supervises = request.user.has_perm("supportdesk.supervise")
    try:
        detail = ticket_detail(ticket_id=pk, count_desk_escalations=supervises)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket") from None
    context = ticket_context(detail, user=request.user)
    if supervises:
        context["escalation_count"] = detail.desk_open_escalations  # read with the ticket
    return render(request, "supportdesk/ticket.html", context)


def ticket_context(detail, *, user) -> dict[str, object]:
    """Context for the ticket page and each of its partials (the consumer uses it too)."""
    ticket = detail.ticket
    correction = TriageCorrectionForm(
        initial={
            "category": ticket.category.slug if ticket.category else "",
            "emotion": ticket.emotion or "neutral",
            "urgency": ticket.urgency_label
            if ticket.urgency != Ticket.Urgency.UNKNOWN
            else "medium",
        },
        categories=_categories(),
    )
    people = ticket_people(ticket=ticket, user=user)
    return {
        "detail": detail,
        "ticket": ticket,
        "draft": detail.draft,
        "correction_form": correction,
        "viewers": people.viewers,
        "assignees": people.assignees,
        "can_supervise": user.has_perm("supportdesk.supervise"),
        "reply_refusal": services.reply_refusal(ticket=ticket, actor=user),
        "edit_reasons": FeedbackEvent.EditReason.choices,
    }


@agent_view
@require_GET
def ticket_assignees(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The assign control's choices for a search: people who work the inbox matching `q` (at
    most ASSIGNEE_MATCHES), the current assignee kept selected."""
    ticket = get_object_or_404(Ticket.objects.select_related("assignee"), pk=pk)
    query = request.GET.get("q", "")
    matches = assignable_matching(query=query)
    assignees = matches
    if ticket.assignee is not None and all(p.pk != ticket.assignee_id for p in matches):
        assignees = [ticket.assignee, *matches]
    return render(
        request,
        "supportdesk/ticket.html#assignee-select",
        {
            "ticket": ticket,
            "assignees": assignees,
            "assignee_matches": len(matches),
            "assignee_query": query.strip(),
            "assignee_limit": ASSIGNEE_MATCHES,
            "oob_matches": True,
        },
    )


@agent_view
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """A stored attachment, always as a download of opaque bytes.

    Whatever the sender declared (HTML, SVG, scripts …), the browser gets
    ``application/octet-stream``, ``Content-Disposition: attachment`` and ``nosniff``, so a
    customer's file never renders or runs in the desk's origin.
    """
    attachment = get_object_or_404(MessageAttachment.objects.exclude(file=""), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The attachment's file is missing") from None
    response = FileResponse(handle, content_type="application/octet-stream")
    response["Content-Disposition"] = _attachment_disposition(attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _attachment_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, the exact UTF-8 name for the rest."""
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@agent_view
@require_POST
def ticket_retry_ai(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Run the AI pipeline again for a ticket whose AI step failed."""
    ticket = get_object_or_404(Ticket, pk=pk)
    services.ticket_retry_ai(ticket_id=ticket.pk)
    return htmx_redirect(request, reverse("ticket", args=[ticket.pk]))


@agent_view
@require_POST
def ticket_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Mark solved, or reopen; answers with the ticket's summary column."""
    ticket = get_object_or_404(Ticket, pk=pk)
    change = {"solve": services.ticket_solve, "reopen": services.ticket_reopen}
    action = request.POST.get("action", "")
    if action not in change:
        return HttpResponseBadRequest("action must be solve or reopen")
    change[action](ticket_id=ticket.pk)
    if not request.htmx:
        return htmx_redirect(request, reverse("ticket", args=[ticket.pk]))
    context = ticket_context(ticket_detail(ticket_id=ticket.pk), user=request.user)
    return render(request, "supportdesk/ticket.html#ticket-summary", context)


@login_required
def preferences(request: HtmxHttpRequest) -> HttpResponse:
    """The signed-in person's own settings: the desk's language, and the time zone dates are
    shown in."""
    current = session_preferences(request)
    error, saved = "", False
    if request.method == "POST":
        chosen = Preferences(
            time_zone=request.POST.get("time_zone", "").strip(),
            language=request.POST.get("language", "").strip(),
        )
        try:
            preferences_set(
                request=request,
                user=request.user,
                time_zone=chosen.time_zone,
                language=chosen.language,
            )
        except ValueError as exc:
            error = str(exc)
        else:
            current, saved = chosen, True
            # This answer already speaks the new language.
            translation.activate(chosen.language or translation.get_language_from_request(request))
            request.LANGUAGE_CODE = translation.get_language()
    context = {
        "time_zones": time_zones(),
        "current": current,
        "desk_time_zone": settings.TIME_ZONE,
        "languages": settings.LANGUAGES,
        "error": error,
        "saved": saved,
    }
    return render(request, "supportdesk/preferences.html", context, status=400 if error else 200)


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.has_perm("supportdesk.work_inbox"):
        return redirect("inbox")
    if request.user.is_authenticated:
        return redirect(reverse("admin:index"))
    return redirect("login")


def htmx_redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
