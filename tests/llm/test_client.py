"""The client adapter on the real `openai` SDK, against a loopback server speaking its API."""

from __future__ import annotations

import pytest

from supportdesk.llm.client import (
    ClientConfig,
    LLMClient,
    LLMInvalidOutput,
    LLMOffSchema,
    LLMRejected,
    LLMTimeout,
    LLMUnavailable,
)
from tests.openai_server import Behaviour, FakeOpenAI, answer

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["label"],
    "properties": {"label": {"type": "string", "enum": ["billing", "delivery"]}},
}


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        fake.model = lambda request: {"label": "billing"}
        yield fake


def make_client(server: FakeOpenAI, **overrides) -> tuple[LLMClient, list[float]]:
    waits: list[float] = []
    config = ClientConfig(
        base_url=server.base_url, api_key="sk-test", model="test-model",
        price_input_per_million=2.0, price_output_per_million=8.0, **overrides,
    )  # fmt: skip
    return LLMClient(config, sleep=waits.append, jitter=lambda: 0.5), waits


def call(client: LLMClient, reports: list | None = None):
    return client.chat_json(
        purpose="test",
        messages=[{"role": "user", "content": "hi"}],
        schema_name="label",
        schema=SCHEMA,
        on_call=reports.append if reports is not None else None,
    )


def test_structured_call_returns_data_usage_and_cost(server):
    client, _ = make_client(server)
    server.push(answer({"label": "delivery"}, prompt_tokens=1000, completion_tokens=500))
    result = call(client)
    assert result.data == {"label": "delivery"}
    assert result.report.usage.prompt_tokens == 1000
    assert result.report.usage.completion_tokens == 500
    assert result.report.cost == pytest.approx((1000 * 2 + 500 * 8) / 1_000_000)
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "test-model"
    assert request.body["stream"] is False
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.schema == SCHEMA


def test_429_waits_as_long_as_retry_after_says_then_succeeds(server):
    client, waits = make_client(server)
    server.push(Behaviour(status=429, headers={"Retry-After": "3"}))
    reports: list = []
    assert call(client, reports).data == {"label": "billing"}
    assert waits == [3.0]
    assert len(server.requests) == 2
    assert reports[0].attempts == 2 and reports[0].outcome == "ok"


def test_429_asking_for_too_long_a_wait_gives_up_at_once(server):
    client, waits = make_client(server)
    server.push(Behaviour(status=429, headers={"Retry-After": "600"}))
    with pytest.raises(LLMUnavailable):
        call(client)
    assert waits == [] and len(server.requests) == 1


def test_5xx_is_retried_with_capped_jittered_backoff_then_gives_up(server):
    client, waits = make_client(server, max_retries=3)
    server.push(*[Behaviour(status=500) for _ in range(4)])
    reports: list = []
    with pytest.raises(LLMUnavailable) as raised:
        call(client, reports)
    assert len(server.requests) == 4
    assert waits == [0.375, 0.75, 1.5]  # 0.5·2ⁿ, with the jitter at its middle
    assert raised.value.report.attempts == 4
    assert [r.outcome for r in reports] == ["unavailable"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 409, 422])
def test_4xx_other_than_429_is_not_retried(server, status):
    client, waits = make_client(server)
    server.push(Behaviour(status=status, error="bad request"))
    with pytest.raises(LLMRejected):
        call(client)
    assert len(server.requests) == 1 and waits == []


def test_a_hang_longer_than_the_timeout_is_a_timeout_not_retried(server):
    client, _ = make_client(server, timeout=0.3)
    server.push(Behaviour(hang=5, content={"label": "billing"}))
    with pytest.raises(LLMTimeout):
        call(client)
    assert len(server.requests) == 1


def test_invalid_json_is_reported_with_the_tokens_it_cost(server):
    client, _ = make_client(server)
    server.push(answer("Sure! Here is the label: billing", prompt_tokens=50, completion_tokens=9))
    reports: list = []
    with pytest.raises(LLMInvalidOutput):
        call(client, reports)
    assert reports[0].outcome == "invalid_output"
    assert reports[0].usage.total == 59


def test_a_label_outside_the_schema_is_rejected(server):
    client, _ = make_client(server)
    server.push(answer({"label": "free_money"}))
    with pytest.raises(LLMOffSchema):
        call(client)


def test_azure_uses_the_deployment_path_api_version_and_key_header(server):
    waits: list[float] = []
    client = LLMClient(
        ClientConfig(
            api_key="azure-key",
            azure_endpoint=server.root_url,
            azure_api_version="2024-10-21",
            azure_deployment="gpt-4o-mini-prod",
        ),
        sleep=waits.append,
    )
    assert call(client).data == {"label": "billing"}
    request = server.requests[0]
    assert request.path.startswith("/openai/deployments/gpt-4o-mini-prod/chat/completions")
    assert "api-version=2024-10-21" in request.path
    assert request.headers["api-key"] == "azure-key"
