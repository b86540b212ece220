"""Knowledge base articles, their versions, and the FAQ suggestions that grow the base from the
questions it could not answer (knowledge gaps, clustered by meaning)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Article(models.Model):
    class Review(models.TextChoices):
        """Where a translation stands. Only a reviewed article may be published: retrieval and
        the answer model never read a proposal or a task (the `article_review_unpublished`
        constraint holds it in the database too)."""

        REVIEWED = "", _("Reviewed")
        PROPOSED = "proposed", _("Proposal awaiting review")
        TO_TRANSLATE = "to_translate", _("Waiting for a translator")

    class ExternalSource(models.TextChoices):
        NONE = "", _("Written here")
        NOTION = "notion", _("Notion")
        CONFLUENCE = "confluence", _("Confluence")
        ZENDESK = "zendesk", _("Zendesk Help Center")

    title = models.CharField(max_length=250)
    body = models.TextField()
    language = models.CharField(max_length=35, db_index=True)
    category = models.ForeignKey(
        "supportdesk.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    translation_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="translations"
    )
    # Retrieval and the answer model only ever read published articles.
    published = models.BooleanField(default=True)
    # The number of the article's current version (ArticleVersion); every change of its title
    # or body is a new version.
    version = models.PositiveIntegerField(default=1)
    review = models.CharField(max_length=15, choices=Review.choices, blank=True, default="")
    # Why a translation is where it is ("Written by the language model", "LLM fallback:
    # timeout", "Rejected by ada: …"); shown next to it.
    review_note = models.CharField(max_length=250, blank=True)
    # The source's version this translation translates: older than the source's current
    # version means the translation is out of date. None for sources.
    source_version = models.PositiveIntegerField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Where the article is kept in step with (knowledge/sync): the source, the article's id
    # there, its address, and when the source last changed it as of the last sync.
    external_source = models.CharField(
        max_length=20, choices=ExternalSource.choices, blank=True, default=ExternalSource.NONE
    )
    external_id = models.CharField(max_length=100, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    external_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["published", "language"], name="article_published")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published=False) | models.Q(review=""),
                name="article_review_unpublished",
                violation_error_message=_(
                    "A translation awaiting review cannot be published: approve it on its "
                    "source article's page."
                ),
            ),
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~models.Q(external_source=""),
                name="article_external_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


class ArticleVersion(models.Model):
    """One state of an article's title and body, kept for its history, diff and revert."""

    class Change(models.TextChoices):
        CREATED = "created", pgettext_lazy("an article's change", "Created")
        EDITED = "edited", _("Edited")
        REVERTED = "reverted", _("Reverted")
        MERGED = "merged", _("FAQ merged in")
        SYNCED = "synced", _("Synced")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=250)
    body = models.TextField()
    change = models.CharField(max_length=10, choices=Change.choices)
    note = models.CharField(max_length=250, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class FAQSuggestion(models.Model):
    """A cluster of knowledge gaps: customers asking, in any language, one question the knowledge
    base has no good answer for. An admin edits its proposed answer and approves it into an
    article, merges it into an existing one, or rejects it with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        MERGED = "merged", _("Merged into an article")
        REJECTED = "rejected", _("Rejected")

    class AnswerSource(models.TextChoices):
        NONE = "", _("No answer yet")
        AGENTS = "agents", _("From agents' replies")
        LLM = "llm", _("Written by the language model from agents' replies")
        PERSON = "person", _("Written by an admin")

    # The cluster's most typical question, with personal data removed.
    question = models.TextField()
    title = models.CharField(max_length=250, blank=True)
    proposed_answer = models.TextField(blank=True)
    answer_source = models.CharField(
        max_length=10, choices=AnswerSource.choices, blank=True, default=AnswerSource.NONE
    )
    # The language most of the cluster's customers wrote in: the article's language.
    language = models.CharField(max_length=35, blank=True)
    # The ticket whose question started the cluster.
    source_ticket = models.ForeignKey(
        "supportdesk.Ticket", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reject_reason = models.TextField(blank=True)
    # The article it was published as, or merged into.
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Kept up to date as gaps join: what the review list sorts and shows.
    gap_count = models.PositiveIntegerField(default=0)
    last_gap_at = models.DateTimeField(default=timezone.now)
    # The mean meaning vector of the cluster's questions, and the encoder it is from ("" for the
    # word-based fallback, whose clusters are matched on words instead).
    centroid = models.JSONField(default=dict, blank=True)
    vector_model = models.CharField(max_length=40, blank=True)
    # Existing articles this suggestion may duplicate or contradict: a list of
    # {"kind": "duplicate" | "contradiction", "article_id", "title", "detail"}.
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-last_gap_at"]
        verbose_name = "FAQ suggestion"
        indexes = [
            models.Index(fields=["status", "-created_at"], name="faq_status"),
            models.Index(fields=["status", "-gap_count", "-last_gap_at"], name="faq_review_order"),
        ]

    def __str__(self) -> str:
        return (self.title or self.question)[:80]


class KnowledgeGap(models.Model):
    """One customer message the knowledge base had no good answer for: the unit a suggestion
    clusters. One per message, whichever signal saw it first."""

    class Reason(models.TextChoices):
        NO_ANSWER = "no_answer", _("No article answers it")
        WEAK_ANSWER = "weak_answer", _("Only a weak match")
        AGENT_ANSWERED = "agent_answered", _("An agent wrote the answer")
        FACTS_REWRITTEN = "facts_rewritten", _("An agent corrected the draft's facts")

    suggestion = models.ForeignKey(FAQSuggestion, on_delete=models.CASCADE, related_name="gaps")
    ticket = models.ForeignKey("supportdesk.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        "supportdesk.Message", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # The question as the customer asked it, with personal data removed.
    question = models.TextField()
    language = models.CharField(max_length=35, blank=True)
    # The article the draft matched, and how sure retrieval was, when it matched one.
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["suggestion", "-created_at"], name="gap_suggestion")]

    def __str__(self) -> str:
        return self.question[:80]
