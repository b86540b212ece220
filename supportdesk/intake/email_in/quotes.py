"""Separate what the customer just wrote from quoted earlier mail and their signature.

Triage must judge the new text only: an angry quote from three replies ago is not today's mood.
Line-based and linear in the input size; when unsure it keeps text as new rather than lose it.
"""

from __future__ import annotations

import re

_LOOKAHEAD = 3  # clients wrap an attribution over up to three lines

# "On <date>, <name> wrote:" and its equivalents; matched on up to three joined lines.
_ATTRIBUTION = re.compile(
    r"""^(?:
        On\s.{3,250}\swrote\s*:                                   # en
      | El\s.{3,250}\sescribió\s*:                                # es
      | Le\s.{3,250}\sa\sécrit\s*:                                # fr
      | Am\s.{3,250}\sschrieb\b.{0,200}:                          # de
      | (?:Em|No\sdia)\s.{3,250}\sescreveu\s*:                    # pt
      | Il\s.{3,250}\sha\sscritto\s*:                             # it
      | Op\s.{3,250}\sschreef\b.{0,200}:                          # nl
      | .{3,250}(?:пишет|написал[аи]?(?:\(а\))?)\s*:              # ru
      | .{0,250}(?:<[^<>\s]+@[^<>\s]+>|\d[:/.-]\d).{0,150}\swrote\s*:  # "Bob <b@x> wrote:"
      | .{3,250}が書きました\s*[:：]?                               # ja
      | .{3,250}のメール\s*[:：]                                    # ja (Apple Mail)
      | .{3,250}[寫写]道\s*[:：]                                    # zh
      | .{3,250}님이\s*작성\s*[:：]?                                # ko
      | \d{2,4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}.{0,120}<[^<>\s]+@[^<>\s]+>\s*[:：]  # Gmail
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:Original\sMessage|Forwarded\smessage|Ursprüngliche\sNachricht|
            Weitergeleitete\sNachricht|Message\sd['’]origine|Message\stransféré|Mensaje\soriginal|
            Mensaje\sreenviado|Mensagem\soriginal|Mensagem\sencaminhada|Messaggio\soriginale|
            Messaggio\sinoltrato|Oorspronkelijk\sbericht|Doorgestuurd\sbericht|原始邮件|原始郵件|
            转发邮件|轉寄郵件|元のメッセージ|転送されたメッセージ)\s*-{2,}
      | (?:Begin\sforwarded\smessage|Anfang\sder\sweitergeleiteten\sNachricht|
            Début\sdu\smessage\sréexpédié|Inicio\sdel\smensaje\sreenviado|
            Início\sda\smensagem\sreencaminhada|Inizio\smessaggio\sinoltrato)\s*:
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_FIELD = r"^\s*\*?\s*(?:{})\s*\*?\s*[:：]"
_FROM_FIELD = re.compile(
    _FIELD.format("From|De|Von|Van|Da|Från|Fra|Od|От|发件人|發件人|寄件者|差出人|보낸\\s?사람"),
    re.IGNORECASE,
)
_DATE_FIELD = re.compile(
    _FIELD.format(
        "Sent|Date|Envoyé|Gesendet|Datum|Enviado|Fecha|Data|Inviato|Verzonden|Skickat|"
        "Отправлено|发送时间|發送時間|日期|寄件日期|送信日時|日付|보낸\\s?날짜"
    ),
    re.IGNORECASE,
)
_TO_FIELD = re.compile(
    _FIELD.format(
        "To|Subject|À|Objet|An|Betreff|Para|Asunto|Assunto|A|Oggetto|Aan|Onderwerp|Till|Ämne|"
        "Кому|Тема|收件人|主题|主題|主旨|宛先|件名|받는\\s?사람|제목"
    ),
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*(?:_{10,}|-{10,})\s*$")
_DEVICE = (
    r"(?:iPhone|iPad|iPod|Android|Samsung|Galaxy|BlackBerry|Huawei|Xiaomi|Pixel|Outlook|"
    r"Yahoo|AOL|Proton\s?Mail|Gmail|Mail|Handy|Smartphone|móvil|movil|celular|portable|"
    r"telefono|telefone|mobile|phone|tablet)"
)
_MOBILE_SIGNOFF = re.compile(
    rf"""^(?:
        (?:Sent\s(?:from|via|with)|Get\sOutlook|Enviado\s(?:desde|do|de|con)|Envoyé\s(?:de|depuis)|
            Gesendet\s(?:von|mit)|Von\smeinem|Inviato\sda|Verzonden\s(?:vanaf|met)|
            Skickat\sfrån|Отправлено\sс)\b.{{0,25}}\b{_DEVICE}\b.{{0,40}}
      | .{{0,25}}(?:iPhone|iPad|Android|Huawei|HUAWEI|Xiaomi|小米|华为|華為|手机|手機|携帯|
            スマートフォン).{{0,20}}(?:から送信|发送|發送)
      | (?:从|從|發自|发自|來自|来自|寄自)我的.{{1,30}}
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _header_block_at(lines: list[str], index: int) -> bool:
    """An Outlook-style "From: / Sent: / To: / Subject:" block starts here."""
    if not _FROM_FIELD.match(lines[index]):
        return False
    window = lines[index + 1 : index + 7]
    return any(_DATE_FIELD.match(x) for x in window) and any(_TO_FIELD.match(x) for x in window)


def _attribution_ending_at(lines: list[str], index: int) -> int:
    """Number of lines of an attribution ("On …, Bob wrote:") ending on this line, else 0.
    The shortest match wins, so the customer's last line above it is never swallowed."""
    last = lines[index].rstrip()
    if not last.endswith((":", "：", "が書きました")):
        return 0
    for span in range(1, min(_LOOKAHEAD, index + 1) + 1):
        window = lines[index - span + 1 : index + 1]
        if any(not line.strip() or _is_quoted(line) for line in window):
            return 0
        joined = " ".join(line.strip() for line in window)
        if len(joined) < 500 and _ATTRIBUTION.match(joined):
            return span
    return 0


def _find_quote_start(lines: list[str]) -> tuple[int, int]:
    """(index where quoted mail begins, lines its attribution spans; 0 = "everything after")."""
    for index, line in enumerate(lines):
        if _is_quoted(line) or not line.strip():
            continue
        if _SEPARATOR.match(line) or _header_block_at(lines, index):
            previous = index - 1
            while previous >= 0 and not lines[previous].strip():
                previous -= 1
            return (previous if previous >= 0 and _RULE.match(lines[previous]) else index), 0
        if _RULE.match(line) and index + 1 < len(lines) and _header_block_at(lines, index + 1):
            return index, 0
        span = _attribution_ending_at(lines, index)
        if span:
            return index - span + 1, span
    return len(lines), 0


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """Cut at a "-- " line, or at a mobile sign-off near the end (a sentence that merely
    starts with "Sent from my phone" higher up is the customer's text)."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    for position, index in enumerate(filled[1:], start=1):
        line = lines[index]
        trailing = len(filled) - position - 1
        signoff = len(line) <= 80 and trailing <= 3 and _MOBILE_SIGNOFF.match(line.strip())
        if line.rstrip("\n") in ("-- ", "--") or signoff:
            return lines[:index], lines[index:]
    return lines, []


def _join(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def split_reply(text: str) -> tuple[str, str, str]:
    """Return ``(new_text, quoted_text, signature)``.

    ``new_text`` is never empty while the message holds anything that is not ``>``-quoted:
    when the rules would leave nothing (say, a bare forward) the whole text is returned.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, span = _find_quote_start(lines)
    head, tail = lines[:start], lines[start:]
    after: list[str] = []
    if span and any(_is_quoted(line) for line in tail[span : span + 3]):
        # "wrote:" followed by ">" lines: only those are quoted, a reply below them is new
        end = span
        while end < len(tail) and (_is_quoted(tail[end]) or not tail[end].strip()):
            end += 1
        tail, after = tail[:end], tail[end:]
        older, _ = _find_quote_start(after)  # an older quote below the reply is quoted too
        tail, after = tail + after[older:], after[:older]
    new = [line for line in head + after if not _is_quoted(line)]
    quoted = [line for line in head + after if _is_quoted(line)] + tail
    new, signature = _split_signature(new)
    new_text, quoted_text, signature_text = _join(new), _join(quoted), _join(signature)
    if not new_text and any(line.strip() and not _is_quoted(line) for line in lines):
        return text.strip(), "", ""
    return new_text, quoted_text, signature_text
