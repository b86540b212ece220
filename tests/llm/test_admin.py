"""Admins see and change the provider, model and budget, and test the connection."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import ValidationError

from supportdesk.llm.models import LLMCall, LLMSettings
from tests.openai_server import Behaviour

pytestmark = pytest.mark.django_db

URL = "/admin/llm/llmsettings/"


def test_the_settings_page_shows_what_is_in_effect_and_todays_usage(desk_admin_client, llm):
    page = html.unescape(desk_admin_client.get(URL).content.decode())
    assert f"openai-compatible · test-model at {llm.base_url}" in page
    assert "0 calls, 0 tokens" in page


def test_without_configuration_the_page_says_the_local_engines_are_used(
    desk_admin_client, settings
):
    settings.LLM_BASE_URL = ""
    assert "off (local engines only)" in desk_admin_client.get(URL).content.decode()


def test_an_admin_changes_model_and_budget(desk_admin_client, llm):
    desk_admin_client.get(URL)  # creates the row
    form = {
        "provider": "openai", "base_url": "", "model": "qwen2.5:7b", "azure_endpoint": "",
        "azure_api_version": "", "azure_deployment": "", "timeout_seconds": "20",
        "max_retries": "1", "use_for_triage": "on", "use_for_drafts": "on",
        "calls_per_ticket": "4", "tokens_per_ticket": "8000", "calls_per_day": "100",
        "tokens_per_day": "200000", "price_input_per_million": "0.15",
        "price_output_per_million": "0.60", "redact_kinds": '["email", "phone", "name"]',
        "allowed_promises": "Refunds are issued within 14 days of approval.",
    }  # fmt: skip
    response = desk_admin_client.post(f"{URL}1/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = LLMSettings.objects.get(pk=1)
    assert (row.model, row.calls_per_ticket, row.redact_kinds) == (
        "qwen2.5:7b", 4, ["email", "phone", "name"],
    )  # fmt: skip


def test_test_connection_reports_success_and_is_on_the_books(desk_admin_client, llm):
    desk_admin_client.get(URL)
    response = desk_admin_client.post(
        URL, {"action": "test_connection", "_selected_action": ["1"]}, follow=True
    )
    page = html.unescape(response.content.decode())
    assert "Connected to openai-compatible · test-model: answered in" in page
    assert LLMCall.objects.get().purpose == "test"
    assert llm.requests[0].schema_name == "connection_test"


def test_test_connection_reports_a_wrong_key(desk_admin_client, llm):
    desk_admin_client.get(URL)
    llm.push(Behaviour(status=401, error="Incorrect API key provided"))
    response = desk_admin_client.post(
        URL, {"action": "test_connection", "_selected_action": ["1"]}, follow=True
    )
    page = html.unescape(response.content.decode())
    assert "Connection test failed: HTTP 401: Incorrect API key provided" in page
    assert len(llm.requests) == 1  # a 401 is not retried


def test_an_unknown_redaction_kind_is_refused_with_the_choices(desk_admin_client, llm):
    desk_admin_client.get(URL)
    row = LLMSettings.objects.get(pk=1)
    row.redact_kinds = ["email", "shoe_size"]
    with pytest.raises(ValidationError, match="shoe_size"):
        row.full_clean()
