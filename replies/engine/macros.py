"""Canned replies: fill a macro's placeholders for one ticket. Plain Python."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS = (
    "customer_name",
    "customer_first_name",
    "ticket_number",
    "agent_name",
    "agent_first_name",
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(body: str, values: Mapping[str, str]) -> str:
    """`body` with each known {placeholder} replaced; anything else in braces is left as
    written (an agent sees it and fixes it, rather than a macro failing)."""
    return _PLACEHOLDER.sub(
        lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), body
    )


def first_name(name: str) -> str:
    """The first word of a Latin-script name; a CJK name stays whole (林美, not 林)."""
    name = name.strip()
    if not name or not name.isascii():
        return name
    return name.split()[0]
