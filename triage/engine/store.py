"""Trained models on disk: one directory per version, a manifest, and an ACTIVE pointer.

    <models_dir>/<target>/<version>/model.joblib
    <models_dir>/<target>/<version>/manifest.json   sha256 of each file, version, metrics
    <models_dir>/<target>/ACTIVE                    the version in use

joblib files are pickles and loading one runs code, so `load_model` checks every file against
the manifest before unpickling. The sha256 catches corruption and files swapped in by hand;
pass `key` (a secret the application holds) to also sign the manifest, so only files this
application wrote will load.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from .model import TrainedModel

MANIFEST = "manifest.json"
MODEL_FILE = "model.joblib"
ACTIVE = "ACTIVE"
FORMAT = 1


class ModelIntegrityError(Exception):
    """A stored model failed verification and was not loaded."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _signature(manifest: dict[str, Any], key: bytes) -> str:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    payload = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def new_version(now: datetime | None = None) -> str:
    """Sortable by time, unique even when two trainings finish in the same second."""
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def save_model(
    model: TrainedModel, target_dir: Path, *, version: str | None = None, key: bytes | None = None
) -> str:
    """Write `model` as a new version under `target_dir`; returns the version.

    The version directory appears atomically (written aside, then renamed), so a reader never
    sees half a model.
    """
    version = version or new_version()
    final = target_dir / version
    if final.exists():
        raise FileExistsError(f"model version {version} already exists")
    target_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".saving-", dir=target_dir))
    try:
        model.version = version
        joblib.dump(model, staging / MODEL_FILE, compress=3)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "target": model.target,
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "metrics": model.metrics,
            "labels": list(model.labels),
            "scikit_learn": sklearn.__version__,
            "files": {MODEL_FILE: _sha256(staging / MODEL_FILE)},
        }
        if key is not None:
            manifest["signature"] = _signature(manifest, key)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def read_manifest(version_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelIntegrityError(f"unreadable manifest in {version_dir.name}: {error}") from error


def load_model(version_dir: Path, *, key: bytes | None = None) -> TrainedModel:
    """Verify and load one version directory; raises ModelIntegrityError on any mismatch."""
    manifest = read_manifest(version_dir)
    if key is not None:
        signature = manifest.get("signature", "")
        if not hmac.compare_digest(str(signature), _signature(manifest, key)):
            raise ModelIntegrityError(f"model {version_dir.name}: manifest signature mismatch")
    files = manifest.get("files") or {}
    if MODEL_FILE not in files:
        raise ModelIntegrityError(f"model {version_dir.name}: manifest lists no model file")
    for name, expected in files.items():
        # The manifest is untrusted input too: only plain file names inside this directory.
        if Path(name).name != name or name in (".", ".."):
            raise ModelIntegrityError(f"model {version_dir.name}: bad file name {name!r}")
        path = version_dir / name
        if not path.is_file() or not hmac.compare_digest(_sha256(path), str(expected)):
            raise ModelIntegrityError(
                f"model {version_dir.name}: {name} does not match its recorded sha256; "
                "refusing to load it"
            )
    model = joblib.load(version_dir / MODEL_FILE)
    if not isinstance(model, TrainedModel):
        raise ModelIntegrityError(f"model {version_dir.name}: not a trained triage model")
    model.version = str(manifest.get("version", version_dir.name))
    return model


def set_active(target_dir: Path, version: str) -> None:
    if not (target_dir / version / MANIFEST).is_file():
        raise FileNotFoundError(f"no saved model version {version}")
    pointer = target_dir / f".{ACTIVE}.{secrets.token_hex(4)}"
    pointer.write_text(version + "\n", encoding="utf-8")
    os.replace(pointer, target_dir / ACTIVE)  # atomic: readers see the old or the new version


def active_version(target_dir: Path) -> str | None:
    try:
        version = (target_dir / ACTIVE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if version and Path(version).name != version:
        raise ModelIntegrityError(f"{target_dir.name}/{ACTIVE} names a path, not a version")
    return version or None


def list_versions(target_dir: Path) -> list[str]:
    """Saved versions, oldest first."""
    if not target_dir.is_dir():
        return []
    return sorted(p.name for p in target_dir.iterdir() if (p / MANIFEST).is_file())
