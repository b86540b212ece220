"""Which engine drafts a reply, and the promise check every draft goes through.

The language model drafts when one is configured and allowed and there are passages to
answer from; otherwise, and whenever it fails, the local engine's draft is used, with the
reason in its engine version. Every draft, from either engine, is then checked for
commitments no cited passage or allowed policy backs (replies.engine.promises)."""

from __future__ import annotations

from dataclasses import replace

from replies.engine import LocalDraftEngine
from replies.engine.llm import LLMDraftEngine
from replies.engine.promises import promise_check
from replies.engine.tone import ToneProfile
from replies.engine.types import DraftInput, DraftResult
from supportdesk.llm.client import LLMError
from supportdesk.llm.redact import Redactor
from supportdesk.llm.selectors import llm_budget_exhausted, llm_runtime
from supportdesk.llm.services import llm_budget_refusal_record, llm_call_record
from supportdesk.models import Ticket


def _fallback(local: DraftResult, note: str) -> DraftResult:
    return replace(local, engine_version=f"{local.engine_version} · {note}"[:120])


def draft_compose(*, inp: DraftInput, ticket: Ticket, tone: ToneProfile) -> DraftResult:
    local = LocalDraftEngine().draft(inp, tone=tone)
    runtime = llm_runtime()
    result = local
    if runtime.drafts_enabled and inp.passages:
        config = runtime.config
        refusal = llm_budget_exhausted(ticket_id=ticket.pk, runtime=runtime)
        if refusal:
            llm_budget_refusal_record(
                ticket_id=ticket.pk, purpose="draft", model=config.model_name, reason=refusal
            )
            result = _fallback(local, f"LLM not used: {refusal}")
        else:
            customer = ticket.customer
            redactor = Redactor.for_customer(
                name=customer.name, email=customer.email, kinds=runtime.redact_kinds
            )
            try:
                result = LLMDraftEngine(runtime.client()).draft(
                    inp,
                    redactor=redactor,
                    tone=tone,
                    on_call=lambda report: llm_call_record(
                        report=report, ticket_id=ticket.pk, provider=config.provider
                    ),
                )
            except LLMError as exc:
                result = _fallback(local, f"LLM fallback: {exc.outcome}")
    cited = [
        "\n".join(p.text for p in inp.passages if p.article_id == c.article_id)
        for c in result.citations
    ]
    flags = promise_check(result.text, passages=cited, allowed=runtime.allowed_promises)
    return replace(result, promise_flags=tuple(f.as_dict() for f in flags))
