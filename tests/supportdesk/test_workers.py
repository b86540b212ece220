"""A worker's parent process before it forks: one compute thread, the models loaded once."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest
from django.db import OperationalError, connection

from supportdesk import workers
from supportdesk.workers import worker_prepare
from triage import registry


@pytest.fixture
def _restore_process(monkeypatch):
    monkeypatch.setitem(os.environ, "OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", ""))
    yield
    gc.unfreeze()
    registry._cached = None


@pytest.mark.django_db(transaction=True)
def test_the_parent_loads_the_engine_once_and_forks_with_no_open_database_socket(
    trained_models, settings, _restore_process
) -> None:
    from triage.models import ModelVersion

    models_dir, versions = trained_models
    settings.MODELS_DIR = models_dir
    settings.WORKER_THREADS = 1
    settings.WORKER_PRELOAD = True
    for target, (version, metrics, count) in versions.items():
        ModelVersion.objects.create(
            target=target, version=version, metrics=metrics, example_count=count, is_active=True
        )
    registry._cached = None

    worker_prepare()

    assert os.environ["OMP_NUM_THREADS"] == "1"
    # Loaded in the parent: each forked worker starts with it instead of loading its own.
    assert registry._cached is not None
    engine = registry._cached[1]
    assert engine.category_model.version == versions["category"][0]
    # A child must open its own connection, not write to the parent's socket.
    assert connection.connection is None
    assert registry.get_triage_engine() is engine  # and it is the one the tasks use


def test_without_preloading_the_worker_only_sets_its_threads(settings, _restore_process) -> None:
    settings.WORKER_THREADS = 2
    settings.WORKER_PRELOAD = False
    registry._cached = None

    worker_prepare()

    assert os.environ["OMP_NUM_THREADS"] == "2"
    assert registry._cached is None


def _database_down(**_: object) -> None:
    raise OperationalError("connection refused")


def test_a_worker_starts_even_when_preloading_fails(
    settings, monkeypatch, _restore_process
) -> None:
    settings.WORKER_THREADS = 1
    settings.WORKER_PRELOAD = True
    monkeypatch.setattr(workers, "PRELOAD", f"{__name__}._database_down")

    worker_prepare()  # logs the failure; the workers load the models on their first task

    assert os.environ["OMP_NUM_THREADS"] == "1"


def _run_python(code: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, trims glibc")
def test_the_parent_gives_back_the_memory_that_loading_freed_before_it_forks() -> None:
    """Each forked worker would count the parent's freed but kept heap pages as its own."""
    released_mb = float(
        _run_python(
            "import re\n"
            "def rss():\n"
            "    status = open('/proc/self/status').read()\n"
            "    return int(re.search(r'VmRSS:\\s+(\\d+)', status)[1]) / 1024\n"
            "blocks = [bytes(2048) for _ in range(40000)]  # 80 MB\n"
            "survivors = blocks[::50]  # what a load keeps, scattered through the heap\n"
            "del blocks\n"
            "before = rss()\n"
            "from supportdesk.workers import release_free_memory\n"
            "release_free_memory()\n"
            "print(before - rss())\n"
        )
    )
    # 78 MB were freed; the allocator kept them until asked.
    assert released_mb > 40


def test_a_worker_does_not_carry_the_sdks_it_never_calls() -> None:
    """The OpenAI SDK (a desk without a model server) and boto3 (Amazon SES's inbound
    webhook, answered by the web server) hold tens of MB; a worker imports neither."""
    loaded = _run_python(
        "import sys, django\n"
        "django.setup()\n"
        "import supportdesk.llm.attempt, supportdesk.urls, triage.engine, replies.engine\n"
        "print(sorted(name for name in ('openai', 'boto3') if name in sys.modules))\n"
    )
    assert loaded == "[]"
