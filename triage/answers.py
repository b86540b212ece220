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
        vectors = shared.vectors(E5Embedder.name, [reading_text(question), *texts])
    except EmbedderUnavailable:
        return None
    return vectors[1:] @ vectors[0]


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
