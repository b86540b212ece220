"""The suggestions page: what agents' overrides and repeated edits say admins should change.

Read-only for supervisors; each suggestion links to the admin form that makes the change, for
the people whose role may make it. Computing the suggestions reads thousands of the last 30
days' decisions and events (feedback/suggestions.py), so periodic tasks store them
(`SuggestionSnapshot`) and the page reads what was stored and says how long ago that was;
"Update now" recomputes them at once."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from feedback.models import SuggestionSnapshot
from feedback.selectors import StoredSuggestions, suggestion_snapshots
from feedback.services import edit_suggestions_refresh
from feedback.suggestions import (
    KB_CORRECTION,
    KB_GAP,
    LANGUAGE,
    MACRO,
    POLICY,
    THRESHOLD,
    TONE,
    WINDOW_DAYS,
    Suggestion,
)
from replies.selectors import tone_profile_ids
from supportdesk.inbox.triage_views import supervisor_view
from supportdesk.inbox.views import HtmxHttpRequest
from supportdesk.task_table import SUGGESTIONS_MINUTES
from triage.services import threshold_suggestions_refresh

Source = SuggestionSnapshot.Source

# A macro's title, proposed from its first words.
MACRO_TITLE_WORDS = 8


@dataclass(frozen=True)
class Action:
    label: str
    url: str


@dataclass(frozen=True)
class Listed:
    suggestion: Suggestion
    action: Action | None


@supervisor_view
def suggestions(request: HtmxHttpRequest) -> HttpResponse:
    stored = _stored_suggestions()
    routing = stored[Source.THRESHOLDS].suggestions
    edits = stored[Source.EDITS].suggestions
    tone_ids = tone_profile_ids(locales=[s.language for s in edits if s.kind == TONE])
    context = {
        "routing": [Listed(s, _action(s, request.user, tone_ids)) for s in routing],
        "edits": [Listed(s, _action(s, request.user, tone_ids)) for s in edits],
        "days": WINDOW_DAYS,
        "computed_at": min(s.computed_at for s in stored.values()),
        "every": SUGGESTIONS_MINUTES,
    }
    return render(request, "feedback/suggestions.html", context)


@supervisor_view
@require_POST
def suggestions_update(request: HtmxHttpRequest) -> HttpResponse:
    """Recompute the suggestions now instead of at the next periodic run (bounded samples)."""
    _refresh()
    return redirect("suggestions")


def _stored_suggestions() -> dict[str, StoredSuggestions]:
    stored = suggestion_snapshots()
    if any(source not in stored for source in Source.values):
        # Nothing stored yet (a new desk before the tasks' first run): compute them this once.
        _refresh()
        stored = suggestion_snapshots()
    return stored


def _refresh() -> None:
    threshold_suggestions_refresh()
    edit_suggestions_refresh()


def _admin(name: str, *args: object, query: dict[str, object] | None = None) -> str:
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _action(suggestion: Suggestion, user, tone_ids: dict[str, int]) -> Action | None:
    """Where an admin acts on the suggestion, when this user's role may act there."""
    s = suggestion
    if s.kind == TONE:
        if s.language in tone_ids and user.has_perm("replies.change_toneprofilesetting"):
            return Action(
                gettext("Edit the tone profile"),
                _admin("replies_toneprofilesetting_change", tone_ids[s.language]),
            )
        if s.language not in tone_ids and user.has_perm("replies.add_toneprofilesetting"):
            return Action(
                gettext("Add a tone profile for this locale"),
                _admin("replies_toneprofilesetting_add", query={"locale": s.language}),
            )
    elif s.kind == KB_CORRECTION and user.has_perm("knowledge.change_article"):
        return Action(gettext("Edit the article"), _admin("knowledge_article_change", s.article_id))
    elif s.kind in (KB_GAP, POLICY) and user.has_perm("knowledge.view_article"):
        query = {"category__id__exact": s.category_id} if s.category_id else None
        return Action(
            gettext("Open the category's articles"),
            _admin("knowledge_article_changelist", query=query),
        )
    elif s.kind == LANGUAGE and user.has_perm("replies.view_draft"):
        return Action(
            gettext("Open the drafts in this language"),
            _admin("replies_draft_changelist", query={"language": s.language}),
        )
    elif s.kind == MACRO and user.has_perm("replies.add_macro"):
        title = " ".join(s.body.split()[:MACRO_TITLE_WORDS])[:120]
        query = {"title": title, "key": slugify(title)[:60], "body": s.body}
        if s.language:
            query["language"] = s.language
        return Action(gettext("Add this macro"), _admin("replies_macro_add", query=query))
    elif s.kind == THRESHOLD:
        if s.rule_id is not None and user.has_perm("triage.change_routingrule"):
            return Action(gettext("Edit the rule"), _admin("triage_routingrule_change", s.rule_id))
        if s.rule_id is None and user.has_perm("triage.change_routingsettings"):
            return Action(
                gettext("Edit the routing settings"),
                _admin("triage_routingsettings_changelist"),
            )
    return None
