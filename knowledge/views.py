"""The FAQ review pages for admins: suggestions grown from the questions the knowledge base
could not answer, most asked first; each can be edited, published as an article, merged into
an existing article, or rejected with a reason. Publishing drafts the waiting tickets again
(replies.gaps); the list moves on to the next suggestion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from knowledge.engine import faq
from knowledge.forms import MergeForm, RejectForm, SuggestionForm, language_label
from knowledge.models import Article, FAQSuggestion
from knowledge.selectors import (
    merge_candidates,
    next_pending_suggestion,
    suggestion_gaps,
    suggestion_languages,
    suggestion_trends,
    suggestions_for_review,
)
from knowledge.services import (
    SuggestionNotPending,
    faq_suggestion_approve,
    faq_suggestion_merge,
    faq_suggestion_reject,
    faq_suggestion_save,
)

PAGE_SIZE = 25
GAPS_PAGE_SIZE = 20
ORDERS = ("asked", "recent")


def reviewer_view(view):
    return login_required(
        permission_required("knowledge.change_faqsuggestion", raise_exception=True)(view)
    )


@reviewer_view
def review(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", FAQSuggestion.Status.PENDING)
    if status not in FAQSuggestion.Status.values:
        status = FAQSuggestion.Status.PENDING
    order = request.GET.get("order") if request.GET.get("order") in ORDERS else "asked"
    page = Paginator(suggestions_for_review(status=status, order=order), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    trends = suggestion_trends([s.pk for s in page])
    rows = [
        {
            "suggestion": s,
            "trend": trends[s.pk],
            "languages": [(code, language_label(code), n) for code, n in suggestion_languages(s)],
            # The customers' question under the title, when the title does not already say it.
            "question": "" if s.title == faq.title_from_question(s.question) else s.question,
        }
        for s in page
    ]
    return render(
        request,
        "knowledge/review.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "order": order,
            "statuses": FAQSuggestion.Status.choices,
            "counts": _status_counts(),
        },
    )


def _status_counts() -> dict[str, int]:
    rows = FAQSuggestion.objects.values("status").annotate(n=Count("pk")).order_by()
    return {r["status"]: r["n"] for r in rows}


@reviewer_view
@require_http_methods(["GET", "POST"])
def suggestion(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(FAQSuggestion, pk=pk)
    form = SuggestionForm(
        request.POST if request.POST.get("action") in ("save", "approve") else None,
        initial={
            "title": item.title or item.question[:250],
            "answer": item.proposed_answer,
            "language": item.language,
        },
    )
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    merge_form = MergeForm(request.POST if request.POST.get("action") == "merge" else None)
    if request.method == "POST":
        done = _act(request, item, form=form, reject_form=reject_form, merge_form=merge_form)
        if done is not None:
            return done
    gaps = Paginator(suggestion_gaps(item), GAPS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/suggestion.html",
        {
            "item": item,
            "form": form,
            "reject_form": reject_form,
            "merge_form": merge_form,
            "gaps": gaps,
            "languages": [
                (code, language_label(code), n) for code, n in suggestion_languages(item)
            ],
            "candidates": merge_candidates(item) if item.status == "pending" else [],
            "trend": suggestion_trends([item.pk])[item.pk],
            "pending": item.status == FAQSuggestion.Status.PENDING,
        },
        status=400 if request.method == "POST" else 200,
    )


def _act(request, item, *, form, reject_form, merge_form) -> HttpResponse | None:
    """Carry out the posted action; a response on success, None to show the page again with
    the form's errors."""
    action = request.POST.get("action")
    try:
        if action == "save" and form.is_valid():
            faq_suggestion_save(suggestion_id=item.pk, actor=request.user, **_entry(form))
            messages.success(request, _("Saved. It is still waiting for review."))
            return redirect("knowledge-suggestion", pk=item.pk)
        if action == "approve" and form.is_valid():
            article = faq_suggestion_approve(
                suggestion_id=item.pk, actor=request.user, **_entry(form)
            )
            messages.success(
                request,
                _("Published “%(title)s”. Waiting tickets that asked it get a new draft.")
                % {"title": article.title},
            )
            return _next(item)
        if action == "merge" and merge_form.is_valid():
            article = Article.objects.filter(
                pk=merge_form.cleaned_data["article"], published=True
            ).first()
            if article is None:
                merge_form.add_error("article", _("Choose a published article."))
                return None
            answer = request.POST.get("answer", "")
            faq_suggestion_merge(
                suggestion_id=item.pk, article_id=article.pk, actor=request.user, answer=answer
            )
            messages.success(
                request,
                _("Added to “%(title)s”. Waiting tickets that asked it get a new draft.")
                % {"title": article.title},
            )
            return _next(item)
        if action == "reject" and reject_form.is_valid():
            faq_suggestion_reject(
                suggestion_id=item.pk, actor=request.user, reason=reject_form.cleaned_data["reason"]
            )
            messages.success(
                request, _("Rejected. Later questions like it will not raise it again.")
            )
            return _next(item)
    except SuggestionNotPending as exc:
        messages.error(request, str(exc))
        return redirect("knowledge-suggestion", pk=item.pk)
    except ValueError as exc:
        form.add_error(None, str(exc))
    return None


def _entry(form: SuggestionForm) -> dict:
    data = form.cleaned_data
    return {"title": data["title"], "answer": data["answer"], "language": data["language"]}


def _next(item: FAQSuggestion) -> HttpResponse:
    following = next_pending_suggestion(item)
    if following is None:
        return redirect(reverse("knowledge-review"))
    return redirect("knowledge-suggestion", pk=following.pk)
