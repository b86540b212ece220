from django import forms
from django.contrib import admin

from supportdesk.admin import WordListField
from supportdesk.models import Customer, Ticket
from triage.engine.types import EMOTIONS, URGENCIES
from triage.models import (
    Escalation,
    LabelledExample,
    ModelVersion,
    RoutingDecision,
    RoutingRule,
    RoutingSettings,
    SlaPolicy,
    TriageResult,
)


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
    list_display = ["ticket", "action", "rule", "reasons", "created_at"]
    list_filter = ["action", "rule"]
    show_full_result_count = False


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


class RoutingRuleForm(forms.ModelForm):
    plans = forms.MultipleChoiceField(
        choices=Customer.Plan.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    emotions = forms.MultipleChoiceField(
        choices=_choices(EMOTIONS), required=False, widget=forms.CheckboxSelectMultiple
    )
    urgencies = forms.MultipleChoiceField(
        choices=_choices(URGENCIES), required=False, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.MultipleChoiceField(
        choices=Ticket.Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = WordListField(required=False, help_text="Language codes, e.g. en, de, zh.")
    keywords = WordListField(
        required=False, help_text="Fires when the subject or message contains any of them."
    )

    class Meta:
        model = RoutingRule
        exclude: list[str] = []

    def clean(self):
        data = super().clean()
        for name in (
            "confidence_below",
            "confidence_at_least",
            "min_emotion_confidence",
            "min_emotion_intensity",
        ):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, "Enter a number between 0 and 1.")
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["position", "name", "enabled", "match", "action", "notify_supervisors"]
    list_display_links = ["name"]
    list_editable = ["position", "enabled"]
    list_filter = ["enabled", "action"]
    filter_horizontal = ["categories"]
    fieldsets = [
        (None, {"fields": ["name", "position", "enabled", "match", "stop_processing"]}),
        (
            "Conditions (empty means any)",
            {
                "fields": [
                    "categories",
                    "out_of_scope",
                    "category_routine",
                    "confidence_below",
                    "confidence_at_least",
                    "vip",
                    "plans",
                    "new_customer",
                    "repeat_contact",
                    "emotions",
                    "min_emotion_confidence",
                    "min_emotion_intensity",
                    "urgencies",
                    "languages",
                    "channels",
                    "needs_human",
                    "keywords",
                ]
            },
        ),
        (
            "Actions",
            {
                "fields": [
                    "action",
                    "notify_supervisors",
                    "assign_agent",
                    "assign_team",
                    "assign_matching_team",
                    "set_urgency",
                    "sla_policy",
                ]
            },
        ),
    ]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "reason", "created_at", "acknowledged_by", "acknowledged_at"]


class RoutingSettingsForm(forms.ModelForm):
    class Meta:
        model = RoutingSettings
        fields = [
            "auto_send_paused",
            "auto_send_min_category_confidence",
            "auto_send_min_draft_confidence",
            "on_duty_supervisors",
        ]
        widgets = {"on_duty_supervisors": forms.CheckboxSelectMultiple}

    def clean(self):
        data = super().clean()
        for name in ("auto_send_min_category_confidence", "auto_send_min_draft_confidence"):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, "Enter a confidence between 0 and 1.")
        return data


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(admin.ModelAdmin):
    """One row: the list shows it, adding a second is refused."""

    form = RoutingSettingsForm
    list_display = [
        "__str__",
        "auto_send_paused",
        "auto_send_min_category_confidence",
        "auto_send_min_draft_confidence",
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not RoutingSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "urgency",
        "plan",
        "first_response_minutes",
        "resolution_minutes",
        "business_hours",
        "active",
    ]
    list_editable = ["first_response_minutes", "resolution_minutes", "active"]
