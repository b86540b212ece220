"""Inbound e-mail over HTTP: raw MIME posted by a mail server or script, and mail providers'
inbound webhooks (django-anymail). Both end in ``email_ingest``, so threading, loop guards and
duplicate handling are the same as for ``manage.py ingest_email`` and IMAP polling.

Status codes are chosen for the sender's retry logic: 4xx only for a request that can never
succeed (bad credentials, junk, too large), 5xx for anything on our side, so the provider
delivers again and no mail is lost.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from io import BytesIO

from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailNotSupportedWarning,
    AnymailWebhookValidationFailure,
)
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from supportdesk.intake.api_base import allow_methods, api_view, error
from supportdesk.intake.email_in import EmailParseError
from supportdesk.intake.ingest import EmailRejected, IngestResult, email_ingest

logger = logging.getLogger(__name__)

RAW_CONTENT_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")

# Anymail warns on every request that SendGrid support is community-maintained; the inbound
# parse format it reads has not changed, and the tests below post SendGrid's documented shape.
warnings.filterwarnings("ignore", category=AnymailNotSupportedWarning)


def _too_large() -> JsonResponse:
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    return error(413, f"Message too large: at most {limit} bytes (INBOUND_EMAIL_MAX_BYTES).")


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _read_capped(request: HttpRequest) -> bytes | None:
    """The body, or None when it exceeds INBOUND_EMAIL_MAX_BYTES (declared or actual).

    Reads the stream directly: ``request.body`` would apply the 1 MiB form-size limit
    (MAX_BODY_BYTES), and mail with attachments is routinely larger.
    """
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    if _declared_length(request) > limit:
        return None
    raw = request.read(limit + 1)
    return None if len(raw) > limit else raw


def ingest_json(result: IngestResult) -> dict:
    return {
        "ticket": result.ticket.pk if result.ticket else None,
        "message": result.message.pk if result.message else None,
        "created_ticket": result.created_ticket,
        "duplicate": result.duplicate,
        "bounce": result.bounce,
        "auto_reply_allowed": result.auto_reply_allowed,
    }


@api_view
@allow_methods("POST")
def raw_email(request: HttpRequest) -> JsonResponse:
    """One RFC 5322 message as the request body. 201 when it added a message, 200 for a
    re-delivery (the stored message is returned) or a bounce."""
    if request.content_type not in RAW_CONTENT_TYPES:
        return error(415, "Send the raw e-mail as the body with Content-Type: message/rfc822.")
    raw = _read_capped(request)
    if raw is None:
        return _too_large()
    try:
        result = email_ingest(raw=raw)
    except EmailParseError as exc:
        return error(400, f"Not an e-mail message: {exc}")
    except EmailRejected as exc:
        return error(400, f"Cannot file this e-mail: {exc}")
    added = not result.duplicate and not result.bounce
    return JsonResponse(ingest_json(result), status=201 if added else 200)


# -- provider webhooks -------------------------------------------------------------------------


class MalformedPayload(ValueError):
    """The provider's request does not have the shape its inbound webhook documents."""


class _InboundWebhookMixin:
    """Tells a malformed provider payload (400, never retried) apart from a failure while
    filing the mail (500, retried). Validation and configuration errors pass through."""

    def run_validators(self, request: HttpRequest) -> None:
        try:
            super().run_validators(request)
        except AnymailAPIError as exc:  # Amazon SES: body is not an SNS message
            raise MalformedPayload(str(exc)) from exc

    def parse_events(self, request: HttpRequest) -> list[AnymailInboundEvent]:
        try:
            return super().parse_events(request)
        except (AnymailWebhookValidationFailure, AnymailConfigurationError, RequestDataTooBig):
            raise
        except (AnymailAPIError, AttributeError, KeyError, ValueError, TypeError) as exc:
            raise MalformedPayload(f"{type(exc).__name__}: {exc}") from exc


class _ConfirmWithCredentialsOnly:
    """Amazon SES: confirms the SNS subscription itself only when allowed to call AWS."""

    def auto_confirm_sns_subscription(self, sns_message: dict) -> None:
        if not self.auto_confirm_enabled:
            # Confirming calls AWS with credentials; without them an administrator opens the
            # URL once.
            logger.warning(
                "Amazon SNS subscription to %s waits for confirmation: open %s",
                sns_message.get("TopicArn"),
                sns_message.get("SubscribeURL"),
            )
            return
        super().auto_confirm_sns_subscription(sns_message)


PROVIDERS = ("mailgun", "sendgrid", "postmark", "amazon_ses")


@functools.cache
def _provider_view(provider: str) -> Callable[[HttpRequest], HttpResponse]:
    """The provider's anymail inbound view, imported by the first webhook rather than with
    this module: Amazon SES's brings boto3 (~15 MB), and every worker imports this module for
    `on_inbound` without ever answering a webhook."""
    from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
    from anymail.webhooks.mailgun import MailgunInboundWebhookView
    from anymail.webhooks.postmark import PostmarkInboundWebhookView
    from anymail.webhooks.sendgrid import SendGridInboundWebhookView

    bases = {
        "mailgun": (MailgunInboundWebhookView,),
        "sendgrid": (SendGridInboundWebhookView,),
        "postmark": (PostmarkInboundWebhookView,),
        "amazon_ses": (_ConfirmWithCredentialsOnly, AmazonSESInboundWebhookView),
    }[provider]
    name = "".join(part.title() for part in provider.split("_")) + "Inbound"
    return type(name, (_InboundWebhookMixin, *bases), {}).as_view()


def provider_webhook(provider: str) -> Callable[[HttpRequest], HttpResponse]:
    """The provider's anymail inbound view, behind our secret check, size limit and errors."""
    if provider not in PROVIDERS:
        raise ValueError(f"no inbound webhook for {provider!r}")

    @csrf_exempt
    def webhook(request: HttpRequest) -> HttpResponse:
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            # Anymail would accept anyone's posts with a warning; we refuse to run open.
            return error(503, "Inbound webhooks are off: set ANYMAIL_WEBHOOK_SECRET.")
        if provider == "mailgun" and not settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
            return error(503, "Mailgun inbound is off: set MAILGUN_WEBHOOK_SIGNING_KEY.")
        if request.method == "POST":
            body = _read_capped(request)
            if body is None:
                return _too_large()
            # Parsers read this copy; form fields still obey Django's MAX_BODY_BYTES.
            request._body, request._stream = body, BytesIO(body)
        try:
            return _provider_view(provider)(request)
        except AnymailWebhookValidationFailure as exc:
            logger.warning("Rejected %s inbound webhook: %s", provider, exc)
            response = error(401, "Missing or wrong webhook credentials or signature.")
            response["WWW-Authenticate"] = 'Basic realm="SupportDesk inbound mail"'
            return response
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return error(
                413,
                f"Form fields too large: at most {limit} bytes (MAX_BODY_BYTES); "
                "send the message as an attachment or raise MAX_BODY_BYTES.",
            )
        except MalformedPayload as exc:
            return error(400, f"Malformed {provider} inbound payload: {exc}")
        except (EmailParseError, EmailRejected) as exc:
            return error(400, f"Cannot file this e-mail: {exc}")
        except AnymailConfigurationError as exc:
            logger.error("Inbound %s webhook is misconfigured: %s", provider, exc)
            return error(503, f"Inbound {provider} webhook is misconfigured: {exc}")

    webhook.__name__ = f"{provider}_inbound"
    return webhook


def on_inbound(sender: type, event: AnymailInboundEvent, esp_name: str, **kwargs: object) -> None:
    """Receiver of anymail's ``inbound`` signal: file the message like any other e-mail."""
    result = email_ingest(raw=message_bytes(event.message))
    logger.info(
        "%s inbound %s: ticket %s, message %s%s",
        esp_name,
        event.event_id or event.message.get("Message-ID", ""),
        result.ticket.pk if result.ticket else "-",
        result.message.pk if result.message else "-",
        " (duplicate delivery)" if result.duplicate else "",
    )


def message_bytes(message: AnymailInboundMessage) -> bytes:
    """The message as bytes. Providers hand over text (JSON or form fields), so a message
    that will not re-serialise as 7/8-bit MIME is written out as UTF-8 text instead."""
    try:
        return message.as_bytes()
    except (UnicodeError, ValueError):
        return message.as_string().encode("utf-8", "surrogateescape")
