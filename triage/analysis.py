"""Which engine analyses a message: the language model when one is configured and allowed,
else (and whenever it fails) the local engine. The local analysis is always computed first:
it is the fallback, and it keeps a message that reads as instructions to the AI away from
the model altogether."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings

from supportdesk.llm.client import LLMError
from supportdesk.llm.injection import find_injection
from supportdesk.llm.redact import Redactor
from supportdesk.llm.selectors import llm_budget_exhausted, llm_runtime
from supportdesk.llm.services import llm_budget_refusal_record, llm_call_record
from supportdesk.models import Ticket
from triage.engine.llm import CategoryInfo, LLMTriageEngine, with_fallback_note
from triage.engine.types import TriageInput, TriageResult
from triage.models import Category

INJECTION_REASON = "The message gives instructions to the AI; a human should read it"


def triage_analyse(*, inp: TriageInput, ticket: Ticket, local_engine) -> TriageResult:
    local = local_engine.analyse(inp)
    runtime = llm_runtime()
    if not runtime.triage_enabled:
        return local
    if find_injection(f"{inp.subject}\n{inp.text}"):
        return replace(
            with_fallback_note(local, "LLM not used: instructions to the AI in the message"),
            needs_human=True,
            needs_human_reasons=(*local.needs_human_reasons, INJECTION_REASON),
        )
    config = runtime.config
    refusal = llm_budget_exhausted(ticket_id=ticket.pk, runtime=runtime)
    if refusal:
        llm_budget_refusal_record(
            ticket_id=ticket.pk, purpose="triage", model=config.model_name, reason=refusal
        )
        return with_fallback_note(local, f"LLM not used: {refusal}")
    engine = LLMTriageEngine(
        runtime.client(),
        categories=[
            CategoryInfo(slug, name, description)
            for slug, name, description in Category.objects.filter(active=True)
            .order_by("slug")
            .values_list("slug", "name", "description")
        ],
        languages=settings.SUPPORTED_LANGUAGES,
        rules=getattr(local_engine, "rules", None),
        brand=settings.BRAND_NAME,
    )
    customer = ticket.customer
    redactor = Redactor.for_customer(
        name=customer.name, email=customer.email, kinds=runtime.redact_kinds
    )
    try:
        return engine.analyse(
            inp,
            redactor=redactor,
            on_call=lambda report: llm_call_record(
                report=report, ticket_id=ticket.pk, provider=config.provider
            ),
        )
    except LLMError as exc:
        return with_fallback_note(local, f"LLM fallback: {exc.outcome}")
