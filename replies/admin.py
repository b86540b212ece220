import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from replies.engine import ToneProfile, profile_for
from replies.models import BrandVoice, Draft, Macro, ToneProfileSetting


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "status",
        "language",
        "grounded",
        "confidence",
        "engine",
        "created_at",
    ]
    list_filter = ["status", "grounded", "language"]
    readonly_fields = [f.name for f in Draft._meta.fields] + ["cited_articles"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


class ToneProfileSettingForm(forms.ModelForm):
    class Meta:
        model = ToneProfileSetting
        fields = ["locale", "data"]

    def clean(self):
        cleaned = super().clean()
        data = cleaned.get("data")
        if not isinstance(data, dict):
            raise forms.ValidationError({"data": "Enter an object of sentences, e.g. {}."})
        try:
            ToneProfile.from_dict({**data, "locale": cleaned.get("locale") or "en"})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError({"data": str(exc)}) from exc
        return cleaned


@admin.register(ToneProfileSetting)
class ToneProfileSettingAdmin(admin.ModelAdmin):
    form = ToneProfileSettingForm
    list_display = ["locale", "updated_at"]
    readonly_fields = ["built_in_profile"]

    @admin.display(description="Built-in sentences (for reference)")
    def built_in_profile(self, obj: ToneProfileSetting) -> str:
        profile = profile_for(obj.locale if obj and obj.locale else "en")
        return format_html(
            "<pre>{}</pre>", json.dumps(profile.to_dict(), ensure_ascii=False, indent=2)
        )


@admin.register(BrandVoice)
class BrandVoiceAdmin(admin.ModelAdmin):
    list_display = ["brand_name", "formal_by_default", "updated_at"]

    def has_add_permission(self, request):
        return not BrandVoice.objects.exists()  # one brand voice for the installation


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["title", "key", "language", "active", "updated_at"]
    list_filter = ["active", "language"]
    search_fields = ["title", "key", "body"]
    list_editable = ["active"]
