"""A proposed FAQ entry from what agents actually replied, and how it sits beside existing
articles. Plain Python: texts in, texts and findings out.

Extractive, with no language model: the proposed answer is the agents' reply that shares the
most with the other replies in the cluster (the one most typical of how the desk answers),
without its greeting, sign-off and signature, and without personal data. The proposed
question is the customers' question most typical of the cluster, by the same measure.

An answer that says "14 days" where the closest article says "30 days" may contradict it:
numbers given with the same unit that differ are flagged for the reviewer, with both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.engine.gaps import sentences
from knowledge.text import tokenize

MAX_ANSWER_CHARS = 4000
MAX_TITLE_CHARS = 120

_OPENING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hola|buenas|bonjour|hallo"
    r"|guten tag|sehr geehrte|olá|ola|oi|你好|您好|こんにちは|いつも|お世話になって)\b.{0,60}$",
    re.I,
)
_THANKS_FOR_WRITING = re.compile(
    r"^(?:thanks?|thank you|gracias|merci|danke|obrigad[oa]|謝謝|谢谢|感謝|ありがとう)"
    r"[^.!?。！？]{0,60}(?:writing|reaching out|contacting|message|patience|escribir|mensaje"
    r"|paciencia|votre message|ihre nachricht|mensagem|來信|来信|連絡|お問い合わせ)"
    r"[^.!?。！？]*[.!?。！？]?$",
    re.I,
)
_CLOSING = re.compile(
    r"^(?:best|regards|kind regards|best regards|warm regards|many thanks|thanks|thank you|cheers"
    r"|saludos|un saludo|abrazos?|cordialement|bien à vous|viele grüße|mit freundlichen grüßen"
    r"|beste grüße|atenciosamente|abraços|敬上|祝好|よろしくお願いいたします|よろしくお願いします)"
    r"\b[^.!?。！？]{0,30}[,，.!！]?$",
    re.I,
)
_HOPE = re.compile(
    r"^(?:i hope (?:this|that) helps|let me know if|let us know if|espero que|j'espère|"
    r"ich hoffe|espero ter|如有任何|如果還有|如果还有|ご不明な点)",
    re.I,
)


def answer_from_reply(text: str) -> str:
    """An agent's reply as an FAQ answer: greeting, thanks for writing, sign-off and
    signature left out (the lines after a closing are its signature), and the sentences about
    the customer's own case."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    kept: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not kept and (
            not stripped or _OPENING.match(stripped) or _THANKS_FOR_WRITING.match(stripped)
        ):
            continue
        if _CLOSING.match(stripped) or (kept and _HOPE.match(stripped)):
            break  # the closing and everything after it: the name, the team, a disclaimer
        kept.append(_general(line))
    answer = "\n".join(kept).strip()
    answer = re.sub(r"\n{3,}", "\n\n", answer)
    return answer[:MAX_ANSWER_CHARS]


# Sentences about one customer's own case: their name or their order was in it.
_CASE_SPECIFIC = ("[name]", "[order number]")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def _general(line: str) -> str:
    """The line without its sentences about the one customer ("[name], I checked your order
    [order number]: …"): an FAQ answer speaks to everyone who asks."""
    if not any(mark in line for mark in _CASE_SPECIFIC):
        return line
    parts = [p for p in _SENTENCE_END.split(line) if p.strip()]
    return " ".join(p.strip() for p in parts if not any(mark in p for mark in _CASE_SPECIFIC))


def most_typical(texts: Sequence[str], language: str = "") -> int:
    """Index of the text sharing the most words with the others (TF-IDF cosine to the sum of
    the others); the longest on ties, so a bare "see our page" loses to a full answer."""
    if len(texts) <= 1:
        return 0
    bags = [_bag(text, language) for text in texts]
    documents = len(bags)
    frequency: dict[str, int] = {}
    for bag in bags:
        for word in bag:
            frequency[word] = frequency.get(word, 0) + 1
    weights = [
        {w: c * math.log(1 + documents / frequency[w]) for w, c in bag.items()} for bag in bags
    ]
    best, best_score = 0, -1.0
    for i, own in enumerate(weights):
        norm = math.sqrt(sum(v * v for v in own.values())) or 1.0
        score = 0.0
        for j, other in enumerate(weights):
            if i == j:
                continue
            other_norm = math.sqrt(sum(v * v for v in other.values())) or 1.0
            score += sum(v * other.get(w, 0.0) for w, v in own.items()) / (norm * other_norm)
        score += len(texts[i]) * 1e-9
        if score > best_score:
            best, best_score = i, score
    return best


def _bag(text: str, language: str) -> dict[str, int]:
    bag: dict[str, int] = {}
    for word in tokenize(text, language):
        bag[word] = bag.get(word, 0) + 1
    return bag


# "Hello, does the strap fit…": the greeting a customer opened their question with.
_LEADING_GREETING = re.compile(
    r"^(?:hi|hello|hey|hola|buenas|bonjour|hallo|olá|ola|oi|你好|您好|こんにちは)"
    r"(?:\s+there)?\s*[,，、!！]\s*",
    re.I,
)


def title_from_question(question: str) -> str:
    """A short title: the question's first sentence without the greeting it opened with, cut
    at a word near the limit."""
    first = (sentences(question) or [question.strip()])[0]
    rest = _LEADING_GREETING.sub("", first, count=1)
    if rest:
        first = rest[0].upper() + rest[1:]
    if len(first) <= MAX_TITLE_CHARS:
        return first
    cut = first[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    return (cut if len(cut) > MAX_TITLE_CHARS // 2 else first[:MAX_TITLE_CHARS]) + "…"


def word_overlap(text: str, other: str, language: str = "") -> float:
    """Share of `text`'s distinct words that `other` also uses (0-1)."""
    words = set(tokenize(text, language))
    if not words:
        return 0.0
    return len(words & set(tokenize(other, language))) / len(words)


# A number with the unit after it: "30 days", "14-day", "5 %", "3 business days", "30 天",
# "30日", "14 días", "14 Tage". The unit is folded to one word per kind.
_UNITS = {
    "day": r"days?|business days?|working days?|días?|dias?|jours?|tage?n?|werktage?n?"
    r"|天|日|営業日",
    "week": r"weeks?|semanas?|semaines?|wochen?|週間?|周|週",
    "month": r"months?|meses|mois|monate?n?|か月|ヶ月|個月|个月",
    "hour": r"hours?|horas?|heures?|stunden?|時間|小時|小时",
    "percent": r"%|percent|por ciento|pour cent|prozent|por cento|パーセント",
    "currency": r"\$|€|£|usd|eur|dollars?|euros?|ドル|円|元",
}
_AMOUNT = re.compile(
    r"(?P<pre>[$€£])\s?(?P<n1>\d+(?:[.,]\d+)?)|(?P<n2>\d+(?:[.,]\d+)?)\s?-?\s?(?P<unit>"
    + "|".join(f"(?:{pattern})" for pattern in _UNITS.values())
    + r")(?![a-z])",
    re.I,
)


@dataclass(frozen=True)
class Contradiction:
    unit: str
    answer_says: str
    article_says: str


def _amounts(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for match in _AMOUNT.finditer(text):
        if match["pre"]:
            unit, number = "currency", match["n1"]
        else:
            unit = next(
                kind
                for kind, pattern in _UNITS.items()
                if re.fullmatch(pattern, match["unit"], re.I)
            )
            number = match["n2"]
        found.setdefault(unit, set()).add(number.replace(",", "."))
    return found


def contradictions(answer: str, article: str) -> list[Contradiction]:
    """Units both texts give numbers for, where the answer's numbers are none of the
    article's: "returns within 14 days" against "within 30 days"."""
    ours, theirs = _amounts(answer), _amounts(article)
    found = []
    for unit in sorted(ours.keys() & theirs.keys()):
        if not ours[unit] & theirs[unit]:
            found.append(
                Contradiction(
                    unit=unit,
                    answer_says=", ".join(sorted(ours[unit])),
                    article_says=", ".join(sorted(theirs[unit])),
                )
            )
    return found
