"""What the models read of a customer message: the subject and what the customer just wrote.

Quoted earlier mail and the signature say nothing about today's message (an angry quote from
three replies ago is not today's mood) and, for the sentence encoder, cost time in proportion
to their length: a 670-character e-mail whose new text is 200 characters took four times as
long to read whole. E-mail intake already stores the new text alone; text that arrives by the
API or a form may still hold the quote, so it is split again here (a no-op on new text).
The encoder then reads only the start of it (`embed.encoder_text`).
"""

from __future__ import annotations

from supportdesk.intake.email_in.quotes import split_reply


def new_text(body: str) -> str:
    """What the customer just wrote: `body` without quoted earlier mail and signature."""
    return split_reply(body)[0] if body else ""


def message_text(subject: str, body: str) -> str:
    """Subject and new text as one string, the way every model reads a message."""
    text = new_text(body)
    return f"{subject}\n{text}" if subject.strip() else text
