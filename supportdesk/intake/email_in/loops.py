"""Mail-loop guard: may we send an automatic mail (acknowledgement, auto-draft) back?

RFC 3834 says to answer nothing that is itself automatic, comes from a list, or has no human
sender. Every "no" carries a reason so the ticket can show why no acknowledgement went out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from supportdesk.intake.email_in.parse import ParsedEmail

_NO_REPLY_SENDER = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)"
    r"(?:[-+_.].*)?@",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:Automatic reply|Auto(?:matic)?[- ]?(?:reply|response)|Out of (?:the )?office|"
    r"Autosvar|Abwesenheitsnotiz|Automatische Antwort|Réponse automatique|Respuesta automática|"
    r"Resposta automática|Risposta automatica|自动回复|自動回覆|自動応答|自動返信)\b",
    re.IGNORECASE,
)


def is_automated_sender(address: str) -> bool:
    """no-reply, mailer-daemon, postmaster, bounces…: nobody reads mail sent there."""
    return bool(_NO_REPLY_SENDER.match(address or ""))


def _tokens(value: str) -> set[str]:
    return {token.strip().lower() for token in re.split(r"[,;\s]+", value) if token.strip()}


def auto_reply_allowed(
    parsed: ParsedEmail, *, own_addresses: Iterable[str] = ()
) -> tuple[bool, str]:
    """``(True, "")`` when an automatic reply is safe, else ``(False, reason)``.

    ``own_addresses`` are the desk's own mailboxes: mail from them is our own echo.
    """
    auto_submitted = parsed.auto_submitted.split(";", 1)[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return False, f"Auto-Submitted: {auto_submitted}"
    precedence = parsed.precedence.strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return False, f"Precedence: {precedence}"
    suppress = _tokens(parsed.x_auto_response_suppress)
    if suppress & {"all", "autoreply"}:
        return False, f"X-Auto-Response-Suppress: {parsed.x_auto_response_suppress}"
    if parsed.list_id or parsed.list_unsubscribe:
        return False, "mailing list (List-Id/List-Unsubscribe)"
    if parsed.is_bounce:
        return False, "bounce or delivery status notification"
    if parsed.x_autoreply or parsed.x_autorespond:
        return False, "X-Autoreply/X-Autorespond header"
    if parsed.return_path == "":
        return False, "null return path (<>)"
    if not parsed.from_address or "@" not in parsed.from_address:
        return False, "no sender address"
    if is_automated_sender(parsed.from_address):
        return False, f"automated sender {parsed.from_address}"
    if parsed.from_address in {address.strip().lower() for address in own_addresses}:
        return False, "sent by this desk"
    if _AUTO_SUBJECT.match(parsed.subject):
        return False, "auto-reply subject"
    return True, ""
