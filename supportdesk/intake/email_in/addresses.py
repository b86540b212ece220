"""Address headers read strictly: only a mailbox's addr-spec is ever an address.

`email.utils.getaddresses` on interpreters without the CVE-2023-27043 fix (and lenient parsers in
general) take an address out of the display name: ``alice@example.com <attacker@evil.example>``
yields alice, ``alice@example.org@<bob@example.org>`` yields bob. Replies would then go to, and
threads be matched against, an address the sender does not own. So this module parses with the
RFC 5322 grammar of `email.headerregistry`, refuses any header the grammar flags as invalid, and
validates each addr-spec on its own. It does not depend on the interpreter's patch level: the
cases above are refused by the grammar check, not by a fix in `getaddresses`.

Encoded-words (RFC 2047) are masked before parsing, so text encoded into a display name (a CR/LF
and a fake ``Bcc:``, an ``@``) can never become part of an address; the display name is decoded
afterwards for people to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import errors
from email.headerregistry import HeaderRegistry

from supportdesk.intake.email_in.decode import clean_header, decode_encoded_words

_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_PLACEHOLDER = "SDENCODEDWORD{}X"
_PLACEHOLDER_RE = re.compile(r"SDENCODEDWORD(\d+)X")
# Dot-atom local part and a host name of letters, digits and hyphens (IDN arrives as xn--):
# what mail servers deliver to, and nothing a header could smuggle.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}"
_ADDR_SPEC = re.compile(rf"{_LOCAL}@{_DOMAIN}")
_REGISTRY = HeaderRegistry()
_FATAL = (errors.InvalidHeaderDefect, errors.HeaderMissingRequiredValue)


@dataclass(frozen=True)
class Mailbox:
    name: str  # the display name, decoded, one line; for people only
    address: str  # the addr-spec, lower-cased: the only part ever used to send or match


class InvalidAddressHeader(ValueError):
    """The header does not parse as a list of mailboxes; the message says what was wrong."""


def mailboxes(raw_values: list[str]) -> list[Mailbox]:
    """Every mailbox in the given values of one header (e.g. all ``To:`` lines).

    Raises `InvalidAddressHeader` when any value is not a clean address list: the caller decides
    whether that refuses the message (``From``) or only drops the header (``Cc``).
    """
    found: list[Mailbox] = []
    for raw in raw_values:
        found.extend(_parse_one(raw))
    return found


def _parse_one(raw: str) -> list[Mailbox]:
    value = " ".join(raw.replace("\r", " ").replace("\n", " ").split())
    if not value:
        return []
    words: list[str] = []

    def mask(match: re.Match[str]) -> str:
        words.append(match.group(0))
        return _PLACEHOLDER.format(len(words) - 1)

    masked = _ENCODED_WORD.sub(mask, value)
    try:
        header = _REGISTRY("to", masked)
    except (errors.HeaderParseError, ValueError, IndexError, TypeError) as exc:
        raise InvalidAddressHeader(f"unparseable address header: {exc}") from None
    fatal = [d for d in header.defects if isinstance(d, _FATAL)]
    if fatal:
        raise InvalidAddressHeader(f"invalid address header: {fatal[0]}")
    result = []
    for address in header.addresses:
        spec = address.addr_spec
        if not _ADDR_SPEC.fullmatch(spec) or _PLACEHOLDER_RE.search(spec):
            raise InvalidAddressHeader(f"not a deliverable address: {spec!r}")
        name = _PLACEHOLDER_RE.sub(lambda m: words[int(m.group(1))], address.display_name)
        result.append(Mailbox(name=clean_header(decode_encoded_words(name)), address=spec.lower()))
    return result
