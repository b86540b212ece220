"""Emotion of a customer message: a support-desk reading over two base models, plus a lexicon.

The base models learn from English Reddit comments (GoEmotions mapped to the product emotions):
a TF-IDF model and a model over the multilingual sentence embedding. Reddit is not a support
desk: "I was charged twice" is calm there and worrying here, and polite Japanese reads as
confused. So, when the sentence embedder is available, a support reading decides
(`SupportReading`): a classifier over the embedding and the base model's probabilities, learnt
from messages customers wrote to support desks in every supported language (and from agents'
corrections), with a regressor for how strongly the emotion is expressed (intensity, 0-1).

Without the embedder, English text gets the TF-IDF model read sentence by sentence, other
languages a lexicon cue when there is one, else the TF-IDF guess with its confidence discounted.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline

from .calibrate import fit_temperature, softmax
from .decision import fit_offsets, shift
from .embed import EmbeddingCache
from .features import HybridFeatures
from .lexicon import LexiconHit, find_emotion_cues, negated_feelings
from .model import (
    Example,
    TrainedModel,
    combiner_features,
    expected_calibration_error,
    text_features,
)
from .sentences import is_long, split_sentences
from .terms import language_family
from .types import EMOTIONS

NON_ENGLISH_DISCOUNT = 0.5
# e5 vectors of the bundled training file (float16), so installing does not embed 38k rows.
SHIPPED_VECTORS = Path(__file__).resolve().parents[1] / "data" / "emotion_vectors.npz"
# Messages written to support desks in every supported language, labelled with emotion and
# intensity (see triage/data/NOTICE.md), and their e5 vectors.
SUPPORT_DATA = Path(__file__).resolve().parents[1] / "data" / "emotion_support_examples.csv"
SUPPORT_VECTORS = Path(__file__).resolve().parents[1] / "data" / "emotion_support_vectors.npz"
BASE_DATA = Path(__file__).resolve().parents[1] / "data" / "emotion_examples.tsv"
# Base training texts the gate between the readings learns "not a support message" from.
GATE_SAMPLE = 3000
# Char n-grams beyond this many add training time, not accuracy (checked on the dev split).
CHAR_MAX_FEATURES = 100_000
# Cross-fitting: each row is predicted by models trained on the other FOLDS - 1 parts.
FOLDS = 5
# Regularisation of the combiner of the two models' out-of-fold probabilities (12 inputs);
# 0.03-1 scored the same on GoEmotions dev.
COMBINER_C = 0.1
# Weight of the TF-IDF model in the English blend when there is no combiner (too few examples
# to cross-fit one); the rest goes to the embedding model.
ENGLISH_BLEND = 0.5
# Rows embedded per training run beyond those already in the cache: the shipped file comes with
# its vectors, so this bounds the one-time cost of agents' corrections, not of the base data.
MAX_NEW_EMBEDDINGS = 5000
# A long message's sentence shows an emotion when the model gives it at least this much.
# Confusion and joy need more: a support question reads a little "confused" and a sign-off a
# little "positive" without saying anything about the customer's state.
SENTENCE_FLOORS = {"angry": 0.6, "anxious": 0.6, "sad": 0.6, "confused": 0.8, "positive": 0.8}


@dataclass(frozen=True)
class EmotionPrediction:
    emotion: str  # one of EMOTIONS
    confidence: float
    source: str  # "support" | "model" | "lexicon" | "sentences" (a long message) | "none"
    cues: tuple[str, ...] = ()
    intensity: float = 0.0  # how strongly it is expressed, 0-1; 0 for neutral


# Support reading: the classifier's regularisation and the intensity regression's (chosen by
# cross-validation on the support examples and checked on the first-pass bench, whose tickets
# it never sees; stronger fits score higher in cross-validation and lower on unseen tickets).
SUPPORT_C = 0.5
INTENSITY_ALPHA = 1.0
# Without an intensity model, intensity is the emotion's probability scaled to this ceiling.
UNMEASURED_INTENSITY = 0.6
# A lexicon cue read where the model sees nothing is at least this intense.
CUE_INTENSITY = 0.45
NEGATIVE = frozenset({"angry", "anxious", "sad"})
# Share of capitals (of at least SHOUT_LETTERS Latin letters) from which a message is shouted.
SHOUTING = 0.6
SHOUT_LETTERS = 10


def _capitals(text: str) -> float:
    """Share of capitals among the text's Latin letters; 0 below SHOUT_LETTERS letters."""
    letters = [c for c in text if c.isascii() and c.isalpha()]
    if len(letters) < SHOUT_LETTERS:
        return 0.0
    return sum(c.isupper() for c in letters) / len(letters)


def reading_text(text: str) -> str:
    """The text the support reading embeds: a shouted message in lower case. The encoder reads
    "ME COBRARON DOS VECES!!!" as something else entirely (it came out "positive"); how loud
    the message is goes to the intensity model, which sees the original."""
    if _capitals(text) >= SHOUTING:
        return text.lower()
    return text


@dataclass
class SupportReading:
    """Emotion as customers write it to a support desk, read from the base model's sentence
    embedding: `classifier` says which emotion, `intensity` (a ridge regression on the same
    vector) how strongly it is expressed. `gate` tells how much a text reads like a message to
    a support desk rather than like the base model's Reddit comments; the two readings are
    mixed by it, so each reads the kind of text it learnt from. A clear lexicon cue still
    speaks when the reading is calm: "unacceptable" or 許せない are not calm."""

    classifier: LogisticRegression
    intensity: Ridge | None
    # Softmax temperature over the classifier's scores, fitted out of fold: a regularised
    # classifier on unit-length vectors gives nearly flat probabilities (0.2 for six emotions),
    # which routing thresholds and the draft's tone could never reach.
    temperature: float = 1.0
    gate: LogisticRegression | None = None

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return softmax(self.classifier.decision_function(vectors), self.temperature)

    def mixed(
        self,
        model: TrainedModel,
        texts: Sequence[str],
        languages: Sequence[str],
        vectors: np.ndarray,
    ) -> np.ndarray:
        """Support and base probabilities (columns in the classifier's order), mixed by how
        much each text reads like a support message."""
        support = self.probabilities(vectors)
        if self.gate is None:
            return support
        share = self.gate.predict_proba(vectors)[:, 1][:, None]
        labels = [str(c) for c in self.classifier.classes_]
        base = np.zeros_like(support)
        english = np.asarray([language_family(lang) == "en" for lang in languages])
        for is_english in (True, False):
            rows = np.flatnonzero(english == is_english)
            if len(rows):
                found = model.probabilities([texts[i] for i in rows], cross_lingual=not is_english)
                order = [str(c) for c in model.pipeline.classes_]
                base[rows] = found[:, [order.index(label) for label in labels]]
        return share * support + (1 - share) * base

    def predict(
        self, model: TrainedModel, texts: Sequence[str], languages: Sequence[str]
    ) -> list[EmotionPrediction]:
        vectors = _vectors(model, [reading_text(t) for t in texts])
        probabilities = self.mixed(model, texts, languages, vectors)
        labels = [str(c) for c in self.classifier.classes_]
        if self.intensity is not None:
            strengths = np.clip(self.intensity.predict(intensity_features(texts, vectors)), 0, 1)
        else:
            strengths = [_unmeasured("", p) for p in probabilities.max(axis=1)]
        out = []
        for text, language, row, strength in zip(
            texts, languages, probabilities, strengths, strict=True
        ):
            emotion, confidence = labels[int(row.argmax())], float(row.max())
            hit = find_emotion_cues(text, language)
            # "I'm not worried, just asking" reads anxious to the encoder, which sees the word
            # and not the negation: a feeling the customer denies, with no cue of it left, gives
            # way to the next reading.
            if emotion in negated_feelings(text, language) and (
                hit is None or emotion not in hit.emotions
            ):
                row = np.where(np.asarray(labels) == emotion, -1.0, row)
                emotion, confidence = labels[int(row.argmax())], float(row.max())
            if hit is not None and _cue_decides(emotion, hit):
                strength = max(float(strength), CUE_INTENSITY)
                out.append(
                    EmotionPrediction(
                        hit.emotion, hit.confidence, "lexicon", hit.cues, round(strength, 4)
                    )
                )
                continue
            intensity = 0.0 if emotion == "neutral" else round(float(strength), 4)
            out.append(EmotionPrediction(emotion, confidence, "support", (), intensity))
        return out


def _cue_decides(emotion: str, hit: LexiconHit) -> bool:
    """Whether the lexicon's `hit` speaks over a reading of `emotion`. A cue speaks over a calm
    reading, and a negative cue over a happy one: thanking a customer who wrote "fraud" or
    "inakzeptabel" for their kind words is the worst mistake a draft's opening line can make.
    A feeling the customer states ("I'm worried", "je suis inquiète", 我很擔心) also speaks
    over any reading the words give no cue for: "where is my refund?" pulls the reading towards
    "confused", and "I'm so frustrated, where is my refund?" is not a question of
    understanding."""
    if emotion == "neutral":
        return True
    if hit.emotion == emotion:
        return False
    if emotion == "positive" and hit.emotion in NEGATIVE:
        return True
    return hit.stated and emotion not in hit.emotions


_EXCLAIM = re.compile(r"[!！]")
_EXCLAIMS = re.compile(r"[!！]{2,}")
_QUESTIONS = re.compile(r"[?？]{2,}")
# Weight of the surface cues next to the unit-length sentence vector.
SURFACE_WEIGHT = 3.0


def intensity_features(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """The sentence vector plus what the encoder barely sees and any reader does: exclamation
    marks, runs of them or of question marks, and shouting in capitals (Latin script). On the
    support examples these let the intensity model flag 45 % of the strongest messages (91 %
    of its flags right) instead of 5 %."""
    surface = []
    for text in texts:
        capitals = _capitals(text)
        surface.append(
            [
                min(len(_EXCLAIM.findall(text)), 5) / 5,
                capitals,
                min(len(_QUESTIONS.findall(text)), 3) / 3,
                float(bool(_EXCLAIMS.search(text))),
            ]
        )
    return np.hstack([vectors, SURFACE_WEIGHT * np.asarray(surface, dtype=np.float32)])


def _vectors(model: TrainedModel, texts: Sequence[str]) -> np.ndarray:
    """The sentence embeddings the base model's cross-lingual reading uses."""
    matrix = model.crosslingual.named_steps["features"].transform(list(texts))
    return np.asarray(matrix.todense())


SupportExample = tuple[str, str, float | None]  # (text, emotion, intensity or None: unknown)
# How much more an agent's correction (a support example without intensity) weighs than a
# bundled example in the support reading. It is this desk's own traffic, read by the person who
# answers it; at weight 1 a handful of corrections of the same kind of message did not move the
# reading of those very messages (1,160 bundled rows outvote them).
CORRECTION_WEIGHT = 8.0


def attach_support_reading(
    model: TrainedModel,
    examples: Sequence[SupportExample],
    vectors: np.ndarray,
    *,
    seed: int = 0,
    gate_vectors: tuple[np.ndarray, np.ndarray] | None = None,
    correction_weight: float = CORRECTION_WEIGHT,
) -> dict[str, float]:
    """Fit `model.support` on support-desk messages whose embeddings are `vectors` (same order),
    agents' corrections (intensity None) weighing `correction_weight` times a bundled example;
    returns its out-of-fold accuracy, macro-F1 and intensity error, which are also added to
    `model.metrics` under `support_`. `gate_vectors` (embeddings of English support messages,
    and of some of the base model's own, English, training texts) teach the gate between the
    two readings: English on both sides, or it learns "not English, so a support message" and
    reads translated chatter as a ticket. The model needs its cross-lingual reading."""
    if model.crosslingual is None:
        raise ValueError("the support reading needs the embedding model")
    targets = np.asarray([e for _, e, _ in examples])
    features = np.asarray(vectors, dtype=np.float32)
    weights = np.asarray([correction_weight if i is None else 1.0 for _, _, i in examples])
    classifier = LogisticRegression(
        C=SUPPORT_C, class_weight="balanced", max_iter=3000, random_state=seed
    )
    metrics: dict[str, float] = {"support_examples": float(len(examples))}
    folds = min(FOLDS, int(np.unique(targets, return_counts=True)[1].min()))
    temperature = 1.0
    if folds >= 2:
        split = StratifiedKFold(folds, shuffle=True, random_state=seed)
        scores = cross_val_predict(
            classifier,
            features,
            targets,
            cv=split,
            method="decision_function",
            params={"sample_weight": weights},
        )
        labels = np.unique(targets)
        truth = np.searchsorted(labels, targets)
        temperature = fit_temperature(scores, truth)
        probabilities = softmax(scores, temperature)
        predicted = labels[probabilities.argmax(axis=1)]
        metrics["support_accuracy"] = float((predicted == targets).mean())
        metrics["support_macro_f1"] = float(f1_score(targets, predicted, average="macro"))
        metrics["support_ece"] = expected_calibration_error(probabilities, predicted == targets)
    classifier.fit(features, targets, sample_weight=weights)
    # How strongly an emotion is expressed, learnt where one is (neutral is 0 by definition).
    measured = np.asarray([i is not None and e != "neutral" for _, e, i in examples])
    regressor = None
    if measured.sum() >= 2 * FOLDS:
        strengths = np.asarray([examples[i][2] for i in np.flatnonzero(measured)], dtype=float)
        inputs = intensity_features(
            [examples[i][0] for i in np.flatnonzero(measured)], features[measured]
        )
        regressor = Ridge(alpha=INTENSITY_ALPHA)
        guessed = cross_val_predict(regressor, inputs, strengths, cv=FOLDS)
        metrics["intensity_mae"] = float(np.abs(np.clip(guessed, 0, 1) - strengths).mean())
        regressor.fit(inputs, strengths)
    gate = None
    if gate_vectors is not None and min(len(v) for v in gate_vectors) >= FOLDS:
        support_side, base_side = gate_vectors
        gate = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=seed)
        inputs = np.vstack([support_side, base_side])
        kinds = np.r_[np.ones(len(support_side)), np.zeros(len(base_side))]
        guessed = cross_val_predict(gate, inputs, kinds, cv=FOLDS)
        metrics["gate_accuracy"] = float((guessed == kinds).mean())
        gate.fit(inputs, kinds)
    model.support = SupportReading(classifier, regressor, temperature, gate)
    model.metrics |= metrics
    return metrics


def load_emotion_examples(path: Path) -> list[Example]:
    """Read a `text<TAB>emotion` file (header optional); unknown emotions are skipped."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        return [(r[0], r[1]) for r in rows if len(r) == 2 and r[0] and r[1] in EMOTIONS]


def load_support_examples(
    path: Path = SUPPORT_DATA, *, language: str | None = None
) -> list[SupportExample]:
    """Read `text,language,emotion,intensity` rows (only `language`'s, when given); unknown
    emotions are skipped."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            (r["text"], r["emotion"], float(r["intensity"]))
            for r in csv.DictReader(handle)
            if r["text"].strip()
            and r["emotion"] in EMOTIONS
            and (language is None or r["language"] == language)
        ]


def gate_sample(seed: int = 0, size: int = GATE_SAMPLE) -> list[str]:
    """A fixed random sample of the base model's training texts (their vectors are shipped)."""
    texts = [text for text, _ in load_emotion_examples(BASE_DATA)]
    picked = np.random.default_rng(seed).choice(len(texts), min(size, len(texts)), replace=False)
    return [texts[i] for i in sorted(picked)]


def _classifier(seed: int, C: float = 1.0) -> LogisticRegression:
    # Balanced weights: "anxious" is ~1.5 % of GoEmotions and would never be predicted.
    # warm_start lets each fit start from the previous fit's solution (the folds and the final
    # fit on all rows learn nearly the same weights), which roughly halves training time.
    return LogisticRegression(
        C=C, class_weight="balanced", max_iter=1000, random_state=seed, warm_start=True
    )


def _embedded_rows(texts: list[str], embeddings: EmbeddingCache) -> np.ndarray:
    """Rows the embedding model learns from: those already embedded plus the newest others."""
    cached = embeddings.cached_mask(texts)
    new_rows = np.flatnonzero(~cached)[-MAX_NEW_EMBEDDINGS:]
    return np.sort(np.concatenate([np.flatnonzero(cached), new_rows]))


def _crosslingual_pipeline(embedder_name: str, classifier: LogisticRegression) -> Pipeline:
    """The embedding model as it runs in production: vectors from the process's embedder."""
    features = HybridFeatures(embedder_name=embedder_name, use_tfidf=False)
    return Pipeline([("features", features), ("classify", classifier)])


def _in_label_order(
    classifier: LogisticRegression, probabilities: np.ndarray, labels: list[str]
) -> np.ndarray:
    """Columns for every label in `labels` (a fold may lack a rare one: it gets 0)."""
    out = np.zeros((len(probabilities), len(labels)))
    columns = [labels.index(c) for c in classifier.classes_]
    out[:, columns] = probabilities
    return out


def train_emotion_model(
    examples: Sequence[Example],
    *,
    seed: int = 0,
    folds: int = FOLDS,
    embeddings: EmbeddingCache | None = None,
) -> TrainedModel:
    """Train on (text, emotion) pairs.

    With `folds` >= 2, every row is also predicted by models that did not learn from it
    (stratified k-fold). Those out-of-fold probabilities train the combiner of the TF-IDF and
    embedding models (`TrainedModel.combiner`), choose the per-class decision offsets
    (`decision.fit_offsets`) and yield the held-out metrics; the models are then fitted on
    everything. `folds=0` skips all of that (a fixed blend, no offsets, no metrics).

    The fits are the slow part (tens of seconds each on the full GoEmotions file), so the
    vocabulary is learnt once from all texts (no labels involved) and each fit continues from
    the previous one's weights instead of starting over.
    """
    rows = [(t, e) for t, e in examples if t.strip() and e in EMOTIONS]
    labels = sorted({e for _, e in rows})
    if len(labels) < 2:
        raise ValueError("need examples of at least two emotions")
    texts = [t for t, _ in rows]
    targets = np.asarray([e for _, e in rows])
    features = text_features(char_max_features=CHAR_MAX_FEATURES, min_df=2)
    matrix = features.fit_transform(texts)
    classifier = _classifier(seed)
    model = TrainedModel(
        target="emotion",
        pipeline=Pipeline([("features", features), ("classify", classifier)]),
        labels=tuple(labels),
    )
    embedded = vectors = cross_classifier = None
    if embeddings is not None:
        embedded = _embedded_rows(texts, embeddings)
        # Its probabilities are mixed with the TF-IDF model's, so it must know every emotion.
        if set(targets[embedded]) == set(labels):
            vectors = embeddings.embed([texts[i] for i in embedded])
            cross_classifier = _classifier(seed)
    folds = min(folds, int(np.unique(targets, return_counts=True)[1].min()))
    if folds >= 2:
        split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, targets)
        main = np.zeros((len(rows), len(labels)))
        cross = np.full((len(rows), len(labels)), np.nan)
        position = np.full(len(rows), -1)
        if embedded is not None:
            position[embedded] = np.arange(len(embedded))
        for fit_rows, predict_rows in split:
            classifier.fit(matrix[fit_rows], targets[fit_rows])
            main[predict_rows] = _in_label_order(
                classifier, classifier.predict_proba(matrix[predict_rows]), labels
            )
            fit_at = position[fit_rows][position[fit_rows] >= 0]
            predict_at = position[predict_rows][position[predict_rows] >= 0]
            # Rows beyond MAX_NEW_EMBEDDINGS have no vector; a fold whose embedded rows miss an
            # emotion is left out of the combination (warm starts need the same classes).
            if cross_classifier is not None and len(set(targets[embedded][fit_at])) == len(labels):
                cross_classifier.fit(vectors[fit_at], targets[embedded][fit_at])
                cross[embedded[predict_at]] = _in_label_order(
                    cross_classifier, cross_classifier.predict_proba(vectors[predict_at]), labels
                )
        model.metrics = _decide(model, main, cross, targets, seed)
    classifier.fit(matrix, targets)
    classifier.warm_start = False
    if cross_classifier is not None:
        cross_classifier.fit(vectors, targets[embedded])
        cross_classifier.warm_start = False
        model.crosslingual = _crosslingual_pipeline(embeddings.embedder.name, cross_classifier)
        model.blend = ENGLISH_BLEND
    model.metrics |= {"examples": float(len(rows))}
    return model


def _decide(
    model: TrainedModel, main: np.ndarray, cross: np.ndarray, targets: np.ndarray, seed: int
) -> dict[str, float]:
    """From out-of-fold probabilities, set `model.combiner` (when there are embedding-model
    probabilities) and `model.offsets`; return the held-out metrics of the combination.

    The combiner is itself cross-fitted before its output chooses the offsets, and offsets
    chosen on the rows they are scored on would flatter the score, so the metrics come from
    offsets fitted on one half of the rows and scored on the other half, and back. Only the
    English reading gets offsets: on the embedding-only reading (other languages) they raised
    6-emotion macro-F1 on English dev text but lowered polarity on the translated check set,
    which is what that reading is for."""
    labels = list(model.labels)
    truth = np.asarray([labels.index(t) for t in targets])
    both = ~np.isnan(cross).any(axis=1)
    probabilities = main
    if np.bincount(truth[both], minlength=len(labels)).min() >= FOLDS:
        combined = combiner_features(main[both], cross[both])
        model.combiner = LogisticRegression(C=COMBINER_C, max_iter=2000, random_state=seed)
        split = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
        probabilities = cross_val_predict(
            model.combiner, combined, truth[both], cv=split, method="predict_proba"
        )
        truth = truth[both]
        model.combiner.fit(combined, truth)
    elif both.any():
        probabilities = main.copy()
        probabilities[both] = ENGLISH_BLEND * main[both] + (1 - ENGLISH_BLEND) * cross[both]
    stratify = truth if np.unique(truth, return_counts=True)[1].min() >= 2 else None
    halves = train_test_split(
        np.arange(len(truth)), test_size=0.5, stratify=stratify, random_state=seed
    )
    shifted = np.empty_like(probabilities)
    for fit_rows, score_rows in (halves, halves[::-1]):
        offsets = fit_offsets(probabilities[fit_rows], truth[fit_rows])
        shifted[score_rows] = shift(probabilities[score_rows], offsets)
    predicted = shifted.argmax(axis=1)
    model.offsets = fit_offsets(probabilities, truth)
    return {
        "heldout": float(len(truth)),
        "accuracy": float((predicted == truth).mean()),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "macro_f1_without_offsets": float(
            f1_score(truth, probabilities.argmax(axis=1), average="macro")
        ),
        "ece": expected_calibration_error(shifted, predicted == truth),
    }


def evaluate_emotion_model(model: TrainedModel, examples: Sequence[Example]) -> dict[str, float]:
    """Model-only accuracy, macro-F1 and ECE (the lexicon is not involved)."""
    texts = [t for t, _ in examples]
    truth = np.asarray([e for _, e in examples])
    probabilities = model.probabilities(texts)
    predicted = model.pipeline.classes_[probabilities.argmax(axis=1)]
    return {
        "heldout": float(len(examples)),
        "accuracy": float((predicted == truth).mean()),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "ece": expected_calibration_error(probabilities, predicted == truth),
    }


def predict_emotion(model: TrainedModel | None, text: str, *, language: str) -> EmotionPrediction:
    """Emotion of `text` written in `language` (BCP 47)."""
    return predict_emotions(model, [text], languages=[language])[0]


def predict_emotions(
    model: TrainedModel | None, texts: Sequence[str], *, languages: Sequence[str]
) -> list[EmotionPrediction]:
    """`predict_emotion` for many texts, with one model call per reading (English or not)."""
    results: list[EmotionPrediction | None] = [None] * len(texts)
    support = model.support if model is not None else None
    if support is not None:
        filled = [i for i, text in enumerate(texts) if text.strip()]
        for i in range(len(texts)):
            results[i] = EmotionPrediction("neutral", 0.0, "none")
        if filled:
            read = support.predict(
                model, [texts[i] for i in filled], [languages[i] for i in filled]
            )
            for i, prediction in zip(filled, read, strict=True):
                results[i] = prediction
        return [r for r in results if r is not None]
    groups: dict[bool, list[int]] = {True: [], False: []}
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        english = language_family(language) == "en"
        # English only: read one sentence at a time, the cross-lingual model takes politeness
        # formulas (度々失礼いたします, "sorry to write again") for feelings.
        if model is not None and english and is_long(text):
            results[i] = _read_by_sentence(model, text, language=language)
            if results[i] is not None:
                continue
        hit = None if english else find_emotion_cues(text, language)
        if hit is not None:
            strength = _unmeasured(hit.emotion, hit.confidence)
            results[i] = EmotionPrediction(
                hit.emotion, hit.confidence, "lexicon", hit.cues, strength
            )
        elif model is None or not text.strip():
            results[i] = EmotionPrediction("neutral", 0.0, "none")
        else:
            groups[english].append(i)
    for english, rows in groups.items():
        if not rows or model is None:
            continue
        reads_language = english or model.crosslingual is not None
        discount = 1.0 if reads_language else NON_ENGLISH_DISCOUNT
        predictions = model.predict_many([texts[i] for i in rows], cross_lingual=not english)
        for i, prediction in zip(rows, predictions, strict=True):
            confidence = prediction.confidence * discount
            results[i] = EmotionPrediction(
                prediction.label, confidence, "model", (), _unmeasured(prediction.label, confidence)
            )
    return [r for r in results if r is not None]


def _read_by_sentence(model: TrainedModel, text: str, *, language: str) -> EmotionPrediction | None:
    """A long message's emotion from its sentences (`sentences` says why): the most likely
    negative emotion any sentence or lexicon cue carries clearly enough, else confusion, else
    a clearly positive sentence, else neutral. None when nothing but greetings is left."""
    sentences = split_sentences(text)
    if not sentences:
        return None
    probabilities = model.probabilities(sentences)
    labels = [str(c) for c in model.pipeline.classes_]
    found: list[tuple[str, float, tuple[str, ...]]] = []
    for sentence, row in zip(sentences, probabilities, strict=True):
        for emotion, floor in SENTENCE_FLOORS.items():
            if emotion == "positive" and len(sentence.split()) < 3:
                continue  # "Thanks." or "Thank you!" closes angry messages too
            if emotion in labels and row[labels.index(emotion)] >= floor:
                found.append((emotion, float(row[labels.index(emotion)]), (sentence,)))
    hit = find_emotion_cues(text, language)
    if hit is not None:
        found.append((hit.emotion, hit.confidence, hit.cues))
    for group in (("angry", "anxious", "sad"), ("confused",), ("positive",)):
        candidates = [f for f in found if f[0] in group]
        if candidates:
            emotion, confidence, cues = max(candidates, key=lambda f: f[1])
            strength = _unmeasured(emotion, confidence)
            return EmotionPrediction(emotion, confidence, "sentences", cues, strength)
    calm = probabilities[:, labels.index("neutral")] if "neutral" in labels else [0.0]
    return EmotionPrediction("neutral", float(np.mean(calm)), "sentences")


def _unmeasured(emotion: str, confidence: float) -> float:
    """Intensity where no intensity model is trained: a share of how sure the reading is."""
    return 0.0 if emotion == "neutral" else round(confidence * UNMEASURED_INTENSITY, 4)


def export_support_vectors() -> int:
    """Embed SUPPORT_DATA and write SUPPORT_VECTORS (run after editing the CSV); rows whose
    vectors SUPPORT_VECTORS already holds are not embedded again."""
    import tempfile

    from .embed import E5Embedder

    with tempfile.TemporaryDirectory() as scratch:
        cache = EmbeddingCache(Path(scratch) / "vectors.sqlite3", E5Embedder())
        if SUPPORT_VECTORS.is_file():
            cache.import_file(SUPPORT_VECTORS)
        texts = [reading_text(text) for text, _, _ in load_support_examples()]
        cache.embed(texts)
        return cache.export_file(texts, SUPPORT_VECTORS)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--export-support-vectors"]:
        raise SystemExit("usage: python -m triage.engine.emotion --export-support-vectors")
    print(f"wrote {export_support_vectors()} vectors to {SUPPORT_VECTORS}")
