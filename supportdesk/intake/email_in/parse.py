"""Raw RFC 5322/MIME bytes in, one plain ``ParsedEmail`` out: decoded, sanitised, never a crash.

Customer mail is often broken, so everything here degrades instead of failing: wrong or unknown
charsets fall back, broken MIME is recorded in ``defects``. Only input that is not an e-mail at
all raises ``EmailParseError``. Pure stdlib + nh3: no ORM, no settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.utils import parsedate_to_datetime

from supportdesk.html import sanitize_html
from supportdesk.intake.email_in.addresses import InvalidAddressHeader, Mailbox, mailboxes
from supportdesk.intake.email_in.decode import (
    clean_header,
    clean_text,
    decode_bytes,
    decode_header_value,
    html_to_text,
    unflow,
)

MAX_DEPTH = 20  # MIME nesting deeper than any real client produces is a defect, not recursion
_KNOWN_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "received", "return-path", "sender",
    "mime-version", "content-type", "reply-to", "in-reply-to", "references", "delivered-to",
}  # fmt: skip
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_BOUNDARY_GUESS = re.compile(rb"^--([!-~]{1,70}?)\r?\n[ \t]*(?:Content-|MIME-)", re.M | re.I)
_BOUNCE_SENDERS = re.compile(r"^(?:mailer[-_.]?daemon|postmaster)(?:[-+_.@]|$)", re.I)


class EmailParseError(ValueError):
    """The input is not an e-mail at all (empty, binary, not bytes)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    # The decoded content (a forwarded message: its MIME bytes). Left out of repr and equality
    # so logs and comparisons stay about what the file is, not megabytes of it.
    data: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    from_name: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    auto_submitted: str
    precedence: str
    list_id: str
    list_unsubscribe: str
    x_auto_response_suppress: str
    x_autoreply: str
    x_autorespond: str
    return_path: str | None  # None: header absent; "": null reverse path (<>), i.e. a bounce
    content_type: str
    is_bounce: bool
    defects: tuple[str, ...]


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one message. Raises ``EmailParseError`` only for input that is no e-mail."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise EmailParseError(f"expected bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if not raw.strip():
        raise EmailParseError("empty input is not an e-mail")
    try:
        msg = message_from_bytes(raw)
    except Exception as exc:  # stdlib parser bugs on hostile input must not escape as-is
        raise EmailParseError(f"unparseable message: {exc!r}") from exc
    if not any(key.lower() in _KNOWN_HEADERS for key in msg):
        if _looks_binary(raw):
            raise EmailParseError("binary data without e-mail headers is not an e-mail")
        return _headerless(raw)
    try:
        return _build(msg)
    except (RecursionError, LookupError, TypeError, ValueError, AttributeError) as exc:
        raise EmailParseError(f"unparseable message: {exc!r}") from exc


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:8192]
    control = sum(1 for b in sample if (b < 0x20 and b not in b"\t\n\r\x0c\x1b") or b == 0x7F)
    return b"\x00" in sample or control > len(sample) * 0.05


def _headerless(raw: bytes) -> ParsedEmail:
    """Plain text pasted without headers: keep the text, flag it, let the caller decide."""
    return _result(Message(), _Body(text=clean_text(decode_bytes(raw))), ["NoHeaders"])


@dataclass
class _Body:
    text: str = ""
    html: str = ""
    attachments: tuple[Attachment, ...] = ()
    is_report: bool = False


def _build(msg: Message) -> ParsedEmail:
    defects: list[str] = []
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    state = {"report": False}

    def walk(part: Message, depth: int) -> None:
        defects.extend(type(defect).__name__ for defect in part.defects)
        ctype = clean_header(part.get_content_type())
        if depth > MAX_DEPTH:
            defects.append("NestingTooDeep")
            return
        if ctype == "message/delivery-status" or (
            ctype == "multipart/report"
            and str(part.get_param("report-type", "")).lower() == "delivery-status"
        ):
            state["report"] = True
        if ctype.startswith("message/"):
            name = _filename(part) or f"{ctype[8:]}.eml"
            attachments.append(Attachment(name, ctype, _size(part), _message_bytes(part)))
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    walk(sub, depth + 1)
            return
        if ctype.startswith("multipart/"):
            recovered = _recover_multipart(part)
            if recovered is not None:
                defects.append("BoundaryGuessed")
                walk(recovered, depth + 1)
                return
            ctype = "text/plain"
        name = _filename(part)
        if part.get_content_disposition() == "attachment" or name or not ctype.startswith("text/"):
            data = _payload(part)
            attachments.append(Attachment(name, ctype, len(data), data))
        elif ctype in ("text/html", "text/plain"):
            body = decode_bytes(_payload(part), _charset(part))
            if ctype == "text/html":
                html.append(body)
            else:
                flowed = str(part.get_param("format", "")).lower() == "flowed"
                delsp = str(part.get_param("delsp", "")).lower() == "yes"
                plain.append(unflow(body, delsp=delsp) if flowed else body)
        else:  # text/calendar, text/csv … without a name are still files, not the message
            data = _payload(part)
            attachments.append(Attachment("", ctype, len(data), data))

    walk(msg, 0)
    text = "\n\n".join(part.strip("\r\n") for part in plain)
    raw_html = "\n".join(html)
    if not text.strip() and raw_html:
        text = html_to_text(raw_html)
    body = _Body(clean_text(text), sanitize_html(clean_text(raw_html)) if raw_html else "")
    body.attachments, body.is_report = tuple(attachments), state["report"]
    return _result(msg, body, defects)


def _result(msg: Message, body: _Body, defects: list[str]) -> ParsedEmail:
    def header(name: str) -> str:
        values = [v for k, v in msg.raw_items() if k.lower() == name]
        return clean_header(decode_header_value(values[0])) if values else ""

    def addresses(name: str) -> list[Mailbox]:
        # Strict: a header that does not parse gives no address at all (recorded as a defect),
        # never a guess taken from its display name.
        values = [
            decode_header_value(v, words=False) for k, v in msg.raw_items() if k.lower() == name
        ]
        try:
            return mailboxes(values)
        except InvalidAddressHeader as exc:
            defects.append(f"{name.title()}: {exc}")
            return []

    # Sender stands in only for a missing From, never for one that did not parse.
    has_from = "from" in msg  # case-insensitive
    senders = addresses("from") if has_from else addresses("sender")
    from_name, from_address = (senders[0].name, senders[0].address) if senders else ("", "")
    to, cc, reply_to = (tuple(m.address for m in addresses(h)) for h in ("to", "cc", "reply-to"))
    return_path = header("return-path").strip("<> ").lower() if "return-path" in msg else None
    references = tuple(dict.fromkeys(_message_ids(header("references"))))
    return ParsedEmail(
        message_id=next(iter(_message_ids(header("message-id"))), ""),
        in_reply_to=next(iter(_message_ids(header("in-reply-to"))), ""),
        references=references,
        from_name=from_name,
        from_address=from_address,
        to=to,
        cc=cc,
        reply_to=reply_to,
        subject=clean_header(header("subject")),
        date=_parse_date(header("date")),
        text=body.text,
        html=body.html,
        attachments=body.attachments,
        auto_submitted=header("auto-submitted"),
        precedence=header("precedence"),
        list_id=header("list-id"),
        list_unsubscribe=header("list-unsubscribe"),
        x_auto_response_suppress=header("x-auto-response-suppress"),
        x_autoreply=header("x-autoreply"),
        x_autorespond=header("x-autorespond"),
        return_path=return_path,
        content_type=clean_header(msg.get_content_type()) if msg.keys() else "text/plain",
        is_bounce=body.is_report or bool(_BOUNCE_SENDERS.match(from_address)),
        defects=tuple(dict.fromkeys(defects)),
    )


def _message_ids(value: str) -> list[str]:
    ids = [f"<{found}>" for found in _MSG_ID.findall(value)]
    if not ids:  # bare ids from broken clients: "abc@host" without angle brackets
        ids = [f"<{token.strip('<>')}>" for token in re.split(r"[\s,]+", value) if "@" in token]
    return ids


def _parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError):
        payload = None
    return payload if isinstance(payload, bytes) else b""


def _message_bytes(part: Message) -> bytes:
    """An attached message/* part as the bytes a mail client would open."""
    inner = part.get_payload()
    try:
        if isinstance(inner, list):
            return b"".join(sub.as_bytes() for sub in inner if isinstance(sub, Message))
        return _payload(part)
    except Exception:  # a broken forwarded mail loses its file, never the message around it
        return b""


def _size(part: Message) -> int:
    if part.is_multipart():
        return sum(_size(sub) for sub in part.get_payload() if isinstance(sub, Message))
    return len(_payload(part))


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except (LookupError, TypeError, ValueError, UnicodeError):
        return None


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except (LookupError, TypeError, ValueError, UnicodeError):
        return ""
    return clean_header(decode_header_value(name))


def _recover_multipart(part: Message) -> Message | None:
    """A multipart without (or with a wrong) boundary parameter: guess it from the body."""
    body = part.get_payload()
    data = body.encode("ascii", "surrogateescape") if isinstance(body, str) else b""
    found = _BOUNDARY_GUESS.search(data)
    if not found or part.get_param("boundary") == found.group(1).decode("ascii"):
        return None
    ctype = part.get_content_type().encode("ascii", "replace")
    header = b"Content-Type: " + ctype + b'; boundary="' + found.group(1) + b'"\n\n'
    return message_from_bytes(header + data)
