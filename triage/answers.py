"""Which knowledge-base answer a message asks for, read by the trained answer model.

The answer model is trained like the category model (triage/engine/category.py) on examples
labelled with an article: each published article's own title and passages, in every language it
is written in, and messages as customers write them (`import_examples --target answer
--realistic`, with `__no_answer__`-style rows for questions the knowledge base does not answer).
It reads meaning across languages, where matching words cannot: a German question finds the
English article. Drafting (replies) asks it first and falls back to word matching when no answer
model is trained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from triage.engine.embed import E5Embedder, embeddings_enabled
from triage.engine.emotion import reading_text
from triage.engine.features import EmbedderUnavailable, shared
from triage.engine.language_means import mean_for
from triage.registry import get_answer_model

# Passages whose vectors a process keeps (a knowledge base of a few thousand passages in
# several languages fits; 384 floats each, ~30 MB at this bound).
PASSAGE_VECTORS_MAX = 20_000
_passage_vectors: dict[str, np.ndarray] = {}


@dataclass(frozen=True)
class AnswerPrediction:
    article_id: int | None  # the answer's source article; None: the KB has no answer
    confidence: float  # probability of that article (of the best one, when there is none)


def answer_predict(text: str) -> AnswerPrediction | None:
    """The answer to `text`, or None when no answer model is trained."""
    model = get_answer_model()
    if model is None or not text.strip():
        return None
    prediction = model.predict(text)
    if prediction.out_of_scope:
        return AnswerPrediction(article_id=None, confidence=prediction.confidence)
    return AnswerPrediction(article_id=int(prediction.label), confidence=prediction.confidence)


def meaning_closeness(question: str, texts: Sequence[str]) -> np.ndarray | None:
    """Cosine of `question`'s meaning to each of `texts` (any languages), read by the same
    multilingual encoder as triage (the question's vector is usually still in its memo), a
    shouted question read in lower case; None when sentence embeddings are off or not
    installed."""
    if not embeddings_enabled() or not texts:
        return None
    try:
        question_vector = shared.vectors(E5Embedder.name, [reading_text(question)])[0]
        return passage_vectors(texts) @ question_vector
    except EmbedderUnavailable:
        return None


def passage_vectors(texts: Sequence[str]) -> np.ndarray:
    """The encoder's vectors of knowledge-base passages, each embedded once per process (and,
    read before a worker forks, once for all its workers: `registry.preload_models`). The
    shared memo keeps only recent texts: every message passing through would push the
    passages out, and each draft would embed its article's passages again."""
    missing = list(dict.fromkeys(text for text in texts if text not in _passage_vectors))
    if missing:
        if len(_passage_vectors) + len(missing) > PASSAGE_VECTORS_MAX:
            _passage_vectors.clear()
        fresh = shared.vectors(E5Embedder.name, missing)
        _passage_vectors.update(zip(missing, fresh, strict=True))
    return np.stack([_passage_vectors[text] for text in texts])


def meaning_vector(text: str, language: str) -> tuple[np.ndarray | None, str]:
    """(`text`'s meaning vector centred on its language's mean, the encoder's name), or
    (None, "") when sentence embeddings are off or not installed. Texts asking one thing in two
    languages are close in this space (triage/engine/language_means.py)."""
    if not embeddings_enabled() or not text.strip():
        return None, ""
    try:
        vector = shared.vectors(E5Embedder.name, [reading_text(text)])[0]
    except EmbedderUnavailable:
        return None, ""
    mean = mean_for(E5Embedder.name, language)
    if mean is not None:
        vector = vector - mean
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector), E5Embedder.name
