"""Matching short multilingual term lists against customer text.

Latin-script terms match whole words on case- and accent-folded text (customers often type
"preocupacion" for "preocupación"); a trailing `*` makes a term a word prefix ("refund*"
matches "refunded"). Terms in Han or kana match as substrings, since those scripts do not
separate words with spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def fold(text: str) -> str:
    """Casefold and drop accents from Latin letters only.

    Accents are kept on everything else: decomposing kana and stripping marks would turn
    が into か and merge unrelated words.
    """
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.category(ch) == "Mn" and kept and kept[-1] < "\u0250":
            continue
        kept.append(ch)
    return unicodedata.normalize("NFKC", "".join(kept))


def _latin_pattern(term: str) -> str:
    prefix = term.endswith("*")
    body = re.escape(fold(term.rstrip("*"))).replace(r"\ ", r"\s+")
    ending = r"\w*" if prefix else r"(?!\w)"
    return r"(?<!\w)" + body + ending


@dataclass(frozen=True)
class TermList:
    """A compiled list of terms; `find` returns the terms found, as written in the list."""

    terms: tuple[str, ...]
    _latin: tuple[tuple[str, re.Pattern[str]], ...] = field(init=False, repr=False)
    _cjk: tuple[tuple[str, str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        latin = tuple((t, re.compile(_latin_pattern(t))) for t in self.terms if not _CJK.search(t))
        cjk = tuple((t, fold(t)) for t in self.terms if _CJK.search(t))
        object.__setattr__(self, "_latin", latin)
        object.__setattr__(self, "_cjk", cjk)

    def find(self, folded_text: str) -> list[str]:
        """`folded_text` must already be passed through `fold` (done once per message)."""
        found = [term for term, pattern in self._latin if pattern.search(folded_text)]
        found += [term for term, needle in self._cjk if needle in folded_text]
        return found

    def spans(self, folded_text: str) -> list[tuple[str, int, int]]:
        """Every occurrence of every term: (term as written, start, end) in `folded_text`."""
        found = [
            (term, match.start(), match.end())
            for term, pattern in self._latin
            for match in pattern.finditer(folded_text)
        ]
        for term, needle in self._cjk:
            start = folded_text.find(needle)
            while start >= 0:
                found.append((term, start, start + len(needle)))
                start = folded_text.find(needle, start + 1)
        return found


def compile_lists(by_language: Mapping[str, Iterable[str]]) -> dict[str, TermList]:
    return {language: TermList(tuple(terms)) for language, terms in by_language.items()}


def language_family(code: str) -> str:
    """Base language of a BCP 47 code, except Chinese keeps its script: "zh-Hant"."""
    base = code.split("-")[0].lower()
    if base != "zh":
        return base
    lowered = code.lower()
    if "hans" in lowered or lowered in ("zh-cn", "zh-sg"):
        return "zh-Hans"
    return "zh-Hant"
