"""Writes for the language-model plumbing: the call ledger and the settings row."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from supportdesk.llm.client import CallReport, LLMClient
from supportdesk.llm.models import LLMCall, LLMSettings
from supportdesk.llm.selectors import llm_runtime


def llm_call_record(*, report: CallReport, ticket_id: int | None, provider: str = "") -> LLMCall:
    """One ledger row per call. Runs in autocommit (engines run outside transactions), so a
    call is on the books even when the step that made it fails afterwards."""
    return LLMCall.objects.create(
        ticket_id=ticket_id,
        purpose=report.purpose,
        provider=provider,
        model=report.model[:120],
        tokens_in=report.usage.prompt_tokens,
        tokens_out=report.usage.completion_tokens,
        cost=Decimal(str(report.cost)),
        latency_ms=report.latency_ms,
        attempts=report.attempts,
        outcome=report.outcome,
        error=report.error[:500],
    )


def llm_budget_refusal_record(
    *, ticket_id: int | None, purpose: str, model: str, reason: str
) -> LLMCall:
    return LLMCall.objects.create(
        ticket_id=ticket_id,
        purpose=purpose,
        model=model[:120],
        outcome=LLMCall.Outcome.BUDGET_EXHAUSTED,
        error=reason[:500],
    )


@transaction.atomic
def llm_settings_update(**fields) -> LLMSettings:
    row, _ = LLMSettings.objects.select_for_update().get_or_create(pk=1)
    for name, value in fields.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    return row


TEST_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["ok"],
    "properties": {"ok": {"type": "boolean"}},
}


def llm_connection_test() -> str:
    """One tiny structured call with the effective configuration; recorded like any call.
    Returns a human-readable result; raises LLMError (or ValueError when unconfigured)."""
    runtime = llm_runtime()
    if not runtime.enabled:
        raise ValueError("No language model is configured (LLM_BASE_URL and LLM_MODEL, or Azure).")
    client: LLMClient = runtime.client()
    result = client.chat_json(
        purpose="test",
        messages=[
            {"role": "system", "content": "Answer with JSON matching the schema."},
            {"role": "user", "content": 'Reply {"ok": true}.'},
        ],
        schema_name="connection_test",
        schema=TEST_SCHEMA,
        max_tokens=20,
        on_call=lambda report: llm_call_record(
            report=report, ticket_id=None, provider=runtime.config.provider
        ),
    )
    report = result.report
    return (
        f"Connected to {runtime.config.provider} · {report.model}: answered in "
        f"{report.latency_ms} ms ({report.usage.total} tokens)."
    )
