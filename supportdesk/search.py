"""Ticket search: the words a ticket is found by, and a person's query, in the same tokens.

Plain Python, no Django. PostgreSQL's full-text search splits text on spaces and punctuation,
which finds nothing inside Chinese or Japanese (written without spaces): 「退款還沒到」 would be one
"word". So both the stored document and the query are tokenised here first: runs of Han, kana
or Hangul become overlapping character pairs (退款 款還 還沒 沒到, the usual way search engines
index these scripts), every other word is lower-cased. PostgreSQL then indexes the tokens with
the `simple` configuration (no stemming, which would be English-only); query words match as
prefixes, so "refund" finds "refunds" and "refunded".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Han (incl. extension A and compatibility), Hiragana, Katakana, Hangul syllables and jamo.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_]+", re.UNICODE)
_CJK_RUN = re.compile(rf"[{_CJK}]+")
# What a ticket is found by: its subject, the customer, and the start of what they wrote.
DOCUMENT_MAX_CHARS = 20_000
QUERY_MAX_TOKENS = 12
# A query naming a ticket: "123" or "#123".
_TICKET_NUMBER = re.compile(r"#?(\d{1,12})")


def tokens(text: str) -> list[str]:
    """Words of `text` as search tokens: lower-cased words, CJK runs as character pairs."""
    out: list[str] = []
    for match in _TOKEN.finditer(unicodedata.normalize("NFKC", text).lower()):
        word = match.group()
        if _CJK_RUN.fullmatch(word):
            out.extend(word[i : i + 2] for i in range(max(1, len(word) - 1)))
        else:
            out.append(word)
    return out


def search_document(parts: Iterable[str]) -> str:
    """The stored, tokenised text a ticket is found by (space-separated tokens)."""
    text = "\n".join(p for p in parts if p)[:DOCUMENT_MAX_CHARS]
    return " ".join(tokens(text))


def ticket_number(query: str) -> int | None:
    """The ticket a query names by number ("123", "#123"), if that is all it is."""
    match = _TICKET_NUMBER.fullmatch(query.strip())
    return int(match.group(1)) if match else None


def query_tokens(query: str) -> list[str]:
    """The tokens every match must contain (at most QUERY_MAX_TOKENS, duplicates dropped)."""
    return list(dict.fromkeys(tokens(query)))[:QUERY_MAX_TOKENS]


def tsquery(query: str) -> str:
    """`query` as a PostgreSQL to_tsquery('simple', …) expression: every token must match,
    words as prefixes; "" when the query has no words. Tokens are letters and digits only, so
    nothing in them can change the expression."""
    terms = []
    for token in query_tokens(query):
        terms.append(f"'{token}':*")
    return " & ".join(terms)
