"""A live embedded installation: SQLite, the SQLite channel layer and a django-q2 worker.

`manage.py serve` runs daphne and `qcluster` as separate processes, so every live update the
browser sees crossed from the worker process to the web process through the channel layer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.livedesk import VIP_EMAIL, Installation


@pytest.fixture(scope="module")
def live_desk(tmp_path_factory, desk_models) -> Iterator[Installation]:
    desk = Installation.create("embedded", tmp_path_factory.mktemp("e2e-var"))
    try:
        desk.manage("migrate", "--noinput", step="migrate")
        desk.manage("migrate", "--noinput", "--database", "channels", step="migrate channels")
        # load_demo stores the demo's shipped sentence vectors under MODELS_DIR: in the shared
        # directory the models use, as in a real installation, so retraining a model later
        # (e.g. after an FAQ is published) does not embed the demo's texts again.
        desk.env["MODELS_DIR"] = str(desk_models.directory)
        desk.manage("load_demo", step="load_demo")
        desk_models.install(desk)
        desk.orm(
            "from supportdesk.models import Customer\n"
            "Customer.objects.update_or_create(\n"
            f"    email={VIP_EMAIL!r}, defaults={{'name': 'Vera Importante', 'is_vip': True}})\n"
            "result = True"
        )
        desk.serve()
        desk.wait_for_backlog()
        yield desk
    finally:
        desk.stop()


# The first browser test of a run pays for a whole installation (migrate, demo, the first
# `train_models`) inside its own time; on a busy 2-core machine that alone can pass the suite's
# 300 s per-test limit.
E2E_TIMEOUT = 900


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT))
