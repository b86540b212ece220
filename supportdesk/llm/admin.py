from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse

from supportdesk.llm.client import LLMError
from supportdesk.llm.models import LLMCall, LLMSettings
from supportdesk.llm.selectors import llm_runtime, llm_usage_today
from supportdesk.llm.services import llm_connection_test


@admin.register(LLMSettings)
class LLMSettingsAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["__str__", "provider", "model", "effective", "today", "updated_at"]
    actions = ["test_connection"]
    fieldsets = [
        ("Provider (blank fields use the environment)", {
            "fields": ["provider", "base_url", "model", "azure_endpoint", "azure_api_version",
                       "azure_deployment", "timeout_seconds", "max_retries"],
        }),
        ("Use", {"fields": ["use_for_triage", "use_for_drafts"]}),
        ("Budget and prices", {
            "fields": ["calls_per_ticket", "tokens_per_ticket", "calls_per_day", "tokens_per_day",
                       "price_input_per_million", "price_output_per_million"],
        }),
        ("Safety", {"fields": ["redact_kinds", "allowed_promises"]}),
    ]  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return not LLMSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not LLMSettings.objects.exists():
            LLMSettings.objects.get_or_create(pk=1)
        return super().changelist_view(request, extra_context)

    @admin.display(description="In effect")
    def effective(self, obj) -> str:
        config = llm_runtime().config
        if not config.enabled:
            return "off (local engines only)"
        where = config.azure_endpoint or config.base_url
        return f"{config.provider} · {config.model_name} at {where}"

    @admin.display(description="Today")
    def today(self, obj) -> str:
        usage = llm_usage_today()
        tokens = usage["tokens_in"] + usage["tokens_out"]
        return f"{usage['calls']} calls, {tokens} tokens, cost {usage['cost']:.4f}"

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        try:
            self.message_user(request, llm_connection_test(), messages.SUCCESS)
        except (LLMError, ValueError) as exc:
            self.message_user(request, f"Connection test failed: {exc}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:llm_llmsettings_changelist"))


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = [
        "created_at", "purpose", "outcome", "model", "tokens_in", "tokens_out", "cost",
        "latency_ms", "attempts", "ticket",
    ]  # fmt: skip
    list_filter = ["purpose", "outcome", "model"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
