"""Which engine drafts a reply, and the promise check every draft goes through.

The language model drafts when one is configured and allowed and there are passages to
answer from; otherwise, and whenever it fails, the local engine's draft is used, with the
reason in its engine version. The sequence around the model call is `supportdesk.llm.attempt`'s,
shared with triage: a message that reads as instructions to the AI is never sent to the model,
and its draft waits for a person. Every draft, from either engine, is then checked for
commitments no cited passage or allowed policy backs (replies.engine.promises)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from replies.engine import LocalDraftEngine
from replies.engine.llm import LLMDraftEngine
from replies.engine.promises import promise_check
from replies.engine.tone import ToneProfile
from replies.engine.types import DraftInput, DraftResult
from supportdesk.llm.attempt import INJECTION_REASON, llm_attempt
from supportdesk.llm.selectors import llm_runtime
from supportdesk.models import Ticket


@dataclass(frozen=True)
class ComposedDraft:
    """A composed draft: the engine's result with its promise flags, and whether it waits for
    a person whatever the guardrails say."""

    result: DraftResult
    # Why this draft must wait for a person even when grounded and promising nothing.
    needs_human_reason: str = ""
    # The customer asked nothing (they only thanked us): no answer is missing.
    nothing_to_answer: bool = False


def _fallback(local: DraftResult, note: str) -> DraftResult:
    return replace(local, engine_version=f"{local.engine_version} · {note}"[:120])


def draft_compose(*, inp: DraftInput, ticket: Ticket, tone: ToneProfile) -> ComposedDraft:
    local = LocalDraftEngine().draft(inp, tone=tone)
    result = local
    needs_human_reason = ""
    if inp.passages:  # without a passage to answer from, the local holding reply stands
        attempt = llm_attempt(
            purpose="draft",
            ticket=ticket,
            text=f"{inp.subject}\n{inp.question}",
            call=lambda client, redactor, on_call: LLMDraftEngine(client).draft(
                inp, redactor=redactor, tone=tone, on_call=on_call
            ),
        )
        if attempt.answer is not None:
            result = attempt.answer
        elif attempt.fallback:
            result = _fallback(local, attempt.fallback)
        if attempt.injection:
            needs_human_reason = INJECTION_REASON
    cited = [
        "\n".join(p.text for p in inp.passages if p.article_id == c.article_id)
        for c in result.citations
    ]
    allowed = llm_runtime().allowed_promises
    flags = promise_check(result.text, passages=cited, allowed=allowed)
    return ComposedDraft(
        result=replace(result, promise_flags=tuple(f.as_dict() for f in flags)),
        needs_human_reason=needs_human_reason,
    )
