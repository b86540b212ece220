"""`make setup`'s database step works for both shapes the README describes: the embedded
default (a second SQLite database for live events) and the scale path (REDIS_URL set, where
that database does not exist)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _migrate_all(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CHANNELS_PREFIX", "TASK_BACKEND", "VAR_DIR"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        **settings,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "migrate_all"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_setup_migrates_both_databases_of_the_embedded_default(tmp_path):
    done = _migrate_all(tmp_path)

    assert done.returncode == 0, done.stderr
    assert "supportdesk_ticket" in _tables(tmp_path / "desk.sqlite3")
    assert any("channels" in name for name in _tables(tmp_path / "channels.sqlite3"))


def test_setup_works_with_redis_url_set(tmp_path):
    done = _migrate_all(tmp_path, REDIS_URL="redis://127.0.0.1:6379/13")

    assert done.returncode == 0, done.stderr
    assert "supportdesk_ticket" in _tables(tmp_path / "desk.sqlite3")
    assert not (tmp_path / "channels.sqlite3").exists()
    assert "'channels'" not in done.stdout
