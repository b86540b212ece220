"""The pages a rating link opens: for customers, without a login.

The signed token in the address is the only credential, so these views need no session and
no CSRF cookie (a customer's mail client may open them in a browser that keeps neither); a
forged request would have to carry a genuine token, which lets its holder rate anyway.

A GET never records anything: mail link scanners (Outlook Safe Links, corporate gateways)
fetch every link in a mail. The page shows the chosen score in a form that its script submits
at once, with the button in view for browsers that run no script; the POST records it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from feedback.forms import RatingCommentForm
from feedback.models import Rating
from feedback.selectors import rated_message
from feedback.services import RatingRefused, rating_comment_add, rating_record
from supportdesk.models import Message, Ticket
from supportdesk.outbox.rating_links import (
    RatingLinkExpired,
    RatingLinkInvalid,
    rating_token_read,
)

TEMPLATE = "feedback/rating.html"


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def rating(request: HttpRequest, token: str) -> HttpResponse:
    found = _read_link(request, token)
    if isinstance(found, HttpResponse):
        return found
    message, score = found
    if request.method == "POST":
        try:
            stored, created = rating_record(message_id=message.pk, score=score)
        except RatingRefused:
            return _link_refused(request, expired=True)
        state = "thanks" if created else "already"
    else:
        stored = _rating_of(message)
        state = "confirm" if stored is None else "already"
    return _page(
        request,
        message.ticket,
        {
            "state": state,
            "token": token,
            "score": stored.score if stored else score,
            "score_label": Rating.Score(stored.score if stored else score).label,
            "rating": stored,
            "form": RatingCommentForm(),
        },
    )


@never_cache
@csrf_exempt
@require_POST
def rating_comment(request: HttpRequest, token: str) -> HttpResponse:
    found = _read_link(request, token)
    if isinstance(found, HttpResponse):
        return found
    message, _score = found
    stored = _rating_of(message)
    if stored is None:
        return redirect("rating", token)  # nothing rated yet: the page that rates
    form = RatingCommentForm(request.POST)
    context = {
        "token": token,
        "score": stored.score,
        "score_label": stored.get_score_display(),
        "rating": stored,
        "form": form,
    }
    if not form.is_valid():
        return _page(request, message.ticket, {**context, "state": "thanks"}, status=400)
    stored, added = rating_comment_add(message_id=message.pk, comment=form.cleaned_data["comment"])
    state = "commented" if added else "already"
    return _page(request, message.ticket, {**context, "rating": stored, "state": state})


def _read_link(request: HttpRequest, token: str) -> tuple[Message, str] | HttpResponse:
    try:
        message_id, score = rating_token_read(token)
    except RatingLinkExpired:
        return _link_refused(request, expired=True)
    except RatingLinkInvalid:
        return _link_refused(request, expired=False)
    message = rated_message(message_id=message_id)
    if message is None:  # deleted since the mail went out
        return _link_refused(request, expired=True)
    return message, score


def _rating_of(message: Message) -> Rating | None:
    try:
        return message.rating
    except Rating.DoesNotExist:
        return None


def _page(
    request: HttpRequest, ticket: Ticket, context: dict, *, status: int = 200
) -> HttpResponse:
    """The page in the customer's language: the ticket's, when the desk's pages speak it,
    else the browser's (``LocaleMiddleware`` chose it)."""
    page_languages = {code for code, _name in settings.LANGUAGES}
    language = (ticket.language or "").lower()
    if language not in page_languages:
        language = translation.get_language()
    with translation.override(language):
        response = render(request, TEMPLATE, context, status=status)
    response.headers["Content-Language"] = language
    return response


def _link_refused(request: HttpRequest, *, expired: bool) -> HttpResponse:
    """A link this desk did not sign, altered or cut short (400), or one past its time or
    whose reply is gone (410). Nothing is recorded."""
    return render(
        request,
        TEMPLATE,
        {"state": "expired" if expired else "invalid", "days": settings.CSAT_LINK_DAYS},
        status=410 if expired else 400,
    )
