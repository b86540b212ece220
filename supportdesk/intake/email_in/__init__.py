"""E-mail intake, pure parsing: raw MIME to ``ParsedEmail``, reply/quote splitting, loop guard.

No ORM and no settings here; threading and persistence live in the services that call this.
"""

from supportdesk.intake.email_in.loops import auto_reply_allowed
from supportdesk.intake.email_in.parse import Attachment, EmailParseError, ParsedEmail, parse_email
from supportdesk.intake.email_in.quotes import split_reply

__all__ = [
    "Attachment",
    "EmailParseError",
    "ParsedEmail",
    "auto_reply_allowed",
    "parse_email",
    "split_reply",
]
