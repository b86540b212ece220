"""One attempt at a pipeline step with the language model: the sequence triage and drafting share.

In order: the installation must use the model for this step; a message that reads as
instructions to the AI is never sent to it; the per-ticket and daily budgets must allow a call
(a refusal is on the books); personal data becomes placeholders; the call goes through the
client, which checks the answer against the step's schema, and every call, successful or not,
is recorded in the ledger. Whatever stops the attempt, the caller gets a note saying why
("LLM fallback: timeout") and keeps the local engine's result.

A step brings only what is its own: the engine that writes the prompt, asks for its schema and
maps the answer back (raising an LLMError when the answer is unusable), and what to do with the
local result. Runs outside any transaction: the ledger rows are written in autocommit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from supportdesk.llm.client import CallReport, LLMClient, LLMError
from supportdesk.llm.injection import find_injection
from supportdesk.llm.redact import Redactor
from supportdesk.llm.selectors import llm_budget_exhausted, llm_runtime
from supportdesk.llm.services import llm_budget_refusal_record, llm_call_record
from supportdesk.models import Ticket

T = TypeVar("T")

INJECTION_NOTE = "LLM not used: instructions to the AI in the message"
INJECTION_REASON = "The message gives instructions to the AI; a human should read it"

# A step's model call: its engine on the shared client, with the redactor and the ledger hook
# made here. Raises an LLMError when no valid answer came.
ModelCall = Callable[[LLMClient, Redactor, Callable[[CallReport], None]], T]


@dataclass(frozen=True)
class LLMAttempt(Generic[T]):
    """What came of offering a step to the model: its answer, or why the local result stands."""

    answer: T | None = None  # the step's result from the model's valid answer
    # Why the local result stands, for its engine version; "" when the answer is used or the
    # installation does not use the model for this step at all.
    fallback: str = ""
    injection: str = ""  # the passage that reads as instructions to the AI, when one does


def llm_attempt(
    *, purpose: str, ticket: Ticket | None, text: str, call: ModelCall[T]
) -> LLMAttempt[T]:
    """Try `call` for the step `purpose` ("triage", "draft", "satisfaction" or "translation")
    on `ticket`, whose customer text `text` is screened for instructions to the AI before
    anything is sent. Work that belongs to no ticket (translating a knowledge-base article)
    passes `ticket=None`: only the daily budgets apply, its calls are on the books without a
    ticket, and the redactor knows no customer, so it replaces only the patterns it finds."""
    runtime = llm_runtime()
    if not runtime.enabled_for(purpose):
        return LLMAttempt()
    injection = find_injection(text)
    if injection:
        return LLMAttempt(fallback=INJECTION_NOTE, injection=injection)
    config = runtime.config
    ticket_id = ticket.pk if ticket is not None else None
    refusal = llm_budget_exhausted(ticket_id=ticket_id, runtime=runtime)
    if refusal:
        llm_budget_refusal_record(
            ticket_id=ticket_id, purpose=purpose, model=config.model_name, reason=refusal
        )
        return LLMAttempt(fallback=f"LLM not used: {refusal}")
    if ticket is not None:
        customer = ticket.customer
        redactor = Redactor.for_customer(
            name=customer.name, email=customer.email, kinds=runtime.redact_kinds
        )
    else:
        redactor = Redactor.for_customer(kinds=runtime.redact_kinds)
    try:
        answer = call(
            runtime.client(),
            redactor,
            lambda report: llm_call_record(
                report=report, ticket_id=ticket_id, provider=config.provider
            ),
        )
    except LLMError as exc:
        return LLMAttempt(fallback=f"LLM fallback: {exc.outcome}")
    return LLMAttempt(answer=answer)
