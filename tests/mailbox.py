"""Reading the reply e-mails tests capture."""

from __future__ import annotations

from django.core.mail import EmailMessage

# Where the rating links start (supportdesk/outbox/rating_links.py): the signature separator.
FOOTER_START = "\n\n-- \n"


def before_footer(text: str) -> str:
    """A reply's text as written, without the rating links at its foot."""
    return text.replace("\r\n", "\n").split(FOOTER_START)[0]


def written(email: EmailMessage) -> str:
    return before_footer(email.body)
