"""Long messages, cut into the sentences that can carry a feeling.

The emotion model learns from Reddit comments of at most ~33 words. A support e-mail is often
several paragraphs, and read whole by that model its greeting, thanks and sign-off outweigh the
one sentence that says how the customer feels ("Pretty annoyed that there was no warning.").
Such messages are read sentence by sentence instead (`emotion.predict_emotions`).
"""

from __future__ import annotations

import re

# Close to the longest training comment; Chinese and Japanese count by character. Three or more
# lines (an e-mail's greeting, body and signature) also make a message long: the training
# comments are single lines.
LONG_TEXT_WORDS = 30
LONG_TEXT_CJK_CHARACTERS = 60
LONG_TEXT_LINES = 3
# Sentences read per message: the subject and the opening paragraphs say most of it.
MAX_SENTENCES = 12

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")
# A plain-text e-mail wraps its lines at ~72 characters: a line that stops mid-sentence and a
# next line that starts in lower case are one sentence.
_WRAPPED = re.compile(r"(?<=[^\s.!?。！？,，、:;])[ \t]*\n(?=[a-z])")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_END = (".", "!", "?", "。", "！", "？")


def is_long(text: str) -> bool:
    return len(text.split()) > LONG_TEXT_WORDS or len(_CJK.findall(text)) > LONG_TEXT_CJK_CHARACTERS


def _salutation_or_name(part: str) -> bool:
    """ "Hi,", "Kind regards," or "Many thanks," (they end in a comma), and a signature
    ("Daniel Reyes", "Cheers, Tom": two words or fewer without a sentence's end)."""
    if part.endswith((",", "，", "、")):
        return True
    return len(part.split()) <= 2 and not part.endswith(_END) and not _CJK.search(part)


def split_sentences(text: str) -> list[str]:
    """The message's sentences (and lines), without greetings, closings and signatures."""
    parts = (p.strip() for p in _BOUNDARY.split(_WRAPPED.sub(" ", text)))
    return [p for p in parts if p and not _salutation_or_name(p)][:MAX_SENTENCES]
