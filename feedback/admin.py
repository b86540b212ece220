from django.contrib import admin

from feedback.models import FeedbackEvent, Rating, SatisfactionEstimate


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


@admin.register(SatisfactionEstimate)
class SatisfactionEstimateAdmin(admin.ModelAdmin):
    """Estimated satisfaction of solved tickets, as the engine gave it: read-only."""

    list_display = ["ticket", "score", "probability", "engine", "updated_at"]
    list_filter = ["score", "engine"]
    list_select_related = ["ticket"]
    readonly_fields = [
        "ticket",
        "score",
        "probability",
        "reasons",
        "engine",
        "engine_version",
        "features",
        "created_at",
        "updated_at",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
