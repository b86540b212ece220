from django.contrib import admin

from feedback.models import FeedbackEvent


@admin.register(FeedbackEvent)
class FeedbackEventAdmin(admin.ModelAdmin):
    list_display = ["kind", "ticket", "actor", "created_at"]
    list_filter = ["kind"]
    readonly_fields = [
        "kind",
        "actor",
        "ticket",
        "draft",
        "triage",
        "routing",
        "before",
        "after",
        "diff",
        "note",
        "created_at",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
