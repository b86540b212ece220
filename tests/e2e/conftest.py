"""A live embedded installation: SQLite, the SQLite channel layer and a django-q2 worker.

`manage.py serve` runs daphne and `qcluster` as separate processes, so every live update the
browser sees crossed from the worker process to the web process through the channel layer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.livedesk import VIP_EMAIL, Installation


@pytest.fixture(scope="module")
def live_desk(tmp_path_factory, desk_models) -> Iterator[Installation]:
    desk = Installation.create("embedded", tmp_path_factory.mktemp("e2e-var"))
    try:
        desk.manage("migrate", "--noinput", step="migrate")
        desk.manage("migrate", "--noinput", "--database", "channels", step="migrate channels")
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


@pytest.fixture(scope="module")
def chromium(browser_type_launch_args: dict) -> Iterator[Browser]:
    """Chromium for one module, not pytest-playwright's session-long `browser`: while
    Playwright's sync API runs, its event loop counts as running in the main thread, so every
    Django ORM call in the tests that follow would raise SynchronousOnlyOperation."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**browser_type_launch_args)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()
