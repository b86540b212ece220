"""Local triage engine: plain Python in, dataclasses out; no Django, no settings."""

from supportdesk.language import detect_language

from .category import evaluate_category_model, train_category_model
from .emotion import (
    EmotionPrediction,
    evaluate_emotion_model,
    load_emotion_examples,
    predict_emotion,
    predict_emotions,
    train_emotion_model,
)
from .lexicon import LexiconHit, find_emotion_cues
from .local import LocalTriageEngine, load_active_model, load_local_engine, train_and_save
from .model import Example, Prediction, TrainedModel
from .rules import Decision, RulesConfig, Signals, decide
from .store import (
    ModelIntegrityError,
    active_version,
    list_versions,
    load_model,
    save_model,
    set_active,
)
from .types import EMOTIONS, URGENCIES, CustomerContext, TriageInput, TriageResult

__all__ = [
    "EMOTIONS",
    "URGENCIES",
    "CustomerContext",
    "Decision",
    "EmotionPrediction",
    "Example",
    "LexiconHit",
    "LocalTriageEngine",
    "ModelIntegrityError",
    "Prediction",
    "RulesConfig",
    "Signals",
    "TrainedModel",
    "TriageInput",
    "TriageResult",
    "active_version",
    "decide",
    "detect_language",
    "evaluate_category_model",
    "evaluate_emotion_model",
    "find_emotion_cues",
    "list_versions",
    "load_active_model",
    "load_emotion_examples",
    "load_local_engine",
    "load_model",
    "predict_emotion",
    "predict_emotions",
    "save_model",
    "set_active",
    "train_and_save",
    "train_category_model",
    "train_emotion_model",
]
