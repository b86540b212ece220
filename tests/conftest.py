"""Shared fixtures: people in their roles, the demo taxonomy, a stand-in triage engine for
tests about what happens *around* triage, and small real models for pipeline tests."""

from __future__ import annotations

import csv
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone, translation

from supportdesk.roles import ensure_roles
from tests.factories import ArticleFactory, CategoryFactory, UserFactory
from triage.engine.types import EMOTIONS
from triage.engine.types import TriageResult as Analysis

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "supportdesk" / "demo"
EMOTION_DATA = ROOT / "triage" / "data" / "emotion_examples.tsv"


@pytest.fixture(autouse=True)
def _fresh_kb_index() -> None:
    """The KB index is cached per process; each test builds it from its own articles."""
    from knowledge import selectors

    selectors._cached = None


@pytest.fixture(autouse=True)
def _own_cache_keys(settings) -> None:
    """The cache (rate-limit counters) is shared and outlives a test: give each test its own
    key space instead of clearing a cache other processes may use."""
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _desk_language() -> Iterator[None]:
    """A request activates its person's (or browser's) language and time zone in the thread
    that served it, as Django's middleware does for every request; in tests, code called
    outside a request afterwards would inherit them. Each test starts from the desk's own."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)
    timezone.deactivate()


# -- people ------------------------------------------------------------------------------------


@pytest.fixture
def roles(db) -> None:
    ensure_roles()


@pytest.fixture
def agent(roles):
    return UserFactory(username="alice", role="agent")


@pytest.fixture
def other_agent(roles):
    return UserFactory(username="bob", role="agent")


@pytest.fixture
def supervisor(roles):
    return UserFactory(username="sam", role="supervisor")


@pytest.fixture
def desk_admin(roles):
    return UserFactory(username="ada", role="admin", is_staff=True)


@pytest.fixture
def outsider(db):
    """Signed in, but in no role."""
    return UserFactory(username="olga")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent) -> Client:
    return _client_for(agent)


@pytest.fixture
def other_agent_client(other_agent) -> Client:
    return _client_for(other_agent)


@pytest.fixture
def supervisor_client(supervisor) -> Client:
    return _client_for(supervisor)


@pytest.fixture
def desk_admin_client(desk_admin) -> Client:
    return _client_for(desk_admin)


# -- live updates ------------------------------------------------------------------------------


@pytest.fixture
def sent_events(monkeypatch) -> list[tuple[str, int | None]]:
    """(event type, ticket id) for every broadcast that actually went out, in order."""
    sent: list[tuple[str, int | None]] = []
    monkeypatch.setattr(
        "supportdesk.realtime.send_now", lambda event: sent.append((event.event, event.ticket_id))
    )
    return sent


# -- taxonomy ----------------------------------------------------------------------------------


@pytest.fixture
def categories(db) -> dict:
    """The demo company's categories, by slug."""
    items = json.loads((DEMO_DIR / "categories.json").read_text())
    return {
        item["slug"]: CategoryFactory(
            slug=item["slug"],
            name=item["name"],
            description=item["description"],
            routine=item["routine"],
        )
        for item in items
    }


@pytest.fixture
def demo_kb(categories) -> dict:
    """The demo company's KB articles (with their translations), by key."""
    items = json.loads((DEMO_DIR / "kb_articles.json").read_text())
    articles: dict = {}
    for item in sorted(items, key=lambda i: i["translation_of"] is not None):
        articles[item["key"]] = ArticleFactory(
            title=item["title"],
            body=item["body"],
            language=item["language"],
            category=categories.get(item["category"]),
            translation_of=articles.get(item["translation_of"] or ""),
        )
    return articles


# -- a stand-in triage engine ------------------------------------------------------------------


def analysis(**overrides: object) -> Analysis:
    """A calm, routine, confident English analysis; override what a test is about."""
    base = Analysis(
        language="en",
        language_confidence=0.99,
        category="delivery",
        category_confidence=0.93,
        out_of_scope=False,
        emotion="neutral",
        emotion_confidence=0.81,
        urgency="low",
        urgency_reasons=(),
        needs_human=False,
        needs_human_reasons=(),
        engine="stub",
        engine_version="0",
    )
    return replace(base, **overrides)


class StubTriageEngine:
    """Returns a fixed analysis and remembers what it was asked."""

    def __init__(self, result: Analysis) -> None:
        self.result = result
        self.seen: list[str] = []

    def analyse(self, inp) -> Analysis:
        self.seen.append(inp.text)
        return self.result


@pytest.fixture
def stub_triage(monkeypatch) -> Callable[..., StubTriageEngine]:
    """`stub_triage(emotion="angry")` makes the pipeline see that analysis."""

    def install(**overrides: object) -> StubTriageEngine:
        engine = StubTriageEngine(analysis(**overrides))
        monkeypatch.setattr("triage.services.get_triage_engine", lambda: engine)
        return engine

    return install


# -- small real models -------------------------------------------------------------------------

CATEGORY_EXAMPLES_PER_LABEL = 120
EMOTION_EXAMPLES_PER_LABEL = 300


def _category_examples() -> list[tuple[str, str]]:
    with (DEMO_DIR / "category_examples.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    return _per_label(rows, CATEGORY_EXAMPLES_PER_LABEL)


def _emotion_examples() -> list[tuple[str, str]]:
    with EMOTION_DATA.open(encoding="utf-8", newline="") as handle:
        # The label check also drops the header row.
        rows = [
            (r[0], r[1])
            for r in csv.reader(handle, delimiter="\t")
            if len(r) == 2 and r[1] in EMOTIONS
        ]
    return _per_label(rows, EMOTION_EXAMPLES_PER_LABEL)


def _per_label(rows: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    kept: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    for text, label in shuffled:
        if counts.get(label, 0) < limit:
            counts[label] = counts.get(label, 0) + 1
            kept.append((text, label))
    return kept


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> tuple[Path, dict[str, tuple[str, dict, int]]]:
    """Train both models once per run into a temporary MODELS_DIR.

    Returns the directory and, per target, (version, metrics, example count)."""
    from triage import engine
    from triage.registry import model_signing_key

    models_dir = tmp_path_factory.mktemp("models")
    versions = {}
    for target, examples in (("category", _category_examples()), ("emotion", _emotion_examples())):
        # Small TF-IDF models keep the suite fast; the embedding path has its own engine tests
        # and runs end to end in the browser and scale-path tests.
        version, metrics = engine.train_and_save(
            target, examples, models_dir, key=model_signing_key(), embeddings=False
        )
        versions[target] = (version, metrics, len(examples))
    return models_dir, versions


@pytest.fixture
def triage_engine(trained_models, settings, categories):
    """The real local engine on the small models, registered as this database's active
    model versions, as `train_models` would leave them."""
    from triage import registry
    from triage.models import ModelVersion

    models_dir, versions = trained_models
    settings.MODELS_DIR = models_dir
    for target, (version, metrics, count) in versions.items():
        ModelVersion.objects.create(
            target=target, version=version, metrics=metrics, example_count=count, is_active=True
        )
    registry._cached = None  # another test may have cached an engine on other models
    return registry.get_triage_engine()


# -- live installations (tests/e2e, tests/scale) -----------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Playwright drives Debian's Chromium: its own browser download cannot work here."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="module")
def chromium(browser_type_launch_args: dict):
    """Chromium for one module, instead of pytest-playwright's session-long `browser`: while
    Playwright's sync API runs, its event loop counts as running in the main thread, so every
    Django ORM call in the tests after it would raise SynchronousOnlyOperation."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**browser_type_launch_args)
        yield browser
        browser.close()


@pytest.fixture
def desk_page(chromium):
    """A page in a fresh browser context, on the module's `chromium`."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def desk_models(tmp_path_factory):
    """One MODELS_DIR per test run, trained by `train_models` in the first live installation
    that needs it (installed from the release, or trained where they do not fit) and registered
    as-is in the others."""
    from tests.e2e.livedesk import SharedModels

    return SharedModels(directory=tmp_path_factory.mktemp("desk-models"))


def pytest_terminal_summary(terminalreporter) -> None:
    from tests.e2e.livedesk import INSTALLATIONS, timing_lines

    if INSTALLATIONS:
        terminalreporter.section("live installations: timings")
        for line in timing_lines(INSTALLATIONS):
            terminalreporter.write_line(line)


@pytest.fixture
def openai_server(settings, db):
    """A real loopback server speaking the chat-completions API (tests/openai_server.py), with
    the installation pointed at it; tests set its `model`."""
    from supportdesk.llm import selectors
    from tests.openai_server import FakeOpenAI

    with FakeOpenAI() as server:
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_MODEL = "test-model"
        settings.LLM_API_KEY = "sk-test"
        yield server
        for client in selectors._clients.values():
            client.close()
        selectors._clients.clear()
