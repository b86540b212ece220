from django.contrib import admin

from triage.models import (
    Category,
    Escalation,
    LabelledExample,
    ModelVersion,
    RoutingDecision,
    TriageResult,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "routine", "active"]
    list_editable = ["routine", "active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(LabelledExample)
class LabelledExampleAdmin(admin.ModelAdmin):
    list_display = ["target", "label", "source", "short_text", "created_at"]
    list_filter = ["target", "source", "label"]
    search_fields = ["text"]
    show_full_result_count = False

    @admin.display(description="Text")
    def short_text(self, obj):
        return obj.text[:80]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["target", "version", "is_active", "example_count", "metrics", "created_at"]
    list_filter = ["target", "is_active"]
    readonly_fields = ["target", "version", "metrics", "example_count", "is_active", "created_at"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TriageResult)
class TriageResultAdmin(ReadOnlyAdmin):
    list_display = [
        "ticket",
        "category",
        "category_confidence",
        "emotion",
        "urgency",
        "language",
        "engine",
        "latency_ms",
    ]
    list_filter = ["emotion", "urgency", "engine"]
    show_full_result_count = False


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "action", "reasons", "created_at"]
    list_filter = ["action"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "reason", "created_at", "acknowledged_by", "acknowledged_at"]
