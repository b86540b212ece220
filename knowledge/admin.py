from django.contrib import admin, messages
from django.utils.translation import gettext

from knowledge.models import Article, FAQSuggestion
from knowledge.services import (
    SuggestionNotPending,
    articles_delete,
    faq_suggestion_approve,
    faq_suggestion_reject,
)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title", "language", "category", "translation_of", "published", "review", "updated_at"
    ]  # fmt: skip
    list_filter = ["published", "review", "language", "category", "external_source"]
    search_fields = ["title", "body"]
    raw_id_fields = ["translation_of"]
    # A translation's review happens on the article pages (knowledge/article_views.py), which
    # keep its history, and the external fields are kept in step by `manage.py kb_sync`
    # (knowledge/sync): here they are only shown.
    readonly_fields = [
        "review", "review_note", "source_version", "reviewed_by", "reviewed_at",
        "external_source", "external_id", "external_url", "external_updated_at",
    ]  # fmt: skip

    def delete_model(self, request, obj: Article) -> None:
        articles_delete(article_ids=[obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        articles_delete(article_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(FAQSuggestion)
class FAQSuggestionAdmin(admin.ModelAdmin):
    list_display = ["short_question", "language", "status", "gap_count", "last_gap_at"]
    list_filter = ["status", "language"]
    search_fields = ["question"]
    fields = [
        "question",
        "title",
        "proposed_answer",
        "language",
        "gap_count",
        "source_ticket",
        "status",
        "reject_reason",
        "article",
        "reviewed_by",
        "reviewed_at",
    ]
    readonly_fields = [
        "gap_count",
        "source_ticket",
        "status",
        "reject_reason",
        "article",
        "reviewed_by",
        "reviewed_at",
    ]
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
                faq_suggestion_reject(
                    suggestion_id=suggestion.pk,
                    actor=request.user,
                    reason=gettext("Rejected from the admin's list"),
                )
            except SuggestionNotPending as exc:
                self.message_user(request, str(exc), messages.WARNING)
