"""Knowledge base articles and the FAQ suggestions that grow it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Article(models.Model):
    title = models.CharField(max_length=250)
    body = models.TextField()
    language = models.CharField(max_length=35, db_index=True)
    category = models.ForeignKey(
        "supportdesk.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    translation_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="translations"
    )
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["published", "language"], name="article_published")]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


class FAQSuggestion(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    question = models.TextField()
    proposed_answer = models.TextField(blank=True)
    language = models.CharField(max_length=35, blank=True)
    source_ticket = models.ForeignKey(
        "supportdesk.Ticket", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "FAQ suggestion"
        indexes = [models.Index(fields=["status", "-created_at"], name="faq_status")]

    def __str__(self) -> str:
        return self.question[:80]
