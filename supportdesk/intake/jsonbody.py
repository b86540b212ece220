"""Strict JSON for request bodies: what the standard parser accepts but the rest of the desk
cannot store or should not spend time on is refused here, with a message for the client.

`json.loads` alone lets through a lone surrogate ("\\ud800", which PostgreSQL cannot store), a
number with thousands of digits (Python refuses to convert it with a ValueError that is no
JSONDecodeError) and nesting deep enough to exhaust the interpreter's stack.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


class BadJSON(ValueError):
    """The body is not JSON this desk accepts; the message says why, for the client."""


def _number(kind: type) -> Any:
    def parse(text: str) -> Any:
        if len(text) > MAX_NUMBER_CHARS:
            raise BadJSON(f"a number has {len(text)} characters (at most {MAX_NUMBER_CHARS})")
        value = kind(text)
        if not math.isfinite(value):
            raise BadJSON(f"{text} is out of range")
        return value

    return parse


def loads_strict(raw: bytes | str) -> Any:
    """Parse a request body; raises `BadJSON` for anything the desk would not accept."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise BadJSON(f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if _nesting(text) > MAX_DEPTH:
        raise BadJSON(f"nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(
            text,
            parse_int=_number(int),
            parse_float=_number(float),
            parse_constant=_refuse_constant,
        )
    except BadJSON:
        raise
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise BadJSON(str(exc)) from None
    _check_text(data)
    return data


def _refuse_constant(name: str) -> Any:
    raise BadJSON(f"{name} is not a JSON number")


def _nesting(text: str) -> int:
    """Deepest bracket nesting outside strings: checked before parsing, so a hostile body never
    reaches the recursive parser."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                break
    return deepest


def _check_text(value: Any) -> None:
    """Every string (keys included) must be encodable: a lone surrogate is refused."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadJSON("a string holds a lone surrogate (\\ud800-\\udfff)") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
