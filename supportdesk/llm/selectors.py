"""Reads for the language-model plumbing: the effective configuration and the budgets.

The worker reads the settings row on every use (one query by primary key), so an admin's
change applies to the next ticket without a restart; the SDK client is rebuilt only when the
effective configuration differs from the one it was built for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from supportdesk.llm.client import ClientConfig, LLMClient
from supportdesk.llm.models import LLMCall, LLMSettings
from supportdesk.llm.redact import KINDS

_lock = threading.Lock()
_clients: dict[ClientConfig, LLMClient] = {}


@dataclass(frozen=True)
class LLMRuntime:
    config: ClientConfig
    use_for_triage: bool
    use_for_drafts: bool
    calls_per_ticket: int
    tokens_per_ticket: int
    calls_per_day: int
    tokens_per_day: int
    redact_kinds: frozenset[str]
    allowed_promises: tuple[str, ...]

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def enabled_for(self, purpose: str) -> bool:
        """Whether the model answers this step ("triage", "draft", "satisfaction" or
        "translation"). Estimating a solved ticket's satisfaction reads the customer's messages
        as triage does, so it goes with the triage switch; translating a knowledge-base article
        writes text customers read, as drafting does, so it goes with the drafts switch, and so does
        writing an FAQ entry from agents' replies ("faq")."""
        uses = {
            "triage": self.use_for_triage,
            "draft": self.use_for_drafts,
            "satisfaction": self.use_for_triage,
            "translation": self.use_for_drafts,
            "faq": self.use_for_drafts,
        }[purpose]
        return self.enabled and uses

    def client(self) -> LLMClient:
        with _lock:
            if self.config not in _clients:
                _clients[self.config] = LLMClient(self.config)
            return _clients[self.config]


def llm_settings_get() -> LLMSettings:
    """The settings row, unsaved defaults when an admin never saved one."""
    return LLMSettings.objects.filter(pk=1).first() or LLMSettings(pk=1)


def llm_runtime() -> LLMRuntime:
    row = llm_settings_get()
    provider = row.provider
    azure_endpoint = row.azure_endpoint or settings.AZURE_OPENAI_ENDPOINT
    base_url = row.base_url or settings.LLM_BASE_URL
    if provider == LLMSettings.Provider.OFF:
        base_url = azure_endpoint = ""
    elif provider == LLMSettings.Provider.OPENAI:
        azure_endpoint = ""
    elif provider == LLMSettings.Provider.AZURE:
        base_url = ""
    config = ClientConfig(
        base_url=base_url,
        api_key=settings.LLM_API_KEY,
        model=row.model or settings.LLM_MODEL,
        azure_endpoint=azure_endpoint,
        azure_api_version=row.azure_api_version or settings.AZURE_OPENAI_API_VERSION,
        azure_deployment=row.azure_deployment or settings.AZURE_OPENAI_DEPLOYMENT,
        timeout=row.timeout_seconds,
        max_retries=row.max_retries,
        price_input_per_million=float(row.price_input_per_million),
        price_output_per_million=float(row.price_output_per_million),
    )
    kinds = row.redact_kinds if isinstance(row.redact_kinds, list) else list(KINDS)
    return LLMRuntime(
        config=config,
        use_for_triage=row.use_for_triage,
        use_for_drafts=row.use_for_drafts,
        calls_per_ticket=row.calls_per_ticket,
        tokens_per_ticket=row.tokens_per_ticket,
        calls_per_day=row.calls_per_day,
        tokens_per_day=row.tokens_per_day,
        redact_kinds=frozenset(kinds) & frozenset(KINDS),
        allowed_promises=tuple(
            line.strip() for line in row.allowed_promises.splitlines() if line.strip()
        ),
    )


def _spent(**filters) -> tuple[int, int]:
    totals = (
        LLMCall.objects.filter(**filters)
        .exclude(outcome=LLMCall.Outcome.BUDGET_EXHAUSTED)
        .aggregate(
            calls=Count("id"),
            tokens_in=Sum("tokens_in", default=0),
            tokens_out=Sum("tokens_out", default=0),
        )
    )
    return totals["calls"], totals["tokens_in"] + totals["tokens_out"]


def llm_budget_exhausted(*, ticket_id: int | None, runtime: LLMRuntime) -> str:
    """Why no further call may be made now, or "" when the budgets allow one."""
    if ticket_id is not None:
        calls, tokens = _spent(ticket_id=ticket_id)
        if calls >= runtime.calls_per_ticket:
            return f"ticket call budget ({runtime.calls_per_ticket}) used"
        if tokens >= runtime.tokens_per_ticket:
            return f"ticket token budget ({runtime.tokens_per_ticket}) used"
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    calls, tokens = _spent(created_at__gte=midnight)
    if calls >= runtime.calls_per_day:
        return f"daily call budget ({runtime.calls_per_day}) used"
    if tokens >= runtime.tokens_per_day:
        return f"daily token budget ({runtime.tokens_per_day}) used"
    return ""


def llm_calls_for_ticket(*, ticket_id: int) -> list[LLMCall]:
    return list(LLMCall.objects.filter(ticket_id=ticket_id).order_by("created_at")[:50])


def llm_usage_today() -> dict:
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return LLMCall.objects.filter(created_at__gte=midnight).aggregate(
        calls=Count("id", filter=~Q(outcome=LLMCall.Outcome.BUDGET_EXHAUSTED)),
        tokens_in=Sum("tokens_in", default=0),
        tokens_out=Sum("tokens_out", default=0),
        cost=Sum("cost", default=0),
    )
