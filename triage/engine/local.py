"""The local triage engine: language, category, emotion and rules, all in process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .category import train_category_model
from .emotion import predict_emotion, train_emotion_model
from .language import detect_language, warm_up
from .model import Example, TrainedModel
from .rules import RulesConfig, Signals, decide
from .store import active_version, load_model, save_model, set_active
from .types import TriageInput, TriageResult

TARGETS = ("category", "emotion")
NO_CATEGORY_MODEL = "No category model has been trained yet"


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
        text = f"{inp.subject}\n{inp.text}" if inp.subject.strip() else inp.text
        language, language_confidence = detect_language(
            text, candidates=self.languages, hint=inp.customer.locale
        )
        if self.category_model is None:
            category, category_confidence, out_of_scope = "", 0.0, True
        else:
            prediction = self.category_model.predict(text)
            out_of_scope = prediction.out_of_scope
            category = "" if out_of_scope else prediction.label
            # When out of scope this is the best real category's probability: low, usually.
            category_confidence = prediction.confidence
        emotion = predict_emotion(self.emotion_model, text, language=language)
        decision = decide(
            Signals(
                text=text,
                emotion=emotion.emotion,
                emotion_confidence=emotion.confidence,
                category=category,
                category_confidence=category_confidence,
                out_of_scope=out_of_scope,
            ),
            inp.customer,
            self.rules,
        )
        human_reasons = decision.needs_human_reasons
        if self.category_model is None:
            human_reasons = (NO_CATEGORY_MODEL, *human_reasons)
        return TriageResult(
            language=language,
            language_confidence=round(language_confidence, 4),
            category=category,
            category_confidence=round(category_confidence, 4),
            out_of_scope=out_of_scope,
            emotion=emotion.emotion,
            emotion_confidence=round(emotion.confidence, 4),
            urgency=decision.urgency,
            urgency_reasons=decision.urgency_reasons,
            needs_human=decision.needs_human or self.category_model is None,
            needs_human_reasons=human_reasons,
            engine=self.name,
            engine_version=self.version,
        )


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
) -> tuple[str, dict[str, float]]:
    """Train `target` ("category" or "emotion"), save it as a new version and, by default,
    make it the active one. Returns (version, metrics)."""
    if target == "category":
        model = train_category_model(examples, oos_label=oos_label, seed=seed)
    elif target == "emotion":
        model = train_emotion_model(examples, seed=seed)
    else:
        raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")
    version = save_model(model, models_dir / target, key=key)
    if activate:
        set_active(models_dir / target, version)
    return version, dict(model.metrics)
