"""Knowledge-base retrieval: Okapi BM25 over article passages, and when a match is good.

Plain Python with numpy for the scoring loop; terms come from ``knowledge.text``. Callers
pass articles in and get ``Passage`` objects out, so the index can be rebuilt in a task and
tested without a database.

Score normalisation: raw BM25 grows with query length and corpus statistics, so no fixed
cut-off means the same thing for two questions. Each passage's score is divided by the
question's idf mass, the sum of idf over its distinct terms. A term that occurs once in an
average-length passage adds exactly its idf to BM25, so the ratio reads roughly as "the share
of the question's informative words this passage covers". Passages are ranked on that ratio
as is (a passage that repeats the question's words outranks one that mentions them once);
only the reported score is capped at 1. Words the knowledge base has never seen count in the
mass as the rarest possible term.

A passage is good enough to ground a reply (``best_passages``) when its score reaches
``MATCH_THRESHOLD`` *and* it shares at least ``MIN_EVIDENCE`` informative words with the
question (all of them, for a shorter question). One shared word is not evidence: BM25
rewards a repeated term up to (K1 + 1) times its idf, so one word the passage repeats
("shipping" in a shipping article) can otherwise carry a question about something else.
CJK text has no spaces, so there words are estimated from the characters that matching
bigrams cover (``_Query.evidence``). A question with no informative words at all (all kana)
is judged on its score alone.

For a how-to question an article's numbered steps stand in for its best passage when they
score nearly as well: the steps answer "how", an introduction only describes. When the customer
says they already did it ("I returned it two weeks ago", 已經退貨了) and does not ask how, the
steps are what they did, not the answer: the article's passages after its steps (what happens
next) stand in, those saying how long it takes first when they ask when or where; an article
that is only steps does not answer them.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from knowledge.text import (
    SIBLING_SCRIPT,
    asks_how,
    asks_when,
    has_steps,
    language_key,
    says_done,
    script_runs,
    split_passages,
    states_duration,
    term_weight,
    to_script,
    tokenize,
)

# Re-exported: callers and tests tokenise and split through this module.
__all__ = [
    "MATCH_THRESHOLD",
    "ArticleDoc",
    "KBIndex",
    "Passage",
    "best_passages",
    "language_key",
    "split_passages",
    "tokenize",
]


@dataclass(frozen=True)
class Passage:
    """A retrieved knowledge-base passage: what grounds a drafted reply."""

    article_id: int
    title: str
    text: str
    language: str
    score: float
    # The score is the answer model's calibrated probability that this article answers the
    # question (word matching's score is not a probability).
    calibrated: bool = False


K1 = 1.5
B = 0.75
# Calibrated with bench/retrieval_quality.py on the demo KB (en, zh-Hant, ja, es questions).
MATCH_THRESHOLD = 0.2
# Informative words a passage must share with the question to ground a reply (see module doc).
MIN_EVIDENCE = 2.0
# "Nearly as well" for the steps of a how-to question (see module doc), as a share of the best.
STEPS_SHARE = 0.75
# Weight of shared words (as a share of the best passage's) next to closeness in meaning when
# choosing an article's passage: enough to break near ties, not to overrule the meaning.
LEXICAL_TIEBREAK = 0.02
# The cosine of a question's meaning to each of some passages' texts (None: cannot tell).
Closeness = Callable[[str, Sequence[str]], "np.ndarray | None"]


@dataclass(frozen=True)
class ArticleDoc:
    article_id: int
    title: str
    body: str
    language: str  # BCP 47
    source_id: int | None = None  # the article this one translates, if any


@dataclass(frozen=True)
class _Query:
    """A question as the index sees it: its terms, and what counts as evidence of a match."""

    terms: list[str]
    words: frozenset[str]  # latin-script terms
    cjk_runs: tuple[tuple[str, str], ...]  # (script, run): Han and katakana only
    how_to: bool
    done: bool = False  # the customer already did it: the steps are not the answer
    when: bool = False  # asks when, how long, or where something is

    @classmethod
    def parse(cls, text: str, language: str) -> _Query:
        runs = list(script_runs(text, language))
        return cls(
            terms=[term for _, _, terms in runs for term in terms],
            words=frozenset(terms[0] for kind, _, terms in runs if kind == "word"),
            cjk_runs=tuple((kind, run) for kind, run, _ in runs if kind in ("han", "kata")),
            how_to=asks_how(text),
            done=says_done(text),
            when=asks_when(text),
        )

    @property
    def steps_done(self) -> bool:
        """The customer followed the steps already and asks what happens now."""
        return self.done and not self.how_to

    def evidence(self, present: Container[str] | None = None) -> float:
        """How many informative words of the question are in ``present`` (all of them
        without it). CJK has no spaces, so words are estimated from the stretches of the
        question that matching bigrams cover: Chinese words are mostly two characters, so a
        Han stretch of n characters counts ceil(n / 2). A katakana run is one loanword, so a
        stretch of it counts as its share of the run ("ギフト" is part of "ギフトラッピング")."""
        found: float = sum(1 for word in self.words if present is None or word in present)
        for script, run in self.cjk_runs:
            covered = [False] * len(run)
            for i in range(len(run) - 1):
                if present is None or run[i : i + 2] in present:
                    covered[i] = covered[i + 1] = True
            for is_covered, stretch in itertools.groupby(covered):
                if is_covered:
                    size = len(list(stretch))
                    found += math.ceil(size / 2) if script == "han" else size / len(run)
        return found


class _BM25:
    """Okapi BM25 over pre-tokenised documents, returning normalised scores (see module doc);
    uncapped, so they rank, and can exceed 1."""

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
            weight = term_weight(term)
            idf = self._idf.get(term)
            if idf is None:
                mass += weight * self._unseen_idf
                continue
            mass += weight * idf
            ids, tfs = self._postings[term]
            raw[ids] += weight * idf * tfs * (K1 + 1) / (tfs + self._length_norm[ids])
        return raw / mass if mass else raw


class KBIndex:
    """An immutable search index over article passages; rebuild it when articles change."""

    def __init__(
        self,
        passages: list[Passage],
        originals: list[bool],
        documents: list[list[str]],
        answers: list[int] | None = None,
    ) -> None:
        self._passages = passages  # score 0 here; search returns scored copies
        # The answer each passage gives: its article's source (a translation shares it).
        self._answers = np.array(
            answers if answers is not None else [p.article_id for p in passages], dtype=np.int64
        )
        self._bm25 = _BM25(documents)
        self._terms = [frozenset(doc) for doc in documents]
        self._languages = np.array([language_key(p.language) for p in passages], dtype=object)
        self._originals = np.array(originals, dtype=bool)
        self._steps = np.array([has_steps(p.text) for p in passages])
        self._by_article: dict[int, list[int]] = {}
        for index, passage in enumerate(passages):
            self._by_article.setdefault(passage.article_id, []).append(index)

    @classmethod
    def build(cls, docs: Iterable[ArticleDoc]) -> KBIndex:
        docs = list(docs)
        known_ids = {doc.article_id for doc in docs}
        passages: list[Passage] = []
        originals: list[bool] = []
        documents: list[list[str]] = []
        answers: list[int] = []
        for doc in docs:
            # A translation whose source is not in the index is the best original we have.
            is_original = doc.source_id is None or doc.source_id not in known_ids
            for text in split_passages(doc.body):
                passages.append(Passage(doc.article_id, doc.title, text, doc.language, 0.0))
                originals.append(is_original)
                answers.append(doc.article_id if doc.source_id is None else doc.source_id)
                # The title goes into every passage's terms: it names what the passage is about.
                documents.append(tokenize(f"{doc.title}\n{text}", doc.language))
        return cls(passages, originals, documents, answers)

    def __len__(self) -> int:
        return len(self._passages)

    def passage_texts(self) -> list[str]:
        return [passage.text for passage in self._passages]

    def search(self, query: str, *, language: str | None, k: int = 3) -> list[Passage]:
        """Best passage per article, best first, scores in 0..1.

        With a language, that language's articles are searched first; if none is a good
        match (see ``best_passages``), original (non-translated) articles in other languages
        are searched instead, and whichever list has the better top hit (a good match, else
        the higher score) is returned."""
        return [passage for passage, _ in self._judged(query, language, k)]

    def passages_of(
        self,
        answer_id: int,
        query: str,
        *,
        language: str | None,
        closeness: Closeness | None = None,
    ) -> list[Passage]:
        """The passage of one answer (an article and its translations) that best fits `query`:
        in the customer's language when the answer is written in it (Chinese converted from
        the other script when only that one exists), else the original. With `closeness` (the
        cosine of the question's meaning to each passage's, any language), the passage closest
        in meaning, its shared words breaking near ties; without, the passage sharing most
        words with the question. Either way, its numbered steps for a how-to question, else its
        opening passage. Empty when the answer is not in the index."""
        original_query = query
        members = self._answers == answer_id
        convert_to = None
        if language is not None:
            key = language_key(language)
            own = members & (self._languages == key)
            sibling = members & (self._languages == SIBLING_SCRIPT.get(key, ""))
            if own.any():
                members = own
            elif sibling.any():  # Chinese in the other script: converted below
                members, convert_to = sibling, language
                query = to_script(query, self._passages[int(np.argmax(sibling))].language)
            else:
                members = members & self._originals
        if not members.any():
            return []
        parsed = _Query.parse(query, language or "")
        scores = self._bm25.scores(parsed.terms) if parsed.terms else np.zeros(len(self))
        candidates = np.flatnonzero(members)
        if parsed.steps_done:
            candidates = self._after_steps(candidates, when=parsed.when)
            if not len(candidates):
                return []
        ranking = scores[candidates]
        meaning = None
        if closeness is not None:
            meaning = closeness(original_query, [self._passages[i].text for i in candidates])
        if meaning is not None:
            lexical = ranking / ranking.max() if ranking.max() > 0 else ranking
            best = int(candidates[np.argmax(np.asarray(meaning) + LEXICAL_TIEBREAK * lexical)])
        else:
            best = int(candidates[np.argmax(ranking)])  # ties: the first passage
            if parsed.how_to and not self._steps[best]:
                best = self._steps_instead(best, scores, members)
        passage = self._passages[best]
        if convert_to is not None:
            passage = replace(
                passage,
                title=to_script(passage.title, convert_to),
                text=to_script(passage.text, convert_to),
                language=convert_to,
            )
        return [passage]

    def _judged(self, query: str, language: str | None, k: int) -> list[tuple[Passage, bool]]:
        """``search`` with each hit's verdict: is it good enough to ground a reply?"""
        parsed = _Query.parse(query, language or "")
        if not parsed.terms or not self._passages:
            return []
        scores = self._bm25.scores(parsed.terms)
        if language is None:
            return self._top(parsed, scores, np.ones(len(self._passages), dtype=bool), k)
        own = self._languages == language_key(language)
        own_hits = self._top(parsed, scores, own, k)
        if own_hits and own_hits[0][1]:
            return own_hits
        other_hits = self._top(parsed, scores, self._originals & ~own, k)
        if other_hits and (not own_hits or _rank(other_hits[0]) > _rank(own_hits[0])):
            return other_hits
        return own_hits

    def _top(
        self, query: _Query, scores: np.ndarray, mask: np.ndarray, k: int
    ) -> list[tuple[Passage, bool]]:
        required = min(MIN_EVIDENCE, query.evidence())
        hits: list[tuple[Passage, bool]] = []
        seen: set[int] = set()
        for index in np.argsort(-np.where(mask, scores, -1.0), kind="stable"):
            if not mask[index] or scores[index] <= 0 or len(hits) >= k:
                break
            passage = self._passages[index]
            if passage.article_id in seen:
                continue
            seen.add(passage.article_id)
            # The verdict is on the article's best passage; the steps stand in for it.
            score = min(1.0, float(scores[index]))
            good = score >= MATCH_THRESHOLD and query.evidence(self._terms[index]) >= required
            if query.how_to and not self._steps[index]:
                passage = self._passages[self._steps_instead(index, scores, mask)]
            elif query.steps_done:
                own = np.array([j for j in self._by_article[passage.article_id] if mask[j]])
                after = self._after_steps(own, when=query.when)
                if not len(after):
                    continue  # only the steps they already followed
                passage = self._passages[int(after[np.argmax(scores[after])])]
            hits.append((replace(passage, score=round(score, 4)), good))
        return hits

    def _after_steps(self, candidates: np.ndarray, *, when: bool) -> np.ndarray:
        """Of one article's passages (in article order), those for a customer who followed its
        steps already: none of the steps; the passages after them when it has steps (what
        happens next); of those, the ones saying how long it takes when they ask ``when``.
        Each narrowing applies only when something is left."""
        prose = np.array([i for i in candidates if not self._steps[i]], dtype=np.int64)
        steps = [i for i in candidates if self._steps[i]]
        if steps:
            after = prose[prose > max(steps)]
            prose = after if len(after) else prose
        if when:
            timed = np.array(
                [i for i in prose if states_duration(self._passages[i].text)], dtype=np.int64
            )
            prose = timed if len(timed) else prose
        return prose

    def _steps_instead(self, index: int, scores: np.ndarray, mask: np.ndarray) -> int:
        """The article's best numbered-steps passage if it scores close to passage ``index``."""
        steps = [
            j
            for j in self._by_article[self._passages[index].article_id]
            if self._steps[j] and mask[j]
        ]
        best = max(steps, key=lambda j: scores[j], default=index)
        return best if scores[best] >= STEPS_SHARE * scores[index] else index


def _rank(hit: tuple[Passage, bool]) -> tuple[bool, float]:
    return hit[1], hit[0].score


def best_passages(index: KBIndex, query: str, language: str | None, k: int = 3) -> list[Passage]:
    """The passages good enough to ground a reply; empty means a human must answer.

    Good enough: a score of at least ``MATCH_THRESHOLD`` and at least ``MIN_EVIDENCE``
    informative words of the question in the passage (see the module doc)."""
    return [passage for passage, good in index._judged(query, language, k) if good]
