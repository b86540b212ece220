"""The knowledge base's article pages: the list, and each article with its edit form, version
history, line diffs, revert, and its translations with their review.

Reading needs `knowledge.view_article` (every role); every change needs
`knowledge.change_article` (admins). Each page runs a fixed number of queries whatever the
number of articles, versions or translations."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from knowledge import selectors, services, translations
from knowledge.forms import (
    ArticleEditForm,
    ArticleFilterForm,
    TranslationForm,
    TranslationRejectForm,
    language_label,
)
from knowledge.models import Article, ArticleVersion

LIST_PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 10
# Context lines around each change in a diff.
DIFF_CONTEXT = 2


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def reader_view(view):
    return login_required(permission_required("knowledge.view_article", raise_exception=True)(view))


def editor_view(view):
    return login_required(
        permission_required("knowledge.change_article", raise_exception=True)(view)
    )


# -- the list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranslationCell:
    language: str
    label: str
    state: str
    article: Article | None


@dataclass(frozen=True)
class ListRow:
    article: Article
    language: str  # the article's language, by name
    state: str  # published | unpublished | proposed | to_translate
    # A source's translations, one per supported language but its own; () for a translation.
    cells: tuple[TranslationCell, ...]


def _article_state(article: Article) -> str:
    if article.review:
        return article.review
    return "published" if article.published else "unpublished"


def _cells(source: Article) -> tuple[TranslationCell, ...]:
    languages = translations.translation_languages(source)
    return tuple(
        TranslationCell(
            language=code,
            label=language_label(code),
            state=selectors.translation_state(source, translation),
            article=translation,
        )
        for code, translation in selectors.translations_by_language(source, languages)
    )


@reader_view
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def articles(request: HtmxHttpRequest) -> HttpResponse:
    form = ArticleFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = selectors.article_list(
        q=(data.get("q") or "").strip(),
        language=data.get("language") or "",
        state=data.get("state") or "",
    )
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "rows": [
            ListRow(
                article=a,
                language=language_label(a.language),
                state=_article_state(a),
                cells=() if a.translation_of_id else _cells(a),
            )
            for a in page
        ],
        "query": urlencode({k: v for k, v in data.items() if v}),
    }
    if request.htmx:
        return render(request, "knowledge/articles.html#article-list", context)
    return render(request, "knowledge/articles.html", context)


# -- one article ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "del", "ins" or "gap" (lines left out between changes)
    text: str


@dataclass(frozen=True)
class Diff:
    old: ArticleVersion
    new: ArticleVersion
    title_changed: bool
    lines: tuple[DiffLine, ...]


def line_diff(old: str, new: str, context: int = DIFF_CONTEXT) -> tuple[DiffLine, ...]:
    """The changed lines of `new` against `old` with a little context, as plain text the
    template escapes."""
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=context):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            if lines:
                lines.append(DiffLine("gap", ""))
            continue
        kind = {"-": "del", "+": "ins"}.get(line[:1], "same")
        lines.append(DiffLine(kind, line[1:]))
    return tuple(lines)


@dataclass(frozen=True)
class TranslationRow:
    language: str
    label: str
    state: str
    article: Article | None
    out_of_date: bool
    # The forms the row offers an editor, each with its own prefix (ids stay unique).
    write_form: TranslationForm | None = None
    approve_form: TranslationForm | None = None
    reject_form: TranslationRejectForm | None = None


def _translation_rows(source: Article, can_edit: bool) -> list[TranslationRow]:
    rows = []
    languages = translations.translation_languages(source)
    for code, translation in selectors.translations_by_language(source, languages):
        state = selectors.translation_state(source, translation)
        row = TranslationRow(
            language=code,
            label=language_label(code),
            state=state,
            article=translation,
            out_of_date=translation is not None
            and selectors.translation_out_of_date(source, translation),
        )
        if can_edit and translation is not None:
            prefix = f"t{translation.pk}"
            initial = {"title": translation.title, "body": translation.body}
            if state == selectors.T_TO_TRANSLATE:
                if not translation.body:
                    initial = {"title": "", "body": ""}
                row = _with(row, write_form=TranslationForm(prefix=prefix, initial=initial))
            elif state == selectors.T_PROPOSED:
                row = _with(
                    row,
                    approve_form=TranslationForm(prefix=prefix, initial=initial),
                    reject_form=TranslationRejectForm(prefix=prefix),
                )
        rows.append(row)
    return rows


def _with(row: TranslationRow, **forms) -> TranslationRow:
    return TranslationRow(**{**row.__dict__, **forms})


def _article_or_404(pk: int) -> Article:
    article = selectors.article_detail(pk=pk)
    if article is None:
        raise Http404(_("There is no such article."))
    return article


@reader_view
@require_http_methods(["GET", "POST"])
def article(request: HttpRequest, pk: int) -> HttpResponse:
    """The article; POST saves the edit form as a new version (editors only)."""
    article = _article_or_404(pk)
    can_edit = request.user.has_perm("knowledge.change_article")
    status = 200
    form = None
    if can_edit and not article.review:
        form = ArticleEditForm(
            initial={"title": article.title, "body": article.body, "version": article.version}
        )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if article.review:
            messages.error(request, _("Review this translation on its source's page."))
            return redirect("knowledge-article", pk=article.pk)
        form = ArticleEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if data["version"] != article.version:
                form.add_error(
                    None,
                    _(
                        "Someone saved version %(number)s while you were editing. Your text "
                        "is still here: compare it with the history below, then save again."
                    )
                    % {"number": article.version},
                )
                form.data = form.data.copy()
                form.data["version"] = article.version
            else:
                source_version = None
                if data.get("up_to_date") and article.translation_of_id:
                    source_version = article.translation_of.version
                try:
                    saved = services.article_update(
                        article_id=article.pk,
                        author=request.user,
                        title=data["title"],
                        body=data["body"],
                        note=data["note"],
                        source_version=source_version,
                    )
                except ValueError as exc:
                    form.add_error(None, str(exc))
                else:
                    if saved.version != article.version:
                        messages.success(
                            request,
                            _("Saved as version %(number)s.") % {"number": saved.version},
                        )
                    else:
                        messages.info(request, _("Nothing changed; no new version."))
                    return redirect("knowledge-article", pk=article.pk)
        status = 400

    versions = Paginator(selectors.article_versions(article=article), HISTORY_PAGE_SIZE)
    history = versions.get_page(request.GET.get("page"))
    diff = None
    compare = request.GET.get("compare", "")
    if compare.isdigit():
        pair = selectors.version_pair(article=article, number=int(compare))
        if pair is not None:
            old, new = pair
            diff = Diff(
                old=old,
                new=new,
                title_changed=old.title != new.title,
                lines=line_diff(old.body, new.body),
            )
    source = article.translation_of
    translation_rows = [] if source is not None else _translation_rows(article, can_edit)
    context = {
        "article": article,
        "source": source,
        "state": _article_state(article),
        "out_of_date": source is not None and selectors.translation_out_of_date(source, article),
        "language": language_label(article.language),
        "can_edit": can_edit,
        "form": form,
        "history": history,
        "diff": diff,
        "compare": compare,
        "translation_rows": translation_rows,
        "missing_count": sum(row.state == selectors.T_MISSING for row in translation_rows),
        "supported": article.language.lower()
        in {code.lower() for code in settings.SUPPORTED_LANGUAGES},
    }
    return render(request, "knowledge/article.html", context, status=status)


@editor_view
@require_POST
def article_revert(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    article = _article_or_404(pk)
    if article.review:
        messages.error(request, _("Review this translation on its source's page."))
        return redirect("knowledge-article", pk=article.pk)
    if not ArticleVersion.objects.filter(article=article, number=number).exists():
        raise Http404(_("There is no such version."))
    saved = services.article_revert(article_id=article.pk, number=number, author=request.user)
    if saved.version == article.version:
        messages.info(request, _("That version is the current text already."))
    else:
        messages.success(
            request,
            _("Version %(old)s is the current text again, as version %(new)s.")
            % {"old": number, "new": saved.version},
        )
    return redirect("knowledge-article", pk=article.pk)


# -- translations --------------------------------------------------------------------------------


def _back_to_translations(source_id: int) -> HttpResponse:
    return redirect(f"{reverse('knowledge-article', args=[source_id])}#translations")


def _translation_or_404(pk: int) -> Article:
    translation = Article.objects.filter(pk=pk, translation_of__isnull=False).first()
    if translation is None:
        raise Http404(_("There is no such translation."))
    return translation


@editor_view
@require_POST
def translation_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose the article's translation into one language (or every missing one)."""
    source = _article_or_404(pk)
    if source.translation_of_id is not None:
        raise Http404(_("Translations are proposed for the source article."))
    language = request.POST.get("language", "")
    supported = {code.lower(): code for code in translations.translation_languages(source)}
    if language and language.lower() not in supported:
        raise Http404(_("That language is not one the desk supports."))
    languages = [supported[language.lower()]] if language else None
    translations.translations_propose_later(article_id=source.pk, languages=languages)
    messages.info(
        request,
        _(
            "The translation is being proposed. It appears here for review when it is ready; "
            "reload the page in a moment."
        ),
    )
    return _back_to_translations(source.pk)


@editor_view
@require_POST
def translation_write(request: HttpRequest, pk: int) -> HttpResponse:
    translation = _translation_or_404(pk)
    form = TranslationForm(request.POST, prefix=f"t{translation.pk}")
    if not form.is_valid():
        messages.error(request, _("A translation needs a title and a text."))
        return _back_to_translations(translation.translation_of_id)
    try:
        translations.translation_write(
            article_id=translation.pk,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            author=request.user,
        )
    except (translations.TranslationNotPending, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your translation is saved; it is published once approved."))
    return _back_to_translations(translation.translation_of_id)


@editor_view
@require_POST
def translation_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve as proposed, or with the reviewer's edits when the form carries them."""
    translation = _translation_or_404(pk)
    title = body = None
    if request.POST.get("edited"):
        form = TranslationForm(request.POST, prefix=f"t{translation.pk}")
        if not form.is_valid():
            messages.error(request, _("A translation needs a title and a text."))
            return _back_to_translations(translation.translation_of_id)
        title, body = form.cleaned_data["title"], form.cleaned_data["body"]
    try:
        translations.translation_approve(
            article_id=translation.pk, actor=request.user, title=title, body=body
        )
    except (translations.TranslationNotPending, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The %(language)s translation is published.")
            % {"language": language_label(translation.language)},
        )
    return _back_to_translations(translation.translation_of_id)


@editor_view
@require_POST
def translation_reject(request: HttpRequest, pk: int) -> HttpResponse:
    translation = _translation_or_404(pk)
    form = TranslationRejectForm(request.POST, prefix=f"t{translation.pk}")
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        translations.translation_reject(
            article_id=translation.pk, actor=request.user, reason=reason
        )
    except translations.TranslationNotPending as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Rejected: the translation now waits for a translator."))
    return _back_to_translations(translation.translation_of_id)
