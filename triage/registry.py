"""Builds the configured triage engine once per process and rebuilds it when a new model
version is promoted. The database's ModelVersion rows say which version is active."""

from __future__ import annotations

import hashlib
import hmac
import threading

from django.conf import settings

from triage.models import ModelVersion

_lock = threading.Lock()
_cached: tuple[tuple, object] | None = None


def model_signing_key() -> bytes:
    """Model files are signed with a key derived from SECRET_KEY: only files this installation
    wrote are ever unpickled. Changing SECRET_KEY means running `train_models` again."""
    return hmac.new(settings.SECRET_KEY.encode(), b"supportdesk.models", hashlib.sha256).digest()


def _active_versions() -> tuple:
    return tuple(
        ModelVersion.objects.filter(is_active=True)
        .order_by("target")
        .values_list("target", "version")
    )


def get_triage_engine():
    # Imported here: the engine pulls in scikit-learn and lingua, which only the worker needs.
    from triage.engine import RulesConfig, load_local_engine

    global _cached
    key = _active_versions()
    with _lock:
        if _cached is None or _cached[0] != key:
            engine = load_local_engine(
                settings.MODELS_DIR,
                languages=tuple(settings.SUPPORTED_LANGUAGES),
                versions=dict(key),
                key=model_signing_key(),
                rules=RulesConfig(
                    repeat_window_days=settings.REPEAT_CONTACT_DAYS,
                    min_category_confidence=settings.LOW_CONFIDENCE,
                ),
            )
            _cached = (key, engine)
        return _cached[1]


_answer_lock = threading.Lock()
_answer_cached: tuple[str, object] | None = None


def get_answer_model():
    """The active answer model (which knowledge-base article a message asks for), or None
    when none is trained. Loaded once per process, again when a new version is promoted."""
    from triage.engine import load_active_model

    global _answer_cached
    version = (
        ModelVersion.objects.filter(target="answer", is_active=True)
        .values_list("version", flat=True)
        .first()
    )
    if version is None:
        return None
    with _answer_lock:
        if _answer_cached is None or _answer_cached[0] != version:
            model = load_active_model(
                settings.MODELS_DIR, "answer", version=version, key=model_signing_key()
            )
            _answer_cached = (version, model)
        return _answer_cached[1]


def preload_models(*, embed: bool = True) -> None:
    """Load what the pipeline reads of every message: the triage engine with lingua's language
    models, the answer model, the knowledge-base index and, with `embed`, its passages'
    vectors (`supportdesk.workers`: in a worker's parent process, before its workers fork).
    The encoder's weights themselves are a read-only mapping of the model file, which every
    process shares already."""
    from knowledge.selectors import kb_index
    from triage.answers import meaning_closeness

    get_triage_engine().warm_up()
    get_answer_model()
    index = kb_index()
    if embed:
        meaning_closeness("", index.passage_texts())
