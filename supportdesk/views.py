"""The agent inbox, the ticket page and the public contact form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from supportdesk import services
from supportdesk.forms import ContactForm, InboxFilterForm, TriageCorrectionForm
from supportdesk.models import Ticket
from supportdesk.selectors import ticket_detail, ticket_list_for_inbox, ticket_viewers
from triage.models import Category
from triage.selectors import ASSIGNABLE_LIMIT, active_model_versions, assignable_agents


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def agent_view(view):
    """Signed-in users with the inbox permission; anonymous users go to the login page."""
    return login_required(permission_required("supportdesk.work_inbox", raise_exception=True)(view))


def _categories() -> list[Category]:
    return list(Category.objects.filter(active=True).order_by("name"))


@agent_view
@vary_on_headers("HX-Request")
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    categories = _categories()
    form = InboxFilterForm(request.GET or None, categories=categories)
    filters = form.filters()
    page = ticket_list_for_inbox(
        user=request.user, filters=filters, cursor=request.GET.get("after", "")
    )
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "query": filters.as_query(),
        "is_first_page": not request.GET.get("after"),
        "model_versions": active_model_versions(),
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "supportdesk/inbox.html#ticket-page", context)
    if request.htmx:
        return render(request, "supportdesk/inbox.html#ticket-list", context)
    return render(request, "supportdesk/inbox.html", context)


@agent_view
@vary_on_headers("HX-Request")
def ticket_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    try:
        detail = ticket_detail(ticket_id=pk)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket") from None
    context = ticket_context(detail, user=request.user)
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
    return {
        "detail": detail,
        "ticket": ticket,
        "draft": detail.draft,
        "correction_form": correction,
        "viewers": ticket_viewers(ticket_id=ticket.pk, exclude_user_id=user.pk),
        "assignees": assignable_agents()[:ASSIGNABLE_LIMIT],
        "can_supervise": user.has_perm("supportdesk.supervise"),
    }


@agent_view
@require_POST
def ticket_retry_ai(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Run the AI pipeline again for a ticket whose AI step failed."""
    ticket = get_object_or_404(Ticket, pk=pk)
    services.ticket_retry_ai(ticket_id=ticket.pk)
    return htmx_redirect(request, reverse("ticket", args=[ticket.pk]))


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            # A bot filled the honeypot: answer like a success, keep nothing.
            return redirect("contact-thanks")
        ticket = services.ticket_create(
            email=data["email"],
            name=data["name"],
            locale=data["locale"],
            subject=data["subject"],
            body=data["body"],
            channel=Ticket.Channel.WEB,
        )
        request.session["last_ticket_reference"] = ticket.reference
        return redirect("contact-thanks")
    status = 400 if request.method == "POST" else 200
    return render(request, "supportdesk/contact.html", {"form": form}, status=status)


def contact_thanks(request: HttpRequest) -> HttpResponse:
    reference = request.session.get("last_ticket_reference", "")
    return render(request, "supportdesk/contact_thanks.html", {"reference": reference})


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.has_perm("supportdesk.work_inbox"):
        return redirect("inbox")
    if request.user.is_authenticated:
        return redirect(reverse("admin:index"))
    return redirect("login")


def htmx_redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
