"""Personal data out before a language model sees a text, and back in afterwards.

Offline and rule-based: e-mail addresses, phone numbers, card numbers (Luhn-checked), IBANs
(mod-97-checked), national-id-like numbers, recognisable street addresses, and the customer's
own name and e-mail address known from the ticket become stable placeholders (`<EMAIL_1>`):
the same value always gets the same placeholder within one redactor, so the model can still
tell "the same address twice" from "two addresses". Patterns never rely on word boundaries
around digits: Chinese and Japanese text runs numbers straight into the words around them.

Order numbers ("order #A-10234", 「注文番号 12345」) are an optional kind: they identify a
customer only together with the shop's own records, so the language-model calls keep them (the
settings offer `KINDS`), while files that leave the desk, such as the feedback exports, ask for
them too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

KINDS = ("email", "phone", "card", "iban", "national_id", "address", "name")
OPTIONAL_KINDS = ("order",)
PLACEHOLDER_RE = re.compile(r"<\s*(EMAIL|PHONE|CARD|IBAN|ID|ADDRESS|NAME|ORDER)_(\d{1,4})\s*>")
_LABELS = {
    "email": "EMAIL",
    "phone": "PHONE",
    "card": "CARD",
    "iban": "IBAN",
    "national_id": "ID",
    "address": "ADDRESS",
    "name": "NAME",
    "order": "ORDER",
}

_NOT_ALNUM_BEFORE = r"(?<![A-Za-z0-9])"
_NOT_ALNUM_AFTER = r"(?![A-Za-z0-9])"
EMAIL_RE = re.compile(
    _NOT_ALNUM_BEFORE + r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
IBAN_RE = re.compile(_NOT_ALNUM_BEFORE + r"[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}" + _NOT_ALNUM_AFTER)
CARD_RE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
# fmt: off
_ID_PATTERNS = (
    r"\d{3}-\d{2}-\d{4}",                 # US SSN
    r"\d{3}\.\d{3}\.\d{3}-\d{2}",         # Brazilian CPF
    r"[A-Z][12]\d{8}",                     # Taiwanese national id
    r"\d{17}[\dX]",                        # Chinese resident id
    r"[XYZ]\d{7}[A-Z]",                    # Spanish NIE
    r"\d{8}[A-HJ-NP-TV-Z]",                # Spanish DNI
    r"[12]\s?\d{2}\s?\d{2}\s?\d{2}\s?\d{3}\s?\d{3}\s?\d{2}",  # French INSEE number
)
# Words that announce an identity number, in the supported languages; the token after them goes.
_ID_CUES = (
    "passport", "ssn", "social security", "national id", "id number", "id card",
    "driver's licen[cs]e", "licen[cs]e number", "tax id",
    "dni", "nie", "pasaporte", "cpf", "rg", "passaporte", "identidade",
    "personalausweis", "reisepass", "steuer-?id", "ausweisnummer",
    "passeport", "numéro de sécurité sociale", "carte d'identité",
    "身分證(?:字號|號碼)?", "身份证(?:号码|号)?", "護照(?:號碼)?", "护照(?:号码)?",
    "マイナンバー", "旅券番号", "パスポート番号", "免許証番号",
)
# fmt: on
ID_RE = re.compile(_NOT_ALNUM_BEFORE + r"(?:" + "|".join(_ID_PATTERNS) + r")" + _NOT_ALNUM_AFTER)
ID_CUE_RE = re.compile(
    r"(?i)(?:" + "|".join(_ID_CUES) + r")\s*(?:(?:number|no\.?|nr\.?|n[º°o]|#)\s*)?[:：#]?\s*"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9 -]{4,22}[A-Za-z0-9])"
)
# Words that announce an order number, in the supported languages; the token after them goes
# when it holds at least three digits ("my order was late" keeps its words).
# fmt: off
_ORDER_CUES = (
    r"order(?:\s+(?:number|no\.?|nr\.?|id|ref(?:erence)?))?",
    r"bestell(?:ung|nummer)", r"auftragsnummer",
    r"(?:n[úu]mero\s+d[eo]\s+)?pedido", r"orden",
    r"(?:num[ée]ro\s+de\s+)?commande",
    r"ご?注文(?:番号)?", r"訂單(?:編號|號碼|號)?", r"订单(?:编号|号码|号)?",
)
# fmt: on
ORDER_CUE_RE = re.compile(
    r"(?i)(?<![A-Za-z])(?:" + "|".join(_ORDER_CUES) + r")\s*"
    r"(?:(?:number|no\.?|nr\.?|n[º°o]\.?|is|was|es|ist|est|é|是|為|为|は)\s*)?[:：#]?\s*"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9/_-]*)"
)
PHONE_RE = re.compile(
    r"(?<![\dA-Za-z+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"  # international
    r"|\(?0\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}"  # national, trunk prefix 0
    r"|\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}"  # North American
    r"|1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}"  # mainland Chinese mobile
    r")(?!\d)"
)
# fmt: off
_STREET_WORDS = (
    "Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
    "Drive", "Dr", "Way", "Court", "Ct", "Place", "Pl", "Terrace", "Close",
)
ADDRESS_RES = (
    # 221B Baker Street / 1600 Pennsylvania Avenue NW
    re.compile(r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][A-Za-z'-]+\s+){1,4}(?:" + "|".join(_STREET_WORDS)
               + r")\b\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?(?:,?\s+(?:Apt|Suite|Unit)\.?\s*\w+)?"),
    # Hauptstraße 5, Am Markt 3a
    re.compile(r"\b[A-ZÄÖÜ][a-zäöüß-]+(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm)"
               r"\s+\d{1,4}\s?[a-z]?\b"),
    # Calle Mayor 12, Avenida Paulista, 1000, Rua Augusta 500
    re.compile(r"\b(?:Calle|C/|Avenida|Av\.|Avda\.|Rua|Travessa|Alameda|Paseo|Plaza)\s+"
               r"(?:[\w'ºª.-]+\s+){0,5}?[\w'ºª.-]+,?\s*(?:n[º°o.]\s*)?\d{1,5}\b"),
    # 12 rue de la Paix, 5 bis avenue Victor Hugo
    re.compile(r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|chemin|place|allée|"
               r"impasse|quai)\s+(?:[\w'’-]+\s+){0,3}[\w'’-]+", re.IGNORECASE),
    # 東京都千代田区丸の内1-2-3 / 大阪市北区梅田2丁目4番9号
    re.compile(r"[一-龥ぁ-んァ-ン]{1,6}[都道府県市][一-龥ぁ-んァ-ン]{0,8}[市区町村郡]"
               r"[一-龥ぁ-んァ-ンー]{0,12}[0-9０-９一二三四五六七八九十]+"
               r"(?:[-−－ー丁目番地号の][0-9０-９一二三四五六七八九十]*){0,6}"),
    # 台北市信義區信義路五段7號 / 上海市浦东新区世纪大道100号
    re.compile(r"[一-龥]{1,4}[市縣县][一-龥]{1,4}[區区鄉乡鎮镇][一-龥]{1,8}[路街道巷弄]"
               r"[一-龥0-9]{0,6}?[0-9０-９一二三四五六七八九十百]+[號号]"
               r"(?:[0-9０-９一二三四五六七八九十]+[樓楼F])?"),
)
# fmt: on


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


@dataclass
class Redactor:
    """One per model call (or per ticket): placeholders are numbered across every text it
    redacts, and `restore` puts the originals back into what the model wrote."""

    kinds: frozenset[str] = frozenset(KINDS)
    known_names: tuple[str, ...] = ()
    known_emails: tuple[str, ...] = ()
    _by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    _by_placeholder: dict[str, str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_customer(
        cls,
        *,
        name: str = "",
        email: str = "",
        kinds: Iterable[str] | None = None,
        other_names: Iterable[str] = (),
    ) -> Redactor:
        """`kinds` defaults to `KINDS`; `other_names` are further people the texts may name
        (the agent who signed a reply)."""
        variants = [v for n in (name, *other_names) for v in _name_variants(n)]
        return cls(
            kinds=frozenset(KINDS if kinds is None else kinds)
            & frozenset((*KINDS, *OPTIONAL_KINDS)),
            # Longest first across every person, so a full name goes before any part of it.
            known_names=tuple(sorted(dict.fromkeys(variants), key=len, reverse=True)),
            known_emails=(email.strip(),) if email.strip() else (),
        )

    @property
    def replacements(self) -> dict[str, str]:
        """placeholder → original, for everything redacted so far."""
        return dict(self._by_placeholder)

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, _identity(kind, value))
        if key not in self._by_value:
            label = _LABELS[kind]
            self._counts[label] = self._counts.get(label, 0) + 1
            token = f"<{label}_{self._counts[label]}>"
            self._by_value[key] = token
            self._by_placeholder[token] = value
        return self._by_value[key]

    def redact(self, text: str) -> str:
        if not text:
            return text
        # Known values first: the customer's own address is an e-mail either way, but their
        # name is only recognisable because the ticket tells us it.
        if "email" in self.kinds:
            for email in self.known_emails:
                text = re.sub(re.escape(email), lambda m: self.placeholder("email", m[0]), text,
                              flags=re.IGNORECASE)  # fmt: skip
            text = EMAIL_RE.sub(lambda m: self.placeholder("email", m[0]), text)
        if "name" in self.kinds:
            for name in self.known_names:
                text = _sub_name(text, name, lambda m: self.placeholder("name", m[0]))
        if "order" in self.kinds:  # before cards and phones, which an order number can look like
            text = ORDER_CUE_RE.sub(self._cued_order, text)
            # An order number announced once is known: later mentions need no cue ("A-10234
            # was refunded").
            for token, value in self._by_placeholder.items():
                if token.startswith("<ORDER_"):
                    text = re.sub(
                        rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])",
                        token, text, flags=re.IGNORECASE,
                    )  # fmt: skip
        if "iban" in self.kinds:
            text = IBAN_RE.sub(lambda m: self._checked("iban", m, iban_valid), text)
        if "card" in self.kinds:
            text = CARD_RE.sub(
                lambda m: self._checked("card", m, lambda v: luhn_valid(_digits(v))), text
            )
        if "national_id" in self.kinds:
            text = ID_CUE_RE.sub(self._cued_id, text)
            text = ID_RE.sub(lambda m: self.placeholder("national_id", m[0]), text)
        if "phone" in self.kinds:
            text = PHONE_RE.sub(self._phone, text)
        if "address" in self.kinds:
            for pattern in ADDRESS_RES:
                text = pattern.sub(lambda m: self.placeholder("address", m[0]), text)
        return text

    def restore(self, text: str) -> str:
        def back(match: re.Match[str]) -> str:
            return self._by_placeholder.get(f"<{match[1]}_{match[2]}>", match[0])

        return PLACEHOLDER_RE.sub(back, text)

    def _checked(self, kind: str, match: re.Match[str], valid: Callable[[str], bool]) -> str:
        value = match[0]
        return self.placeholder(kind, value) if valid(value) else value

    def _cued_id(self, match: re.Match[str]) -> str:
        value = match["value"].strip()
        if sum(c.isdigit() for c in value) < 4 or PLACEHOLDER_RE.search(value):
            return match[0]
        start = match.start("value") - match.start()
        return match[0][:start] + self.placeholder("national_id", value)

    def _cued_order(self, match: re.Match[str]) -> str:
        value = match["value"]
        if sum(c.isdigit() for c in value) < 3:
            return match[0]
        start = match.start("value") - match.start()
        return match[0][:start] + self.placeholder("order", value)

    def _phone(self, match: re.Match[str]) -> str:
        value = match[0]
        digits = _digits(value)
        if not 7 <= len(digits) <= 15 or re.fullmatch(r"(?:19|20)\d\d[-./]\d\d?[-./]\d\d?", value):
            return value
        return self.placeholder("phone", value)


def _digits(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", value) if c.isdigit())


def _identity(kind: str, value: str) -> str:
    if kind in ("phone", "card", "iban"):
        return _digits(value) + "".join(c for c in value.upper() if c.isalpha())
    return " ".join(value.casefold().split())


def _name_variants(name: str) -> tuple[str, ...]:
    """The full name, then its parts long enough not to hit ordinary words."""
    name = " ".join((name or "").split())
    if not name:
        return ()
    variants = [name]
    parts = name.split(" ")
    if len(parts) > 1:
        variants += [p for p in parts if len(p) >= 3 and not p.endswith(".")]
    # Longest first, so "Ana Souza" goes whole before "Souza" alone.
    return tuple(sorted(dict.fromkeys(variants), key=len, reverse=True))


def _sub_name(text: str, name: str, replace: Callable[[re.Match[str]], str]) -> str:
    escaped = re.escape(name)
    if any(ord(c) >= 0x2E80 for c in name):  # CJK names sit inside running text
        pattern = escaped
    else:
        # Not inside a longer word; Han, kana and Hangul around it are other words ("Maria您好").
        letter = r"[^\W\d_\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]"
        pattern = rf"(?<!{letter}){escaped}(?!{letter})"
    return re.sub(pattern, replace, text, flags=re.IGNORECASE)
