"""Knowledge gaps: which customer messages ask something the knowledge base should answer, and
which earlier gaps ask the same thing (clusters), in any language.

Plain Python: the services hand in the texts and the meaning vectors (read by the triage
room's multilingual encoder) and persist what comes out.

How gaps are matched. The shipped encoder (multilingual-e5-small, 4-bit) places texts of one
language close together whatever they ask: raw cosines of two unrelated questions in one
language are often higher than those of one question asked in two languages. Each vector is
therefore centred on the mean vector of its language's typical support messages first (the
language is what remains in that mean), and a cluster keeps one centroid per language. A new
question joins the cluster whose centroid in its own language is at least SAME_LANGUAGE close,
or whose centroid in another language is at least OTHER_LANGUAGE close. The vector is that of
the whole message (`topic_of`), not of the question sentence alone, which often leaves out
what is asked ("could you tell me how?").

The thresholds favour precision: on 56 realistic unanswerable tickets in eight languages, 90 %
of the pairs they put together ask the same question, but they find about a quarter of such
pairs (the strap for an Apple Watch in English and Chinese, warranty repairs in Chinese and
Japanese, data deletion in German and Portuguese, …). A question split over two suggestions
costs an admin one more review (the second is added to the first's article); a suggestion that
mixes two questions gets one answer for both. bench/gap_clustering.py prints the figures, and
those of a stricter and a looser pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.text import tokenize
from supportdesk.llm.redact import KINDS, OPTIONAL_KINDS, PLACEHOLDER_RE, Redactor

SAME_LANGUAGE = 0.60
OTHER_LANGUAGE = 0.35
# Without sentence vectors, questions are matched on their words (one language at a time).
WORDS_SAME_LANGUAGE = 0.5
WORDS = "words"

# Something is asked: a question mark, or a request in one of the desk's languages. A
# complaint that asks nothing, and thanks, are no gap: nothing for an article to answer.
_ASKS = re.compile(
    r"[?？¿]"
    r"|\b(?:please|pls|plz|could you|can you|can i|can we|would you|how (?:do|can|to|long|much)"
    r"|is it possible|i(?:'d| would) like|i want|i need|where (?:can|do)|do you|are you|is there"
    r"|bitte|kann ich|können sie|könnten sie|ich möchte|ich will|gibt es|wie kann"
    r"|s'il vous pla[iî]t|je voudrais|j'aimerais|je veux|merci de|est-ce|pouvez-vous|comment"
    r"|por favor|quiero|quisiera|gustar[ií]a|exijo|puedo|pueden|necesito|c[oó]mo"
    r"|solicito|gostaria|quero|posso|podem|preciso)\b"
    r"|請|请|想要|想問|想问|需要|麻煩|麻烦|我要|能不能|可不可以|可以.{0,12}[嗎吗]"
    r"|[嗎吗呢](?:[。！!\s]|$)"
    r"|ください|下さい|てほしい|止めて|たいのですが|たいです|教えて|でしょうか|ませんか|ますか"
    r"|できますか",
    re.IGNORECASE,
)
# A test or a probe, not a customer's question: markup, or the words "test"/"testing" alone.
_MARKUP = re.compile(r"<\s*/?\s*(?:script|iframe|img|svg|a|style|object|embed)\b", re.I)
_TEST_ONLY = re.compile(
    r"^\W*(?:(?:this is (?:a|just a) )?test(?:ing)?(?: message)?|asdf\w*|hello world|123+)\W*$",
    re.I,
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hola|buenas|bonjour|coucou|hallo"
    r"|guten tag|grüß gott|sehr geehrte|olá|ola|oi|boa (?:tarde|noite)|你好|您好|こんにちは"
    r"|いつも)\b[^.!?。！？]{0,40}[,，、!！]?\s*$",
    re.I,
)
# Closings and signatures: a line that ends with a comma ("Kind regards,") or is a name.
_CLOSING = re.compile(
    r"^(?:thanks?|thank you|cheers|best|regards|kind regards|many thanks|gracias|saludos|merci"
    r"|cordialement|danke|viele grüße|mit freundlichen grüßen|obrigad[oa]|abraços|atenciosamente"
    r"|謝謝|谢谢|多謝|よろしくお願いします)\b.{0,40}$",
    re.I,
)
# "Hola, ¿tienen envoltura de regalo?": a greeting on the question's own line.
_LEADING_GREETING = re.compile(
    r"^(?:hi|hello|hey|hola|buenas|bonjour|coucou|hallo|olá|ola|oi|你好|您好)"
    r"(?:\s+\w+)?\s*[,，!！]\s*",
    re.I,
)
MAX_QUESTION_CHARS = 600


def asks_something(text: str) -> bool:
    return bool(_ASKS.search(text))


def looks_like_probe(text: str) -> bool:
    """Markup, a bare "test", or a message that is mostly links: nothing a customer asked."""
    stripped = text.strip()
    if not stripped or _MARKUP.search(stripped) or _TEST_ONLY.match(stripped):
        return True
    words = stripped.split()
    links = len(_URL.findall(stripped))
    return links >= 3 and links * 3 >= len(words)


# Unsolicited offers: what sellers of links, traffic and miracles write to every shop's support
# address. Two of these, or one with a link, and the message is no customer's question.
_SPAM = re.compile(
    r"\b(?:seo|backlinks?|guest posts?|rank(?:ing)? (?:on|in) google|first page of google"
    r"|web(?:site)? traffic|increase (?:your )?(?:sales|traffic)|marketing services"
    r"|crypto(?:currency)?|bitcoin|forex|investment opportunit\w+|casino|viagra|cialis"
    r"|loan offer|(?:100|1000)% (?:free|guaranteed)|click here|limited time offer"
    r"|dear (?:sir|madam)/?(?:madam)?|we are a (?:leading|professional) (?:company|agency)"
    r"|collaboration proposal|sponsored (?:post|content)|dropshipping supplier)\b",
    re.IGNORECASE,
)


def looks_like_spam(text: str) -> bool:
    cues = len(_SPAM.findall(text))
    return cues >= 2 or (cues >= 1 and bool(_URL.search(text)))


def sentences(text: str) -> list[str]:
    parts = (p.strip() for p in _SENTENCE.split(text))
    return [p for p in parts if p and not _GREETING.match(p) and not _CLOSING.match(p)]


def question_of(subject: str, body: str) -> str:
    """What the customer asks, in their words: the sentences that ask something (the subject
    first when it does), greetings and closings left out. "" when nothing is asked, the
    message is thanks only, or it looks like a probe or spam rather than a customer's question."""
    if looks_like_probe(body) or looks_like_probe(f"{subject} {body}"):
        return ""
    if looks_like_spam(f"{subject}\n{body}"):
        return ""
    asked = [_LEADING_GREETING.sub("", s) for s in sentences(body) if asks_something(s)]
    # The subject only when the body itself asks nothing ("Gift wrap?" over "Is it possible?").
    if not asked and asks_something(subject) and not subject.lower().startswith("re:"):
        asked = [subject.strip()]
    if not asked:
        return ""
    return " ".join(dict.fromkeys(a for a in asked if a))[:MAX_QUESTION_CHARS]


def topic_of(subject: str, body: str) -> str:
    """What the message is about, to read its meaning from: the subject, then every sentence
    but greetings and closings. The question alone often does not say it ("How do I do
    that?" after "I want to close my account")."""
    parts = sentences(body)
    if subject.strip() and not subject.lower().startswith("re:"):
        parts.insert(0, subject.strip())
    return " ".join(dict.fromkeys(parts))[:MAX_QUESTION_CHARS]


@dataclass(frozen=True)
class ClusterView:
    """One candidate cluster: its id and per-language centroid sums (vectors) or word counts."""

    id: int
    vector_model: str
    centroids: Mapping[str, Sequence[float]]  # language -> sum of centred vectors
    words: Mapping[str, Mapping[str, int]]  # language -> word -> count (the words fallback)


@dataclass(frozen=True)
class Match:
    cluster_id: int
    closeness: float


def best_cluster(
    *,
    language: str,
    vector: np.ndarray | None,
    vector_model: str,
    question: str,
    clusters: Iterable[ClusterView],
) -> Match | None:
    """The cluster this question belongs to, or None when it asks something new. `vector` is
    the centred vector (None: match on words)."""
    best: Match | None = None
    best_margin = 0.0
    words = None if vector is not None else _word_counts(question, language)
    for cluster in clusters:
        if cluster.vector_model != vector_model:
            continue
        if vector is not None:
            for other, total in cluster.centroids.items():
                c = np.asarray(total, dtype=np.float32)
                norm = float(np.linalg.norm(c))
                if not norm:
                    continue
                closeness = float(vector @ c) / norm
                needed = SAME_LANGUAGE if other == language else OTHER_LANGUAGE
                if closeness - needed >= best_margin:
                    best_margin, best = closeness - needed, Match(cluster.id, closeness)
        elif language in cluster.words:
            closeness = _overlap(words, cluster.words[language])
            if closeness - WORDS_SAME_LANGUAGE >= best_margin:
                best_margin = closeness - WORDS_SAME_LANGUAGE
                best = Match(cluster.id, closeness)
    return best


def _word_counts(text: str, language: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in tokenize(text, language):
        counts[word] = counts.get(word, 0) + 1
    return counts


def _overlap(words: Mapping[str, int] | None, cluster: Mapping[str, int]) -> float:
    """Share of this question's words the cluster's questions use (0-1)."""
    if not words:
        return 0.0
    return sum(1 for w in words if w in cluster) / len(words)


def cluster_add(
    centroids: dict, words: dict, *, language: str, vector: np.ndarray | None, question: str
) -> None:
    """Add one question to a cluster's per-language sums (in place)."""
    if vector is not None:
        total = np.asarray(centroids.get(language, np.zeros(len(vector))), dtype=np.float64)
        centroids[language] = [round(float(x), 5) for x in total + vector]
    else:
        counts = words.setdefault(language, {})
        for word in _word_counts(question, language):
            counts[word] = counts.get(word, 0) + 1


# Placeholders read as what they hide: a FAQ question or answer says "[order number]", not
# "<ORDER_1>", and never the customer's own.
_READABLE = {
    "EMAIL": "[e-mail]",
    "PHONE": "[phone]",
    "CARD": "[card]",
    "IBAN": "[IBAN]",
    "ID": "[ID number]",
    "ADDRESS": "[address]",
    "NAME": "[name]",
    "ORDER": "[order number]",
}


def without_personal_data(text: str, *, names: Sequence[str] = (), email: str = "") -> str:
    """`text` with personal data replaced by what it is, by the redactor the language-model
    path uses, with order numbers too; `names` are the people the text may name (the customer,
    the agent who signed a reply)."""
    redactor = Redactor.for_customer(
        name=names[0] if names else "",
        email=email,
        kinds=(*KINDS, *OPTIONAL_KINDS),
        other_names=names[1:],
    )
    return PLACEHOLDER_RE.sub(lambda m: _READABLE[m[1]], redactor.redact(text))
