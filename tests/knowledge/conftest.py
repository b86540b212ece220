"""Loopback Zendesk Help Center, Notion and Confluence servers, with the desk configured to
read from them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.knowledge.kb_servers import FakeConfluence, FakeNotion, FakeZendesk, serve


@pytest.fixture
def no_kb_sources(settings) -> None:
    for name in ("ZENDESK_URL", "NOTION_TOKEN", "NOTION_DATABASE_ID", "CONFLUENCE_URL"):
        setattr(settings, name, "")


@pytest.fixture
def fake_zendesk(settings, no_kb_sources) -> Iterator[FakeZendesk]:
    api = FakeZendesk()
    server = serve(api)
    settings.ZENDESK_URL = api.url
    settings.ZENDESK_EMAIL, settings.ZENDESK_API_TOKEN = api.email, api.token
    settings.ZENDESK_TIMEOUT = 2
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_notion(settings, no_kb_sources) -> Iterator[FakeNotion]:
    api = FakeNotion()
    server = serve(api)
    settings.NOTION_BASE_URL = api.url
    settings.NOTION_TOKEN, settings.NOTION_DATABASE_ID = api.token, api.database_id
    settings.KB_SYNC_TIMEOUT = 2
    yield api
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_confluence(settings, no_kb_sources) -> Iterator[FakeConfluence]:
    api = FakeConfluence()
    server = serve(api)
    settings.CONFLUENCE_URL = api.url
    settings.CONFLUENCE_USER, settings.CONFLUENCE_TOKEN = api.user, api.token
    settings.CONFLUENCE_SPACE = api.space
    settings.KB_SYNC_TIMEOUT = 2
    yield api
    server.shutdown()
    server.server_close()
