"""The agent inbox, the ticket page, the public contact form and the Zendesk webhook."""

from __future__ import annotations

import logging
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import RequestDataTooBig
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from supportdesk import services
from supportdesk.inbox.forms import ContactForm, InboxFilterForm, TriageCorrectionForm
from supportdesk.inbox.selectors import ticket_detail, ticket_list_for_inbox, ticket_viewers
from supportdesk.intake import zendesk
from supportdesk.intake.jsonbody import BadJSON, loads_strict
from supportdesk.intake.webform import client_address, web_form_rate_limit_hit, web_ticket_submit
from supportdesk.models import MessageAttachment, Ticket
from triage.models import Category
from triage.selectors import ASSIGNABLE_LIMIT, active_model_versions, assignable_agents

logger = logging.getLogger(__name__)


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


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        client = client_address(request)
        retry_after = web_form_rate_limit_hit(client=client)
        if retry_after:
            logger.info("Web form rate limit reached for %s", client)
            response = render(
                request,
                "supportdesk/contact_limited.html",
                {"retry_minutes": max(1, round(retry_after / 60))},
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            # A bot filled the honeypot: answer like a success, keep nothing.
            logger.info("Web form honeypot filled by %s; nothing stored", client)
            request.session.pop("last_ticket_reference", None)
            return redirect("contact-thanks")
        ticket = web_ticket_submit(
            email=data["email"],
            name=data["name"],
            locale=data["locale"],
            subject=data["subject"],
            body=data["body"],
        )
        request.session["last_ticket_reference"] = ticket.reference
        return redirect("contact-thanks")
    status = 400 if request.method == "POST" else 200
    return render(request, "supportdesk/contact.html", {"form": form}, status=status)


def contact_thanks(request: HttpRequest) -> HttpResponse:
    reference = request.session.get("last_ticket_reference", "")
    return render(request, "supportdesk/contact_thanks.html", {"reference": reference})


@csrf_exempt
@require_POST
def zendesk_webhook(request: HttpRequest) -> JsonResponse:
    """A Zendesk trigger's webhook: signed JSON (``zendesk.WEBHOOK_BODY_TEMPLATE``) in."""
    secret = settings.ZENDESK_WEBHOOK_SECRET
    if not secret:
        return JsonResponse({"error": "The Zendesk integration is not configured."}, status=503)
    try:
        body = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse({"error": f"The body is larger than {limit} bytes."}, status=413)
    try:
        zendesk.webhook_verify(
            body=body,
            signature=request.headers.get(zendesk.SIGNATURE_HEADER, ""),
            timestamp=request.headers.get(zendesk.TIMESTAMP_HEADER, ""),
            secret=secret,
        )
    except zendesk.WebhookRejected as exc:
        logger.warning("Rejected Zendesk webhook: %s", exc)
        return JsonResponse({"error": f"Not a valid Zendesk delivery: {exc}."}, status=401)
    try:
        payload = loads_strict(body)
    except BadJSON as exc:
        return JsonResponse({"error": f"The body is not JSON: {exc}."}, status=400)
    form = zendesk.ZendeskWebhookForm(payload if isinstance(payload, dict) else {})
    if not isinstance(payload, dict) or not form.is_valid():
        errors = form.errors.get_json_data() if isinstance(payload, dict) else {}
        return JsonResponse(
            {"error": "The body does not match the documented template.", "fields": errors},
            status=400,
        )
    result = zendesk.zendesk_webhook_ingest(**form.cleaned_data)
    answer = {"outcome": result.outcome}
    if result.ticket is not None:
        answer["ticket"] = result.ticket.pk
    if result.message is not None:
        answer["message"] = result.message.pk
    if result.reason:
        answer["reason"] = result.reason
    return JsonResponse(answer, status=201 if result.outcome in ("created", "appended") else 200)


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.has_perm("supportdesk.work_inbox"):
        return redirect("inbox")
    if request.user.is_authenticated:
        return redirect(reverse("admin:index"))
    return redirect("login")


def htmx_redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
