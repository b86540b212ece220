"""The customer-facing web form and the Zendesk webhook: HTTP in, intake services behind."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from supportdesk.intake import zendesk
from supportdesk.intake.forms import ContactForm
from supportdesk.intake.jsonbody import BadJSON, loads_strict
from supportdesk.intake.webform import client_address, web_form_rate_limit_hit, web_ticket_submit

logger = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        client = client_address(request)
        retry_after = web_form_rate_limit_hit(client=client)
        if retry_after:
            logger.info("Web form rate limit reached for %s", client)
            return retry_later(
                request, template="supportdesk/contact_limited.html", retry_after=retry_after
            )
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


def retry_later(request: HttpRequest, *, template: str, retry_after: int) -> HttpResponse:
    """429 with a page saying how long to wait (`retry_minutes`) and ``Retry-After``: the web
    form's rate limit and the sign-in lockout."""
    response = render(
        request, template, {"retry_minutes": max(1, round(retry_after / 60))}, status=429
    )
    response["Retry-After"] = str(retry_after)
    return response
