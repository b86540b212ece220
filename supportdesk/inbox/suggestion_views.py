"""The suggestions page: what agents' overrides and repeated edits say admins should change.

Read-only for supervisors; each suggestion links to the admin form that makes the change, for
the people whose role may make it. Computing the suggestions reads thousands of the last 30
days' decisions and events (feedback/suggestions.py), so periodic tasks store them
(`SuggestionSnapshot`) and the page reads what was stored and says how long ago that was;
"Update now" recomputes them at once. The rendered lists (up to 20 decisions behind each
suggestion, hundreds of rows on a busy desk) are cached per stored result, language, time zone
and what the reader may do, so a view costs the same however much feedback there is."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
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
# A rendered list is keyed by the stored result it shows: a newer result is a new key.
LIST_CACHE_SECONDS = 60 * 60


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
    edits = stored[Source.EDITS].suggestions
    tone_ids = tone_profile_ids(locales=[s.language for s in edits if s.kind == TONE])
    listed = {
        source: [Listed(s, _action(s, request.user, tone_ids)) for s in snapshot.suggestions]
        for source, snapshot in stored.items()
    }
    rendered = _rendered_lists(stored, listed)
    context = {
        "routing": rendered[Source.THRESHOLDS],
        "edits": rendered[Source.EDITS],
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


def _rendered_lists(
    stored: dict[str, StoredSuggestions], listed: dict[str, list[Listed]]
) -> dict[str, SafeString]:
    """Each source's suggestions as HTML, with the decisions behind each (hundreds of rows on a
    busy desk). One cache read for both; rendered, and cached, only for a stored result not yet
    shown in this language and time zone (times are the reader's) with these actions (what the
    reader's role may do)."""
    language, zone = translation.get_language(), timezone.get_current_timezone_name()
    keys = {}
    for source, snapshot in stored.items():
        parts = (source, snapshot.computed_at, language, zone, [i.action for i in listed[source]])
        keys[source] = "suggestion-list:" + hashlib.sha256(repr(parts).encode()).hexdigest()
    cached = cache.get_many(list(keys.values()))
    rendered = {}
    for source, key in keys.items():
        html = cached.get(key)
        if html is None:
            items = [
                Listed(s, i.action)
                for s, i in zip(stored[source].with_evidence(), listed[source], strict=True)
            ]
            html = render_to_string("feedback/suggestions.html#suggestion-list", {"items": items})
            cache.set(key, html, LIST_CACHE_SECONDS)
        rendered[source] = mark_safe(html)  # rendered above by the template, which escapes
    return rendered


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
