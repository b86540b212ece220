"""The promise check: commitments in a draft that nothing we publish backs.

A draft — from any engine — may promise a refund, a credit, a discount, a date or a legal or
compensation outcome only when a passage it cites (or the installation's allowed-policy list)
states the same commitment: a passage with a commitment of the same kind whose numbers
include every number in the draft's sentence ("within 5 business days", "20 %"). A sentence
that cites passages with `[n]` is checked against those passages only; one without markers
against every cited passage. Anything else is flagged with its span for the agent, and a
flagged draft is never sent automatically.

Term lists cover en, zh-Hant, zh-Hans, ja, es, de, fr and pt at once (customers and agents mix
languages); matching is on NFKC-folded, accent-stripped, case-folded text.
"""

# Term lists read best one language per line, however long the line.
# ruff: noqa: E501

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass

KINDS = ("refund", "credit", "discount", "deadline", "legal")
KIND_LABELS = {
    "refund": "refund",
    "credit": "credit or voucher",
    "discount": "discount or free service",
    "deadline": "deadline or date",
    "legal": "legal or compensation statement",
}
_WEEKDAYS = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|lunes|martes|miercoles|jueves|viernes|sabado|domingo"
    r"|segunda|terca|quarta|quinta|sexta"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
    r"|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
)
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
    r"|janeiro|fevereiro|marco|maio|junho|julho|setembro|outubro|novembro|dezembro"
    r"|januar|februar|marz|juni|juli|oktober|dezember"
    r"|janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
)
_NUM = r"(?:\d+|[一二三四五六七八九十兩两百]+)"
# fmt: off
_TERMS: dict[str, tuple[str, ...]] = {
    "refund": (
        r"\brefund\w*", r"\breimburs\w*", r"\bmoney back\b", r"\bpay you back\b",
        r"\breembols\w*", r"\bdevolver(?:le|te)? (?:el|tu|su|o|seu) dinero\b", r"\bdevolucion del dinero\b",
        r"\bestorn\w*", r"\bdevolver o (?:seu )?dinheiro\b", r"\bdinheiro de volta\b",
        r"\b(?:ruck)?erstatt\w*", r"\bzuruckzahl\w*", r"\bgeld zuruck\b",
        r"\brembours\w*",
        r"返金", r"払い戻", r"退款", r"退費", r"退费", r"退還", r"退还", r"退錢", r"退钱",
    ),
    "credit": (
        r"\b(?:store|account|service) credit\b", r"\bcredit (?:to|on|in) your account\b",
        r"\bcredit(?:ed)? (?:you|your)\b", r"\bvoucher\w*", r"\bgift card\b", r"\bcoupon\w*",
        r"\bcredito\w* (?:en|a|na|no) (?:tu|su|sua|seu) cuenta\b", r"\bcupon\w*", r"\bcupom\b",
        r"\bvale[- ]presente\b", r"\bcredito\w*\b(?! de cartao)(?! card)",
        r"\bgutschrift\w*", r"\bgutschein\w*", r"\bguthaben\b",
        r"\bun avoir\b", r"\bbon d'achat\b", r"\bcredit sur votre compte\b",
        r"クーポン", r"ポイントを?(?:付与|進呈|差し上げ)", r"ギフト券",
        r"抵用券", r"優惠券", r"优惠券", r"購物金", r"购物金", r"折價券", r"代金券", r"補償金",
    ),
    "discount": (
        r"\bdiscount\w*", r"\d+\s?% off\b", r"\bfree of charge\b", r"\bfor free\b", r"\bwaive\w*",
        r"\bfree (?:month|year|upgrade|shipping|replacement)\b", r"\bat no (?:extra )?cost\b",
        r"\bdescuento\w*", r"\bgratis\b", r"\bsin (?:costo|coste|cargo)\b", r"\bbonifica\w*",
        r"\bdesconto\w*", r"\bgratuit[oa]?s?\b", r"\bsem (?:custo|cobranca)\b",
        r"\brabatt\w*", r"\bnachlass\w*", r"\bkostenlos\w*", r"\bpreisnachlass\b",
        r"\bremise\b", r"\breduction\b", r"\bgratuite?s?\b", r"\bofferte?s?\b",
        r"割引", r"無料", r"値引", r"半額",
        r"折扣", r"打折", _NUM + r"折(?:優惠|优惠)?", r"免費", r"免费", r"減免", r"减免", r"優惠", r"优惠",
    ),
    "deadline": (
        r"\bwithin \d+\s*(?:business |working )?(?:days?|hours?|weeks?|minutes?)\b",
        r"\bin \d+\s*(?:business |working )?(?:days?|hours?|weeks?)\b",
        r"\b\d+\s*(?:business|working) days\b",
        r"\bby (?:the )?(?:end of (?:the |this )?(?:day|week|month)|tomorrow|tonight|" + _WEEKDAYS + r")\b",
        r"\bby (?:" + _MONTHS + r")\.? \d{1,2}\b", r"\bby \d{1,2}(?:st|nd|rd|th)? (?:of )?(?:" + _MONTHS + r")\b",
        r"\b(?:tomorrow|today|tonight)\b", r"\b\d{4}-\d{2}-\d{2}\b", r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
        r"\b(?:en|dentro de) \d+\s*(?:dias?|horas?|semanas?)(?: habiles| laborables| uteis)?\b",
        r"\b(?:manana|amanha|hoy|hoje)\b", r"\b(?:antes del?|hasta el|ate (?:a |o )?)\s*(?:" + _WEEKDAYS + r"|\d{1,2})\b",
        r"\b(?:innerhalb von|binnen|in) \d+\s*(?:werk)?(?:tagen?|stunden|wochen)\b",
        r"\bbis (?:zum |spatestens )?(?:" + _WEEKDAYS + r"|morgen|ende|\d{1,2}\.)", r"\bmorgen\b", r"\bheute\b",
        r"\b(?:sous|dans les|d'ici) \d+\s*(?:jours?|heures?|semaines?)(?: ouvres| ouvrables)?\b",
        r"\bdemain\b", r"\baujourd'hui\b", r"\b(?:avant|d'ici) (?:" + _WEEKDAYS + r"|le \d{1,2})\b",
        _NUM + r"\s*(?:営業)?(?:日|時間|週間)以内", r"明日", r"本日中", r"今日中", r"(?:" + _NUM + r"月)?" + _NUM + r"日(?:まで|までに)",
        _NUM + r"\s*(?:個|个)?(?:工作|營業|营业)?(?:天|日|小時|小时|週|周)(?:內|内|之內|之内)",
        r"明天", r"今天內", r"今天内", _NUM + r"月" + _NUM + r"[日號号](?:前|之前|以前)",
    ),
    "legal": (
        r"\bcompensat\w*", r"\bliab(?:le|ility)\b", r"\bwe guarantee\b", r"\bguaranteed\b",
        r"\bwe will pay\b", r"\bdamages\b", r"\blegally\b", r"\bentitled to\b",
        r"\bindemniz\w*", r"\bcompensaci\w*", r"\bcompensar\w*", r"\b(?:le |te )?garantizamos\b",
        r"\bindeniz\w*", r"\bcompensacao\b", r"\bgarantimos\b",
        r"\bentschadig\w*", r"\bschadenersatz\w*", r"\bhaft(?:en|ung)\b", r"\bwir garantieren\b",
        r"\bindemnis\w*", r"\bdedommag\w*", r"\bnous garantissons\b",
        r"補償", r"賠償", r"保証します", r"責任を負", r"赔偿", r"补偿", r"保證", r"保证", r"負全責", r"负全责",
    ),
}
# fmt: on
_PATTERNS = {kind: re.compile("|".join(terms)) for kind, terms in _TERMS.items()}
# A full stop ends a sentence only before a space or the end: "US$5.95" and "e.g." do not.
_SENTENCE_RE = re.compile(r"(?:[^.!?。！？\n]|[.!?](?=[^\s.!?]))+[.!?。！？]*(?:[ \t]*\[\d+\])*")
_MARKER_RE = re.compile(r"\[(\d+)\]")
_SOURCE_LINE_RE = re.compile(r"^\s*\[\d+\]\s")
_CJK_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"兩": 2, "两": 2}
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?|[一二三四五六七八九十兩两百]+")


@dataclass(frozen=True)
class PromiseFlag:
    kind: str
    label: str
    text: str  # the span that commits
    sentence: str
    before: str  # the sentence around the span, for highlighting
    after: str
    start: int  # offsets of the span in the draft text
    end: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Commitment:
    kind: str
    start: int
    end: int


def fold(text: str) -> str:
    """Lower case, compatibility forms folded, Latin accents dropped (kana keep their voicing
    marks: ポ is not ホ). Keeps every offset: each character folds to exactly one character."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char).casefold() or " "
        if ord(folded[0]) < 0x250:
            decomposed = unicodedata.normalize("NFD", folded)
            folded = "".join(c for c in decomposed if not unicodedata.combining(c)) or " "
        out.append(folded[0])
    return "".join(out)


def find_commitments(text: str) -> list[Commitment]:
    folded = fold(text)
    found = [
        Commitment(kind, m.start(), m.end())
        for kind, pattern in _PATTERNS.items()
        for m in pattern.finditer(folded)
    ]
    return sorted(found, key=lambda c: (c.start, c.kind))


def numbers_in(text: str) -> set[str]:
    found = set()
    for raw in _NUMBER_RE.findall(unicodedata.normalize("NFKC", text)):
        found.add(
            _cjk_number(raw) if raw[0] in "一二三四五六七八九十兩两百" else raw.replace(",", ".")
        )
    return {n for n in found if n}


def promise_check(
    text: str, *, passages: Sequence[str] = (), allowed: Sequence[str] = ()
) -> tuple[PromiseFlag, ...]:
    """Flags for every commitment in `text` that no cited passage nor allowed policy backs.
    `passages` are the cited passages' texts in citation order ([1] is passages[0])."""
    backing = [_backing(p) for p in passages]
    policies = [_backing(p) for p in allowed if p.strip()]
    flags: list[PromiseFlag] = []
    for match in _SENTENCE_RE.finditer(text):
        sentence = match[0]
        if not sentence.strip() or _SOURCE_LINE_RE.match(sentence):
            continue
        commitments = find_commitments(_MARKER_RE.sub(" ", sentence))
        if not commitments:
            continue
        cited = {int(n) for n in _MARKER_RE.findall(sentence)}
        sources = [b for i, b in enumerate(backing, start=1) if i in cited] if cited else backing
        numbers = numbers_in(_MARKER_RE.sub(" ", sentence))
        seen: set[str] = set()
        for commitment in commitments:
            if commitment.kind in seen:
                continue
            seen.add(commitment.kind)
            if any(_backs(b, commitment.kind, numbers) for b in (*sources, *policies)):
                continue
            flags.append(_flag(text, match.start(), sentence, commitment))
    return tuple(flags)


def blocks_auto_send(flags: Sequence[object]) -> bool:
    return bool(flags)


def _backing(text: str) -> tuple[set[str], set[str]]:
    return {c.kind for c in find_commitments(text)}, numbers_in(text)


def _backs(backing: tuple[set[str], set[str]], kind: str, numbers: set[str]) -> bool:
    kinds, passage_numbers = backing
    return kind in kinds and numbers <= passage_numbers


def _flag(text: str, offset: int, sentence: str, commitment: Commitment) -> PromiseFlag:
    clean = sentence.rstrip()
    start, end = commitment.start, min(commitment.end, len(clean))
    return PromiseFlag(
        kind=commitment.kind,
        label=KIND_LABELS[commitment.kind],
        text=clean[start:end],
        sentence=clean.strip(),
        before=clean[:start].lstrip(),
        after=clean[end:],
        start=offset + start,
        end=offset + end,
    )


def _cjk_number(raw: str) -> str:
    """一 → 1, 十五 → 15, 三十 → 30, 兩百 → 200 (enough for days, hours and percentages)."""
    total, current = 0, 0
    for char in raw:
        if char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            current = _CJK_DIGITS.get(char, 0)
    return str(total + current)
