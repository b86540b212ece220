"""What the models read of a customer message: the subject and what the customer just wrote,
cut to the length that decides what the message is about.

Quoted earlier mail and the signature say nothing about today's message (an angry quote from
three replies ago is not today's mood) and, for the sentence encoder, cost time in proportion
to their length: a 670-character e-mail whose new text is 200 characters took four times as
long to read whole. E-mail intake already stores the new text alone; text that arrives by the
API or a form may still hold the quote, so it is split again here (a no-op on new text).

The models then read at most `MODEL_TOKENS` tokens of it: the encoder's time grows with every
token, while a customer says what they want at the start (every realistic ticket of the
first-pass bench fits in 115 tokens). The rules (urgency, legal threats) read the whole new
text: a threat in the last paragraph of a long message still counts.
"""

from __future__ import annotations

import re

from supportdesk.intake.email_in.quotes import split_reply

# e5 tokens the models read of a message: ~450 Latin characters or ~130 Chinese/Japanese ones.
MODEL_TOKENS = 128
# A Latin-script token of the encoder covers about 3.5 characters (measured on the first-pass
# tickets); a Chinese, Japanese or Korean character is about one token.
LATIN_CHARS_PER_TOKEN = 3.5
_WIDE = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
# Where a cut may fall: after a sentence's end, else after a space.
_SENTENCE_END = re.compile(r"[.!?。！？…]\s*|\n")


def new_text(body: str) -> str:
    """What the customer just wrote: `body` without quoted earlier mail and signature."""
    return split_reply(body)[0] if body else ""


def message_text(subject: str, body: str) -> str:
    """Subject and new text as one string, the way every model reads a message."""
    text = new_text(body)
    return f"{subject}\n{text}" if subject.strip() else text


def token_estimate(text: str) -> float:
    wide = len(_WIDE.findall(text))
    return wide + (len(text) - wide) / LATIN_CHARS_PER_TOKEN


def for_models(text: str, tokens: int = MODEL_TOKENS) -> str:
    """The start of `text` worth about `tokens` encoder tokens, cut after the last sentence
    (else word) that fits; `text` itself when it fits."""
    if token_estimate(text) <= tokens:
        return text
    used, end = 0.0, 0
    for index, char in enumerate(text):
        used += 1 if _WIDE.match(char) else 1 / LATIN_CHARS_PER_TOKEN
        if used > tokens:
            break
        end = index + 1
    head = text[:end]
    sentences = [m.end() for m in _SENTENCE_END.finditer(head)]
    if sentences and sentences[-1] >= end // 2:
        return head[: sentences[-1]].rstrip()
    space = head.rfind(" ")
    return head[:space].rstrip() if space >= end // 2 else head
