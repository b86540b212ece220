from django.contrib import admin

from feedback.models import FeedbackEvent, Rating


@admin.register(FeedbackEvent)
class FeedbackEventAdmin(admin.ModelAdmin):
    list_display = ["kind", "ticket", "actor", "created_at"]
    list_filter = ["kind", "reason"]
    readonly_fields = [
        "kind",
        "reason",
        "actor",
        "ticket",
        "draft",
        "triage",
        "routing",
        "message",
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


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    """Customers' ratings, as they gave them: read-only."""

    list_display = ["score", "ticket", "message", "draft", "has_comment", "created_at"]
    list_filter = ["score", "created_at"]
    date_hierarchy = "created_at"
    list_select_related = ["ticket", "message", "draft"]
    readonly_fields = [
        "score",
        "comment",
        "ticket",
        "message",
        "draft",
        "created_at",
        "commented_at",
    ]
    show_full_result_count = False

    @admin.display(boolean=True, description="Comment")
    def has_comment(self, obj: Rating) -> bool:
        return bool(obj.comment)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
