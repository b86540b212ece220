from django.contrib import admin, messages

from knowledge.models import Article, FAQSuggestion
from knowledge.services import SuggestionNotPending, faq_suggestion_approve, faq_suggestion_reject


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "category", "translation_of", "published", "updated_at"]
    list_filter = ["published", "language", "category", "external_source"]
    search_fields = ["title", "body"]
    raw_id_fields = ["translation_of"]
    # Kept in step by `manage.py kb_sync` (knowledge/sync), never edited by hand.
    readonly_fields = ["external_source", "external_id", "external_url", "external_updated_at"]


@admin.register(FAQSuggestion)
class FAQSuggestionAdmin(admin.ModelAdmin):
    list_display = ["short_question", "language", "status", "source_ticket", "created_at"]
    list_filter = ["status", "language"]
    search_fields = ["question"]
    fields = [
        "question",
        "proposed_answer",
        "language",
        "source_ticket",
        "status",
        "article",
        "reviewed_by",
        "reviewed_at",
    ]
    readonly_fields = ["source_ticket", "status", "article", "reviewed_by", "reviewed_at"]
    actions = ["approve", "reject"]

    @admin.display(description="Question")
    def short_question(self, obj: FAQSuggestion) -> str:
        return obj.question[:90]

    @admin.action(description="Approve: publish as a KB article")
    def approve(self, request, queryset):
        done = 0
        for suggestion in queryset:
            try:
                faq_suggestion_approve(suggestion_id=suggestion.pk, actor=request.user)
                done += 1
            except (SuggestionNotPending, ValueError) as exc:
                self.message_user(request, f"“{suggestion}”: {exc}", messages.WARNING)
        if done:
            self.message_user(request, f"Published {done} article(s).", messages.SUCCESS)

    @admin.action(description="Reject")
    def reject(self, request, queryset):
        for suggestion in queryset:
            try:
                faq_suggestion_reject(suggestion_id=suggestion.pk, actor=request.user)
            except SuggestionNotPending as exc:
                self.message_user(request, str(exc), messages.WARNING)
