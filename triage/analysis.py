"""Which engine analyses a message: the language model when one is configured and allowed,
else (and whenever it fails) the local engine. The local analysis is always computed first:
it is the fallback, and it keeps a message that reads as instructions to the AI away from
the model altogether. The sequence around the model call is `supportdesk.llm.attempt`'s,
shared with drafting."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings

from supportdesk.llm.attempt import INJECTION_REASON, llm_attempt
from supportdesk.llm.client import LLMClient
from supportdesk.models import Category, Ticket
from triage.engine.llm import CategoryInfo, LLMTriageEngine, with_fallback_note
from triage.engine.types import TriageInput, TriageResult


def triage_analyse(*, inp: TriageInput, ticket: Ticket, local_engine) -> TriageResult:
    local = local_engine.analyse(inp)
    attempt = llm_attempt(
        purpose="triage",
        ticket=ticket,
        text=f"{inp.subject}\n{inp.text}",
        call=lambda client, redactor, on_call: _llm_engine(client, local_engine).analyse(
            inp, redactor=redactor, on_call=on_call
        ),
    )
    if attempt.answer is not None:
        return attempt.answer
    if not attempt.fallback:
        return local
    result = with_fallback_note(local, attempt.fallback)
    if attempt.injection:
        result = replace(
            result,
            needs_human=True,
            needs_human_reasons=(*local.needs_human_reasons, INJECTION_REASON),
        )
    return result


def _llm_engine(client: LLMClient, local_engine) -> LLMTriageEngine:
    return LLMTriageEngine(
        client,
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
