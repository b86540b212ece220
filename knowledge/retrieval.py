"""Knowledge-base retrieval: article passages, a multilingual tokeniser and Okapi BM25.

Plain Python with numpy for the scoring loop. Callers pass articles in and get
``Passage`` objects out, so the index can be rebuilt in a task and tested without a database.

Score normalisation: raw BM25 grows with query length and corpus statistics, so no fixed
cut-off means the same thing for two questions. Each passage's score is divided by the
question's idf mass, the sum of idf over its distinct terms. A term that occurs once in an
average-length passage adds exactly its idf to BM25, so the ratio reads as "the share of the
question's informative words this passage covers" (capped at 1). Words the knowledge base has
never seen count in that mass as the rarest possible term: a question about something the KB
does not know stays below ``MATCH_THRESHOLD`` however many common words it shares with an
article.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from replies.engine.types import Passage

K1 = 1.5
B = 0.75
# Tuned on multilingual support questions: paraphrases of an article's own question land at
# 0.3-0.8, off-topic questions that share only filler words with the KB stay under 0.15.
MATCH_THRESHOLD = 0.2
# Paragraphs smaller than this (latin words + CJK characters) are merged with the next one,
# so a heading or a one-line remark does not become a passage of its own.
MIN_PASSAGE_SIZE = 25

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HIRAGANA = "\u3041-\u3096\u309d-\u309f"
_KATAKANA = "\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
_TOKEN_RE = re.compile(
    rf"(?P<han>[{_HAN}]+)|(?P<hira>[{_HIRAGANA}]+)|(?P<kata>[{_KATAKANA}]+)"
    rf"|(?P<word>[^\W_{_HAN}{_HIRAGANA}{_KATAKANA}]+)"
)
_KANA_ONLY_RE = re.compile(f"[{_HIRAGANA}{_KATAKANA}]+")
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
# Function words carry no topic. A large KB gives them a low idf anyway, but a small or young
# one does not, and then "in"/"en" alone can lift an off-topic question over the threshold.
# Compared after accents are stripped, before stemming.
_STOPWORDS_BY_LANGUAGE = {
    "en": "a about am an and any are as at be been but by can could did do does for from had has"
    " have hello hi how i if im in is it its me my no not of on or our please so thank thanks"
    " that the there this to us was we what when where which who why will with would you your",
    "es": "al algo como con cual de del el en es esta estoy hay hola la las le lo los me mi mis"
    " muy ni o para pero por porque que se si sin su sus te tengo tu tus un una y ya yo gracias",
    "fr": "au avec bonjour ce de des du elle en est et il je la le les ma mais merci mon ne nous"
    " ou par pas pour que qui sur un une votre vous",
    "de": "aber auch bei danke das dass den der die du ein eine hallo ich ist mit nicht oder sie"
    " und von zu",
    "pt": "ao as com da do e em eu meu minha na no nos o obrigado ola os ou um uma voce",
}
_STOPWORDS = frozenset(w for words in _STOPWORDS_BY_LANGUAGE.values() for w in words.split())
# Single CJK characters that are grammar, not topic; their bigrams are kept.
_CJK_STOP_CHARS = frozenset("的了是在我你您他她們们嗎吗呢吧啊和與与及也都就很請请")


@dataclass(frozen=True)
class ArticleDoc:
    article_id: int
    title: str
    body: str
    language: str  # BCP 47
    source_id: int | None = None  # the article this one translates, if any


def language_key(tag: str) -> str:
    """Reduce a BCP 47 tag to what matters for matching text: the language, and for Chinese
    the script, because Traditional and Simplified characters do not match each other."""
    parts = tag.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return "zh-hans" if {"hans", "cn", "sg", "my"} & set(parts) else "zh-hant"
    return parts[0]


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _stem(word: str, lang: str) -> str:
    """Light, predictable suffix stripping: enough to match plurals (and English -ed/-ing)
    without the surprises of a full stemmer on product names."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if lang == "es":
        if word.endswith("es") and len(word) > 4 and word[-3] not in "aeiou":
            return word[:-2]
        return word[:-1] if word.endswith("s") and word[-2] in "aeiou" else word
    if lang != "en":
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    # "charge"/"charged" and "invoice"/"invoices" meet at "charg"/"invoic".
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    # "cancelled"/"cancel", "billing"/"bill" meet once a doubled final consonant is undone.
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeious":
        word = word[:-1]
    return word


def _cjk_grams(run: str, *, unigrams: bool) -> list[str]:
    grams = [run[i : i + 2] for i in range(len(run) - 1)]
    return list(run) + grams if unigrams else grams


def tokenize(text: str, language: str = "") -> list[str]:
    """Lowercased, NFKC-normalised terms. Latin words lose accents and plural endings; CJK
    runs become overlapping character bigrams plus unigrams so text without spaces matches.
    Runs are cut where the script changes (Han/Hiragana/Katakana) to avoid bigrams that
    straddle a word and its particle; lone hiragana characters are particles and are dropped."""
    lang = language_key(language) if language else ""
    terms: list[str] = []
    for match in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", text).lower()):
        kind, run = match.lastgroup, match.group()
        if kind == "word":
            word = _strip_accents(run)
            if (len(word) > 1 or word.isdigit()) and word not in _STOPWORDS:
                terms.append(_stem(word, lang))
        else:
            grams = _cjk_grams(run, unigrams=kind != "hira")
            terms.extend(g for g in grams if g not in _CJK_STOP_CHARS)
    return terms


def _term_weight(term: str) -> float:
    """Query-term weight (BM25's qtf slot). Single CJK characters are ambiguous and kana-only
    grams are mostly grammar (particles, verb endings), so they count less than words and
    Han/katakana bigrams; kana bigrams still help an all-kana question find its article."""
    if _KANA_ONLY_RE.fullmatch(term):
        return 0.25
    if len(term) == 1 and not term.isascii():
        return 0.5
    return 1.0


def _content_size(text: str) -> int:
    """Latin words plus CJK characters: a length that means the same in every script."""
    return sum(1 if m.lastgroup == "word" else len(m.group()) for m in _TOKEN_RE.finditer(text))


def split_passages(body: str) -> list[str]:
    """Paragraphs, with small ones (headings, "Steps:" lines, one-line remarks) merged into
    their neighbour so every passage can answer something on its own."""
    passages: list[str] = []
    pending = ""
    for paragraph in _PARAGRAPH_RE.split(body.strip()):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        pending = f"{pending}\n\n{paragraph}" if pending else paragraph
        if _content_size(pending) >= MIN_PASSAGE_SIZE and not pending.endswith((":", "：")):
            passages.append(pending)
            pending = ""
    if pending and passages:
        passages[-1] = f"{passages[-1]}\n\n{pending}"
    elif pending:
        passages.append(pending)
    return passages


class _BM25:
    """Okapi BM25 over pre-tokenised documents, returning normalised scores (see module doc)."""

    def __init__(self, documents: list[list[str]]) -> None:
        n = len(documents)
        lengths = np.array([len(doc) for doc in documents], dtype=float)
        avgdl = float(lengths.mean()) if n and lengths.sum() else 1.0
        self._size = n
        self._length_norm = K1 * (1 - B + B * lengths / avgdl)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_index, doc in enumerate(documents):
            for term, tf in Counter(doc).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(doc_index)
                tfs.append(tf)
        self._postings = {
            term: (np.array(ids), np.array(tfs, dtype=float))
            for term, (ids, tfs) in postings.items()
        }
        self._idf = {term: self._idf_for(len(ids), n) for term, (ids, _) in postings.items()}
        # A term the index has never seen weighs like the rarest term it has seen.
        self._unseen_idf = self._idf_for(1, n)

    @staticmethod
    def _idf_for(df: int, n: int) -> float:
        # The "+1" variant (as in Lucene) keeps idf positive for terms in most passages.
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, terms: Iterable[str]) -> np.ndarray:
        raw = np.zeros(self._size)
        mass = 0.0
        for term in set(terms):
            weight = _term_weight(term)
            idf = self._idf.get(term)
            if idf is None:
                mass += weight * self._unseen_idf
                continue
            mass += weight * idf
            ids, tfs = self._postings[term]
            raw[ids] += weight * idf * tfs * (K1 + 1) / (tfs + self._length_norm[ids])
        return np.minimum(raw / mass, 1.0) if mass else raw


class KBIndex:
    """An immutable search index over article passages; rebuild it when articles change."""

    def __init__(self, passages: list[Passage], originals: list[bool], bm25: _BM25) -> None:
        self._passages = passages  # score 0 here; search returns scored copies
        self._bm25 = bm25
        self._languages = np.array([language_key(p.language) for p in passages], dtype=object)
        self._originals = np.array(originals, dtype=bool)

    @classmethod
    def build(cls, docs: Iterable[ArticleDoc]) -> KBIndex:
        docs = list(docs)
        known_ids = {doc.article_id for doc in docs}
        passages: list[Passage] = []
        originals: list[bool] = []
        documents: list[list[str]] = []
        for doc in docs:
            # A translation whose source is not in the index is the best original we have.
            is_original = doc.source_id is None or doc.source_id not in known_ids
            for text in split_passages(doc.body):
                passages.append(Passage(doc.article_id, doc.title, text, doc.language, 0.0))
                originals.append(is_original)
                # The title goes into every passage's terms: it names what the passage is about.
                documents.append(tokenize(f"{doc.title}\n{text}", doc.language))
        return cls(passages, originals, _BM25(documents))

    def __len__(self) -> int:
        return len(self._passages)

    def search(self, query: str, *, language: str | None, k: int = 3) -> list[Passage]:
        """Best passage per article, best first, scores in 0..1.

        With a language, that language's articles are searched first; if none reaches
        ``MATCH_THRESHOLD``, original (non-translated) articles in other languages are
        searched instead, and whichever list has the better top hit is returned."""
        terms = tokenize(query, language or "")
        if not terms or not self._passages:
            return []
        scores = self._bm25.scores(terms)
        if language is None:
            return self._top(scores, np.ones(len(self._passages), dtype=bool), k)
        own = self._languages == language_key(language)
        own_hits = self._top(scores, own, k)
        if own_hits and own_hits[0].score >= MATCH_THRESHOLD:
            return own_hits
        other_hits = self._top(scores, self._originals & ~own, k)
        if other_hits and (not own_hits or other_hits[0].score > own_hits[0].score):
            return other_hits
        return own_hits

    def _top(self, scores: np.ndarray, mask: np.ndarray, k: int) -> list[Passage]:
        hits: list[Passage] = []
        seen: set[int] = set()
        for index in np.argsort(-np.where(mask, scores, -1.0), kind="stable"):
            if not mask[index] or scores[index] <= 0 or len(hits) >= k:
                break
            passage = self._passages[index]
            if passage.article_id not in seen:
                seen.add(passage.article_id)
                hits.append(replace(passage, score=round(float(scores[index]), 4)))
        return hits


def best_passages(index: KBIndex, query: str, language: str | None, k: int = 3) -> list[Passage]:
    """The passages good enough to ground a reply; empty means a human must answer."""
    return [p for p in index.search(query, language=language, k=k) if p.score >= MATCH_THRESHOLD]
