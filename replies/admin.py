from django.contrib import admin

from replies.models import Draft


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
