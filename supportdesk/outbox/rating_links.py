"""The rating links at the foot of every reply e-mail: one signed link per score.

A token names one outbound message and one score and carries the time it was signed, so a link
expires ``CSAT_LINK_DAYS`` after the mail went out. It is the only credential the rating pages
ask for: no login, nothing in a cookie, so a link works from any mail client. What a click
records is the rating service's business (``feedback.services.rating_record``); this module
only writes and reads links, because the reply e-mail is written here on the floor.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.template.loader import select_template
from django.urls import reverse

from supportdesk.models import Message

# The scale, best first: what the links offer, what a rating stores (feedback.models.Rating).
SCORES = ("good", "okay", "bad")

# A salt of its own: no other signed value of this installation reads as a rating token.
SALT = "supportdesk.rating-link"

FOOTER_TEMPLATE = "supportdesk/email/rating_footer"


class RatingLinkInvalid(Exception):
    """The token was not signed by this installation, was altered, or names no score."""


class RatingLinkExpired(RatingLinkInvalid):
    """A genuine token, older than ``CSAT_LINK_DAYS``."""


def rating_token(*, message_id: int, score: str) -> str:
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}")
    return signing.dumps([message_id, score], salt=SALT)


def rating_token_read(token: str) -> tuple[int, str]:
    """``(message_id, score)`` from a token, or ``RatingLinkExpired``/``RatingLinkInvalid``."""
    try:
        value = signing.loads(token, salt=SALT, max_age=timedelta(days=settings.CSAT_LINK_DAYS))
    except signing.SignatureExpired as exc:
        raise RatingLinkExpired(str(exc)) from exc
    except signing.BadSignature as exc:
        raise RatingLinkInvalid(str(exc)) from exc
    match value:
        case [int() as message_id, str() as score] if score in SCORES:
            return message_id, score
    raise RatingLinkInvalid("not a rating token")


def rating_url(*, message_id: int, score: str) -> str:
    """An absolute link: mail clients have no page to resolve a relative one against."""
    token = rating_token(message_id=message_id, score=score)
    return settings.SITE_URL + reverse("rating", args=[token])


def rating_footer(message: Message) -> str:
    """The footer for one reply, in the customer's language (the ticket's), or ``""`` when
    ``CSAT_LINKS`` is off. It starts with the signature separator ``-- ``, so mail clients
    leave it out when the customer quotes the reply."""
    if not settings.CSAT_LINKS:
        return ""
    language = message.ticket.language or "en"
    names = [
        f"{FOOTER_TEMPLATE}.{language}.txt",
        f"{FOOTER_TEMPLATE}.{language.split('-')[0]}.txt",
        f"{FOOTER_TEMPLATE}.txt",
    ]
    links = {score: rating_url(message_id=message.pk, score=score) for score in SCORES}
    return select_template(names).render({"links": links})
