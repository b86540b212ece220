import json
from collections.abc import AsyncIterator, Iterator
from itertools import islice

from asgiref.sync import sync_to_async
from django import forms
from django.contrib import admin
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.html import format_html

from replies.engine import ToneProfile, profile_for
from replies.exports import ExportFilters, decisions_for_export, export_lines
from replies.models import BrandVoice, Draft, Macro, ToneProfileSetting

# Lines read from the database per step of a download.
EXPORT_LINES_PER_STEP = 500


def _export_response(queryset, format: str) -> StreamingHttpResponse:
    """The decisions on the selected drafts, streamed as JSON Lines while they are read."""
    lines = export_lines(
        decisions_for_export(filters=ExportFilters(), drafts=queryset), format=format
    )
    name = "evaluation" if format == "eval" else "finetune"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(_in_steps(lines), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="feedback-{name}-{stamp}.jsonl"'
    return response


async def _in_steps(lines: Iterator[str]) -> AsyncIterator[bytes]:
    """The desk serves over ASGI, which would read a plain iterator whole before sending a
    byte; this one reads the database a step at a time on the request's own thread."""
    step = sync_to_async(lambda: "".join(islice(lines, EXPORT_LINES_PER_STEP)).encode())
    while chunk := await step():
        yield chunk


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
    actions = ["export_evaluation_set", "export_finetuning_file"]

    def has_add_permission(self, request):
        return False

    @admin.action(
        description="Export the decisions on the selected drafts as an evaluation set",
        permissions=["view"],
    )
    def export_evaluation_set(self, request, queryset):
        return _export_response(queryset, "eval")

    @admin.action(
        description="Export the replies to the selected drafts as a fine-tuning file",
        permissions=["view"],
    )
    def export_finetuning_file(self, request, queryset):
        return _export_response(queryset, "finetune")


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
