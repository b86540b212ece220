"""Bytes and markup to text, the way customers' mail actually arrives.

Charset fallback order: the declared charset (read the way mail clients read it: GB2312 as
GB18030, Shift_JIS as cp932, ...) -> UTF-8 -> the most plausible of a few common charsets ->
windows-1252 with replacement characters. Every function returns text; none raises.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from html.parser import HTMLParser

from supportdesk.html import sanitize_html

# What mail clients really mean by a label (cf. the WHATWG Encoding Standard).
_ALIASES: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",), "gbk": ("gb18030",), "x-gbk": ("gb18030",), "euc-cn": ("gb18030",),
    "cp936": ("gb18030",), "shift_jis": ("cp932",), "shift-jis": ("cp932",), "sjis": ("cp932",),
    "x-sjis": ("cp932",), "ms_kanji": ("cp932",), "windows-31j": ("cp932",),
    "iso-2022-jp": ("iso2022_jp_2", "iso2022_jp_ext"), "big5": ("cp950", "big5hkscs"),
    "x-big5": ("cp950", "big5hkscs"), "euc-kr": ("cp949",), "ks_c_5601-1987": ("cp949",),
    "iso-8859-8-i": ("iso8859_8",), "utf8": ("utf-8",), "unicode-1-1-utf-7": ("utf-7",),
}  # fmt: skip
_REFUSED = {"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined"}
_GUESSES = ("gb18030", "cp950", "cp932", "cp949", "cp1252", "cp1251", "koi8_r", "iso8859_2")
_SINGLE_BYTE = ("iso8859", "cp125", "latin", "koi8", "mac-", "cp437", "cp850", "tis")
# Frequent characters in Chinese and Japanese support mail, both scripts: a right decoding
# produces many of them, a wrong one produces rare characters instead.
_COMMON_HAN = set(
    "的一是不了人我在有他这這个個们們中来來上大为為和国國地到以说說时時要就出会會可也你对對"
    "生能而子那得于着下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同"
    "现現当當没沒动動面起看定天分还還进進好小部其些主样樣理心本前开開但因只从從想实實日者意无"
    "無力它与與长長把机機十民第公此已工使情明性知全三又关關点點正业業外将將两兩高间間由问問很"
    "最重并物手应應向头頭文体體新己制身果加月话話合回特代内信表化给給位次度门門任常先海通教原"
    "东東声聲提立及比员員解水名真论論处處走各入几幾口认認条條平系气氣题題活更别別打女变變四神"
    "总總何电電数數安少报報才结結反受目太量再感建务務做接必场場件计計管期市直资資您请請谢謝订"
    "訂单單货貨款退收寄帐帳户戶号號码碼买買卖賣账網网站送付商品注文届確認申願致返金様客購購入"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)(?:\?=|\?$|$)")


def _codec(label: str) -> str | None:
    try:
        info = codecs.lookup(label)
    except (LookupError, TypeError, ValueError):
        return None
    usable = getattr(info, "_is_text_encoding", True) and info.name not in _REFUSED
    return info.name if usable else None


def _candidates(data: bytes, declared: str | None) -> list[str]:
    label = (declared or "").strip().strip("\"'").lower()
    names = [c for c in (_codec(x) for x in _ALIASES.get(label, (label,))) if c] if label else []
    if names and names[0].startswith(_SINGLE_BYTE) and not data.isascii():
        names.insert(0, "utf-8")  # valid UTF-8 mislabelled latin-1 is common; the reverse is rare
    return [*names, "utf-8"]


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode with the declared charset if it fits, else fall back; never raises."""
    if not data:
        return ""
    for name in _candidates(data, declared):
        try:
            text = data.decode(name)
        except (UnicodeError, LookupError, ValueError, TypeError):
            continue
        if not _SURROGATE.search(text):  # UTF-7 decodes "+2AA-" to one; no database stores it
            return text
    return data.decode(_guess(data) or "cp1252", errors="replace")


def _guess(data: bytes) -> str | None:
    sample = data[:65536]
    scored = [(_plausibility(sample.decode(name, errors="replace")), name) for name in _GUESSES]
    best = max(scored, key=lambda pair: pair[0])  # max keeps the first of equal scores
    return best[1]


def _plausibility(text: str) -> int:
    score = 0
    for index, char in enumerate(text):
        if char.isascii():
            continue
        code = ord(char)
        if char == "\ufffd" or unicodedata.category(char) in ("Cc", "Co", "Cn", "Cs"):
            score -= 10
        elif char in _COMMON_HAN or 0x3000 <= code <= 0x30FF or 0xAC00 <= code <= 0xD7A3:
            score += 3  # common hanzi/kanji, CJK punctuation, kana, hangul
        elif 0xFF01 <= code <= 0xFF5E:
            score += 2  # full-width punctuation
        elif 0x4E00 <= code <= 0x9FFF:  # a rare hanzi inside a Latin word is mojibake
            near = text[max(index - 1, 0) : index] + text[index + 1 : index + 2]
            score += not any(c.isascii() and c.isalpha() for c in near)
        elif char.isalpha() and code < 0x500:
            # accented Latin letters sit inside ASCII words, Cyrillic/Greek ones do not:
            # "cafй" and "Çäðàâñòâóéòå" are both wrong guesses
            near = text[max(index - 1, 0) : index] + text[index + 1 : index + 2]
            beside_ascii = any(c.isascii() and c.isalpha() for c in near)
            score += 1 if beside_ascii == (code < 0x250) else -1
            score -= char.isupper() and text[index - 1 : index].islower()
    return score


def decode_header_value(value: str, *, words: bool = True) -> str:
    """A raw header value (8-bit bytes arrive surrogate-escaped) to text; with ``words``
    also RFC 2047 encoded-words, tolerating broken ones and multibyte characters split
    across adjacent words."""
    try:
        data = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        text = value
    else:
        text = decode_bytes(data) if not data.isascii() else data.decode("ascii")
    text = re.sub(r"\r?\n(?=[ \t])", "", text)
    return decode_encoded_words(text) if words else text


def decode_encoded_words(text: str) -> str:
    pieces: list[tuple[str | None, str | bytes]] = []  # (charset or None for plain text, data)
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, between))
        charset = match.group(1).split("*", 1)[0].lower()  # RFC 2231 adds *language
        data = _word_bytes(match.group(2).upper(), match.group(3))
        if data is None:
            pieces.append((None, match.group(0)))
        elif pieces and pieces[-1][0] == charset:
            pieces[-1] = (charset, pieces[-1][1] + data)  # type: ignore[operator]
        else:
            pieces.append((charset, data))
        position = match.end()
    pieces.append((None, text[position:]))
    return "".join(
        data if isinstance(data, str) else decode_bytes(data, charset) for charset, data in pieces
    )


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    raw = payload.encode("utf-8", "surrogatepass")
    if encoding == "Q":
        return binascii.a2b_qp(raw, header=True)
    if re.search(rb"[^A-Za-z0-9+/=\s]", raw):
        return None  # not base64 at all: keep the word as written
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    cleaned = cleaned[: len(cleaned) - 1] if len(cleaned) % 4 == 1 else cleaned
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_header(value: str) -> str:
    """One line, no control characters: safe to reuse in headers we write."""
    return " ".join(_CONTROL.sub(" ", value).split())


def clean_text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return _CONTROL.sub("", value).replace("\t", "    ")


def unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676 format=flowed: rejoin soft-wrapped lines, undo space-stuffing."""
    lines: list[list[str]] = []  # [quote prefix, content, soft-break flag]
    for line in text.replace("\r\n", "\n").split("\n"):
        content = line.lstrip(">")
        prefix = line[: len(line) - len(content)]
        content = content[1:] if content.startswith(" ") else content
        if lines and lines[-1][2] and lines[-1][0] == prefix:
            previous = lines[-1][1]
            lines[-1][1] = (previous[:-1] if delsp else previous) + content
        else:
            lines.append([prefix, content, ""])
        lines[-1][2] = "soft" if lines[-1][1].endswith(" ") and lines[-1][1] != "-- " else ""
    return "\n".join(f"{p} {c}" if p and c else p + c for p, c, _ in lines)


_BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "pre", "section", "article", "header", "footer", "address", "dd", "dt", "blockquote",
}  # fmt: skip


class _TextExtractor(HTMLParser):
    """HTML to readable text; blockquotes become "> " lines so quote detection still works."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.quote = self.skip = self.pre = 0
        self.href = ""

    def flush(self) -> None:
        text = "".join(self.line).strip()
        self.lines.append(("> " * self.quote + text).rstrip() if text else "")
        self.line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title", "template"):
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self.flush()
            self.quote += tag == "blockquote"
            self.pre += tag == "pre"
        elif tag == "a":
            self.href = next((v or "" for k, v in attrs if k == "href"), "")
        elif tag == "img":
            self.line.append(next((v or "" for k, v in attrs if k == "alt"), ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title", "template"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.flush()
            self.quote = max(0, self.quote - (tag == "blockquote"))
            self.pre = max(0, self.pre - (tag == "pre"))
        elif tag == "a" and self.href.startswith(("http://", "https://")):
            if self.href not in "".join(self.line):
                self.line.append(f" <{self.href}>")
            self.href = ""

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            self.line.append(re.sub(r"\s+", " ", data))
            return
        first, *rest = data.split("\n")
        self.line.append(first)
        for line in rest:
            self.flush()
            self.line.append(line)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except (AssertionError, ValueError, IndexError):  # old HTMLParser asserts on odd markup
        return " ".join(sanitize_html(html).split())
    extractor.flush()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(extractor.lines)).strip()
