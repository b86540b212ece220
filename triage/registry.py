"""Builds the configured triage engine once per process and rebuilds it when a new model
version is promoted."""

from __future__ import annotations

import threading

from django.conf import settings

from triage.models import ModelVersion

_lock = threading.Lock()
_cached: tuple[tuple, object] | None = None


def _active_versions() -> tuple:
    return tuple(
        ModelVersion.objects.filter(is_active=True).order_by("target").values_list("target", "version")
    )


def get_triage_engine():
    # Imported here: loading the engine pulls in scikit-learn and lingua, which only the
    # worker needs.
    from triage.engine import load_local_engine

    global _cached
    key = _active_versions()
    with _lock:
        if _cached is None or _cached[0] != key:
            engine = load_local_engine(
                settings.MODELS_DIR, languages=tuple(settings.SUPPORTED_LANGUAGES)
            )
            _cached = (key, engine)
        return _cached[1]
