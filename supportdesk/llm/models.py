"""The installation's language-model settings and the ledger of every call made."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from supportdesk.llm.redact import KINDS


def _all_kinds() -> list[str]:
    return list(KINDS)


class LLMSettings(models.Model):
    """One row (pk 1). Blank fields fall back to the environment (LLM_BASE_URL, LLM_MODEL,
    AZURE_OPENAI_*); the API key only ever comes from the environment."""

    class Provider(models.TextChoices):
        ENV = "", "As configured in the environment"
        OPENAI = "openai", "OpenAI or any OpenAI-compatible server (Ollama, vLLM, …)"
        AZURE = "azure", "Azure OpenAI"
        OFF = "off", "Off: use the local engines only"

    provider = models.CharField(max_length=10, choices=Provider.choices, blank=True)
    base_url = models.URLField(blank=True, help_text="Blank: LLM_BASE_URL.")
    model = models.CharField(max_length=120, blank=True, help_text="Blank: LLM_MODEL.")
    azure_endpoint = models.URLField(blank=True, help_text="Blank: AZURE_OPENAI_ENDPOINT.")
    azure_api_version = models.CharField(max_length=40, blank=True)
    azure_deployment = models.CharField(max_length=120, blank=True)
    use_for_triage = models.BooleanField(default=True)
    use_for_drafts = models.BooleanField(default=True)
    timeout_seconds = models.FloatField(default=30.0)
    max_retries = models.PositiveSmallIntegerField(default=2)
    calls_per_ticket = models.PositiveIntegerField(default=8)
    tokens_per_ticket = models.PositiveIntegerField(default=30_000)
    calls_per_day = models.PositiveIntegerField(default=5_000)
    tokens_per_day = models.PositiveIntegerField(default=5_000_000)
    price_input_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, help_text="Currency per million input tokens."
    )
    price_output_per_million = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    redact_kinds = models.JSONField(
        default=_all_kinds,
        blank=True,
        help_text=f"Personal data replaced before every call; any of {', '.join(KINDS)}.",
    )
    allowed_promises = models.TextField(
        blank=True,
        help_text="Policies drafts may state without citing an article, one per line "
        "(e.g. “Refunds are issued within 14 days of approval”).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "language model settings"
        verbose_name_plural = "language model settings"

    def __str__(self) -> str:
        return "Language model settings"

    def clean(self) -> None:
        kinds = self.redact_kinds
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise ValidationError({"redact_kinds": f"A list of kinds, e.g. {list(KINDS)}."})
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValidationError(
                {"redact_kinds": f"Unknown kinds {unknown}; choose from {', '.join(KINDS)}."}
            )


class LLMCall(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        TIMEOUT = "timeout", "Timed out"
        UNAVAILABLE = "unavailable", "Server unavailable (5xx/429)"
        REJECTED = "rejected", "Rejected (4xx)"
        INVALID_OUTPUT = "invalid_output", "Invalid output"
        OFF_SCHEMA = "off_schema", "Invented label / off schema"
        BUDGET_EXHAUSTED = "budget_exhausted", "Budget exhausted (not sent)"

    ticket = models.ForeignKey(
        "supportdesk.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purpose = models.CharField(
        max_length=12
    )  # triage | draft | satisfaction | translation | faq | test
    provider = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=120, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="llmcall_ticket"),
            models.Index(fields=["created_at"], name="llmcall_created"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} call ({self.outcome})"

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out
