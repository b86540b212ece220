"""Messages that only thank us: nothing to answer, nothing for the knowledge base to learn.

"Thanks, that worked!" after a reply needs a short, warm acknowledgement, not a holding reply
promising a specialist, and it is not a question the knowledge base failed to answer. A message
counts as thanks only when it is short, says thanks in one of the supported languages and asks
nothing (no question mark, no question particle); anything longer or asking is treated as a
question, the safe side. A request that ends in thanks ("Please unsubscribe me. Thanks.") passes
this test, so drafting also requires that the knowledge base has no answer for the message.
"""

from __future__ import annotations

import re

# Words; CJK text has no spaces, so its characters count, at this many per word.
MAX_WORDS = 30
CJK_CHARS_PER_WORD = 2

_THANKS = re.compile(
    r"\b(?:thank(?:s+)?|thank\s+you|thx+|ty|cheers|much\s+appreciated|gracias|obrigad[oa]|valeu+"
    r"|merci|danke(?:sch[öo]n)?|vielen\s+dank)\b"
    r"|ありがと|感謝|感谢|謝謝|谢谢|多謝|多谢|助かりました",
    re.IGNORECASE,
)
# A question anywhere: ? or ？, or a Chinese/Japanese sentence-final question particle; or
# thanks given in advance, which comes with a request ("thanks in advance, I need …").
_QUESTION = re.compile(
    r"[?？¿]|[嗎吗呢](?:[。！!\s]|$)|ですか|ますか|でしょうか"
    r"|in\s+advance|de\s+antemano|por\s+adelantado|im\s+voraus|d'avance|par\s+avance"
    r"|desde\s+já|antecipadamente|先謝|先谢",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def is_only_thanks(text: str) -> bool:
    """Whether `text` (the customer's new words) only thanks us and asks nothing."""
    text = text.strip()
    if not text or not _THANKS.search(text) or _QUESTION.search(text):
        return False
    cjk = len(_CJK.findall(text))
    words = len(_CJK.sub(" ", text).split()) + cjk / CJK_CHARS_PER_WORD
    return words <= MAX_WORDS
