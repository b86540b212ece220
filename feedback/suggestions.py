"""Suggestions for admins, learnt from what agents did to the AI's output in a recent window.

Two kinds, each with the events behind it:

- Repeated edits: ``draft_edited`` events grouped by the reason the agent gave and what the
  edit shares (locale, cited article, category), one suggestion per group of at least
  ``MIN_EDITS``: review a tone profile, correct a KB article, check language handling, review a
  policy; and text agents keep adding by hand (similar added lines across edits, compared by
  normalised token overlap) becomes a proposed macro.
- Routing thresholds: ``suggest_threshold`` takes one observation per routed ticket (the
  confidence the threshold reads, and whether a person overrode the automation) and finds the
  lowest threshold at which the override rate stays within ``OVERRIDE_TARGET``. The routing
  room reads the observations (``triage.selectors.routing_threshold_suggestions``), since the
  thresholds and decisions are its own.

Reads only, over the newest events of the window (bounded; the (kind, created_at) index
serves them). Nothing here writes: an admin acts on a suggestion in the admin.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from feedback.models import FeedbackEvent

WINDOW_DAYS = 30
# A group needs this many edits before it is a pattern rather than a one-off.
MIN_EDITS = 3
# The events shown behind one suggestion, newest first.
EVIDENCE_SHOWN = 20
# The newest edits read per window: enough for patterns, bounded at any volume.
EDIT_SAMPLE = 2000
# An added line this close to a removed one of the same edit rewords it rather than adds.
REWORDED = 0.5
# Two added passages are "the same text" at this Jaccard overlap of their tokens.
SIMILAR_TEXT = 0.6
# Shorter added passages ("Thanks!", a name) say nothing a macro could hold.
MIN_TOKENS = 4
# A threshold should leave at most this share of its automated tickets overridden by people.
OVERRIDE_TARGET = 0.10

TONE = "tone"
KB_CORRECTION = "kb_correction"
KB_GAP = "kb_gap"
MACRO = "macro"
LANGUAGE = "language"
POLICY = "policy"
THRESHOLD = "threshold"

Reason = FeedbackEvent.EditReason


@dataclass(frozen=True)
class Evidence:
    """One event behind a suggestion."""

    event_id: int
    ticket_id: int
    kind: str
    actor: str
    created_at: datetime
    reason: str = ""
    diff: str = ""
    confidence: float | None = None

    @property
    def reason_label(self) -> str:
        return FeedbackEvent.EditReason(self.reason).label if self.reason else ""

    @property
    def kind_label(self) -> str:
        return FeedbackEvent.Kind(self.kind).label

    def as_json(self) -> dict:
        return {**asdict(self), "created_at": self.created_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> Evidence:
        return cls(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


@dataclass(frozen=True)
class Suggestion:
    kind: str
    count: int  # events behind it in the window (``evidence`` shows the newest of them)
    evidence: tuple[Evidence, ...]
    # What the title and proposal name (a locale, an article, the numbers). They are worded
    # when read, in the reader's language: a stored suggestion reads in any of the desk's.
    words: dict[str, str | int] = field(default_factory=dict)
    language: str = ""
    category_id: int | None = None
    article_id: int | None = None
    body: str = ""  # the proposed macro text
    rule_id: int | None = None  # a routing rule's threshold; None: the routing settings'
    current: float | None = None
    suggested: float | None = None

    @property
    def title(self) -> str:
        return _worded(self)[0]

    @property
    def proposal(self) -> str:
        """The change, in words."""
        return _worded(self)[1]

    def as_json(self) -> dict:
        """All but the evidence, which is stored apart (feedback.models.SuggestionSnapshot)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "evidence"}

    @classmethod
    def from_json(cls, data: dict, evidence: Iterable[dict] = ()) -> Suggestion:
        return cls(**data, evidence=tuple(Evidence.from_json(e) for e in evidence))


# Each kind's title and proposal (a threshold's: raising or lowering it), filled with its words.
_WORDING = {
    TONE: (
        gettext_noop("Review the tone profile for %(locale)s"),
        gettext_noop(
            "Agents changed the tone of %(count)s drafts in %(locale)s: adjust the "
            "greeting, closing or register of this locale's tone profile."
        ),
    ),
    KB_CORRECTION: (
        gettext_noop("Correct the KB article “%(title)s”"),
        gettext_noop(
            "%(count)s drafts that cited this article had their facts corrected by "
            "agents: compare the edits with the article and fix it."
        ),
    ),
    KB_GAP: (
        gettext_noop("Check the knowledge base for %(category)s"),
        gettext_noop(
            "%(count)s drafts that cited no article had their facts corrected: an "
            "article on this is missing or was not found."
        ),
    ),
    LANGUAGE: (
        gettext_noop("Check language detection and translation for %(locale)s"),
        gettext_noop(
            "Agents fixed the language of %(count)s drafts written in %(locale)s: the "
            "customer's language may be detected wrongly, or the translation is poor."
        ),
    ),
    POLICY: (
        gettext_noop("Review the policy for %(category)s"),
        gettext_noop(
            "Agents changed %(count)s drafts for policy reasons: the articles and "
            "rules the drafts follow for this category may be out of date."
        ),
    ),
    MACRO: (
        gettext_noop("Make a macro from text agents keep adding (%(locale)s)"),
        gettext_noop(
            "%(count)s edits added this text by hand (%(missing)s of them marked “missing step”)."
        ),
    ),
    (THRESHOLD, "raise"): (
        gettext_noop("Raise %(name)s from %(current)s to %(suggested)s"),
        gettext_noop(
            "%(n)s of %(m)s tickets between %(current)s and %(suggested)s were %(over)s; at "
            "%(suggested)s and above, %(kept_over)s of %(kept)s were (target: at most "
            "%(target)s)."
        ),
    ),
    (THRESHOLD, "lower"): (
        gettext_noop("Lower %(name)s from %(current)s to %(suggested)s"),
        gettext_noop(
            "%(approved)s of %(m)s tickets between %(suggested)s and %(current)s had their "
            "draft approved as written; at %(suggested)s and above, %(kept_over)s of %(kept)s "
            "were %(over)s (target: at most %(target)s)."
        ),
    ),
}
# The thresholds a routing suggestion moves, and what people did that counts against each.
CATEGORY_THRESHOLD = "category"
DRAFT_THRESHOLD = "draft"
RULE_THRESHOLD = "rule"
_THRESHOLD_NAMES = {
    CATEGORY_THRESHOLD: gettext_noop("the auto-send category confidence"),
    DRAFT_THRESHOLD: gettext_noop("the auto-send draft confidence"),
    RULE_THRESHOLD: gettext_noop("the confidence below which “%(rule)s” sends tickets to a person"),
}
_OVERRIDE_WORDS = {
    CATEGORY_THRESHOLD: gettext_noop("taken over or followed up"),
    DRAFT_THRESHOLD: gettext_noop("taken over or followed up"),
    RULE_THRESHOLD: gettext_noop("edited, escalated or re-routed"),
}


def _worded(s: Suggestion) -> tuple[str, str]:
    words: dict[str, object] = {"count": s.count, **s.words}
    key: object = s.kind
    if s.kind in (KB_GAP, POLICY):
        words["category"] = words.get("category") or gettext("no category")
    elif s.kind == THRESHOLD:
        threshold = str(words["threshold"])
        words["name"] = gettext(_THRESHOLD_NAMES[threshold]) % {"rule": words.get("rule", "")}
        words["over"] = gettext(_OVERRIDE_WORDS[threshold])
        key = (THRESHOLD, "raise" if (s.suggested or 0) > (s.current or 0) else "lower")
    title, proposal = _WORDING[key]
    return gettext(title) % words, gettext(proposal) % words


def window_start(*, days: int = WINDOW_DAYS, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


# ---- text: added passages and their overlap -------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces: a "word" is a whole clause, so compare character pairs.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


def tokens(text: str) -> frozenset[str]:
    """Lower-cased words; runs of Chinese, Japanese, Korean or Thai as character pairs."""
    found: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if _UNSPACED.search(word) and len(word) > 1:
            found.update(word[i : i + 2] for i in range(len(word) - 1))
        else:
            found.add(word)
    return frozenset(found)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two token sets."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def added_passages(diff: str) -> list[str]:
    """The lines a unified diff (``text_diff``) adds, each on its own: an agent who adds the
    same step everywhere often changes the line around it too (a sign-off, a greeting). A line
    that rewrites one the draft had (most of its words are the removed line's) is a change of
    wording, not text the agent added: it is left out."""
    lines = diff.splitlines()
    removed = [
        tokens(line[1:])
        for line in lines
        if line.startswith("-") and not line.startswith("---") and line[1:].strip()
    ]
    added = []
    for line in lines:
        text = line[1:].strip()
        if not line.startswith("+") or line.startswith("+++") or not text:
            continue
        words = tokens(text)
        if any(overlap(words, before) >= REWORDED for before in removed):
            continue
        added.append(text)
    return added


@dataclass
class _Cluster:
    seed: frozenset[str]
    texts: list[str]
    event_ids: list[int]


def similar_passages(
    passages: Iterable[tuple[int, str]], *, similar: float = SIMILAR_TEXT
) -> list[_Cluster]:
    """Group (event id, passage) pairs, newest first, into clusters of similar text. Greedy:
    a passage joins the first cluster whose seed it overlaps by ``similar``. An inverted index
    of seed tokens keeps the comparisons to clusters that share a word."""
    clusters: list[_Cluster] = []
    by_token: dict[str, list[int]] = defaultdict(list)
    for event_id, text in passages:
        words = tokens(text)
        if len(words) < MIN_TOKENS:
            continue
        shared: Counter[int] = Counter()
        for word in words:
            shared.update(by_token.get(word, ()))
        best, best_score = None, similar
        for index, n in shared.items():
            seed = clusters[index].seed
            score = n / (len(words) + len(seed) - n)
            if score >= best_score:
                best, best_score = index, score
        if best is None:
            clusters.append(_Cluster(words, [text], [event_id]))
            for word in words:
                by_token[word].append(len(clusters) - 1)
        else:
            clusters[best].texts.append(text)
            clusters[best].event_ids.append(event_id)
    return clusters


def _body_of(cluster: _Cluster, *, compared: int = 50) -> str:
    """The wording closest to all the others (the newest of equals): what the agents' additions
    have in common, not one agent's variant of it."""
    texts = cluster.texts[:compared]
    words = [tokens(t) for t in texts]

    def closeness(i: int) -> float:
        return sum(overlap(words[i], other) for j, other in enumerate(words) if j != i)

    return texts[max(range(len(texts)), key=lambda i: (closeness(i), -i))].strip()


# ---- repeated edits -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edit:
    evidence: Evidence
    language: str
    category_id: int | None
    category: str
    article_id: int | None
    article: str


def _recent_edits(*, since: datetime) -> list[_Edit]:
    """The newest ``EDIT_SAMPLE`` edits since `since`, newest first. One query on the
    (kind, created_at) index, with the draft, ticket, category and editor joined."""
    rows = (
        FeedbackEvent.objects.filter(kind=FeedbackEvent.Kind.DRAFT_EDITED, created_at__gte=since)
        .order_by("-created_at", "-pk")
        .values_list(
            "pk",
            "ticket_id",
            "actor__username",
            "created_at",
            "reason",
            "diff",
            "draft__language",
            "draft__citations",
            "ticket__language",
            "ticket__category_id",
            "ticket__category__name",
        )[:EDIT_SAMPLE]
    )
    edits = []
    for row in rows:
        pk, ticket_id, actor, at, reason, diff, language, citations = row[:8]
        ticket_language, category_id, category = row[8:]
        first = citations[0] if isinstance(citations, list) and citations else {}
        first = first if isinstance(first, dict) else {}
        edits.append(
            _Edit(
                evidence=Evidence(
                    pk, ticket_id, FeedbackEvent.Kind.DRAFT_EDITED, actor or "", at, reason, diff
                ),
                language=language or ticket_language or "",
                category_id=category_id,
                category=category or "",
                article_id=first.get("article_id"),
                article=first.get("title") or "",
            )
        )
    return edits


def _evidence(edits: Sequence[_Edit]) -> tuple[Evidence, ...]:
    return tuple(e.evidence for e in edits[:EVIDENCE_SHOWN])


def _grouped(edits: Iterable[_Edit], reason: str, key) -> dict[object, list[_Edit]]:
    groups: dict[object, list[_Edit]] = defaultdict(list)
    for edit in edits:
        if edit.evidence.reason == reason:
            groups[key(edit)].append(edit)
    return {k: v for k, v in groups.items() if len(v) >= MIN_EDITS}


def edit_suggestions(*, days: int = WINDOW_DAYS, now: datetime | None = None) -> list[Suggestion]:
    """Suggestions from repeated edits in the last `days` days, most edits first. One query."""
    edits = _recent_edits(since=window_start(days=days, now=now))
    found: list[Suggestion] = []

    for language, group in _grouped(edits, Reason.TONE, lambda e: e.language).items():
        found.append(
            Suggestion(
                kind=TONE,
                count=len(group),
                evidence=_evidence(group),
                words={"locale": language},
                language=language,
            )
        )

    facts = _grouped(edits, Reason.WRONG_FACTS, lambda e: (e.article_id, e.category_id))
    for (article_id, category_id), group in facts.items():
        if article_id is not None:
            found.append(
                Suggestion(
                    kind=KB_CORRECTION,
                    count=len(group),
                    evidence=_evidence(group),
                    words={"title": group[0].article or f"#{article_id}"},
                    article_id=article_id,
                    category_id=category_id,
                )
            )
        else:
            found.append(
                Suggestion(
                    kind=KB_GAP,
                    count=len(group),
                    evidence=_evidence(group),
                    words={"category": group[0].category},
                    category_id=category_id,
                )
            )

    for language, group in _grouped(edits, Reason.LANGUAGE, lambda e: e.language).items():
        found.append(
            Suggestion(
                kind=LANGUAGE,
                count=len(group),
                evidence=_evidence(group),
                words={"locale": language},
                language=language,
            )
        )

    for category_id, group in _grouped(edits, Reason.POLICY, lambda e: e.category_id).items():
        found.append(
            Suggestion(
                kind=POLICY,
                count=len(group),
                evidence=_evidence(group),
                words={"category": group[0].category},
                category_id=category_id,
            )
        )

    found.extend(_macro_suggestions(edits))
    return sorted(found, key=lambda s: (-s.count, s.kind, s.title))


def _macro_suggestions(edits: Sequence[_Edit]) -> list[Suggestion]:
    """Text agents keep adding by hand, per language: one macro per cluster of similar added
    passages found in ``MIN_EDITS`` different edits. Missing-step edits whose added text
    differs each time are left to their own reviews; they still count here when it repeats."""
    by_id = {e.evidence.event_id: e for e in edits}
    per_language: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for edit in edits:
        for passage in added_passages(edit.evidence.diff):
            per_language[edit.language].append((edit.evidence.event_id, passage))
    found = []
    for language, passages in per_language.items():
        for cluster in similar_passages(passages):
            event_ids = list(dict.fromkeys(cluster.event_ids))  # newest first, once each
            if len(event_ids) < MIN_EDITS:
                continue
            group = [by_id[pk] for pk in event_ids]
            missing = sum(e.evidence.reason == Reason.MISSING_STEP for e in group)
            found.append(
                Suggestion(
                    kind=MACRO,
                    count=len(group),
                    evidence=_evidence(group),
                    words={"locale": language or "—", "missing": missing},
                    language=language,
                    body=_body_of(cluster),
                )
            )
    return found


# ---- routing thresholds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One routed ticket as a threshold sees it: the confidence it compared, and whether a
    person overrode what the automation did or would have done (taken over, followed up,
    edited, escalated, re-routed) — False when they approved it as written. `evidence` is the
    event that tells."""

    confidence: float
    overridden: bool
    evidence: Evidence


@dataclass(frozen=True)
class ThresholdMove:
    current: float
    suggested: float
    band: tuple[Observation, ...]  # the observations between the two values, newest first
    band_overridden: int
    kept: int  # observations at or above the suggested value
    kept_overridden: int

    @property
    def raise_(self) -> bool:
        return self.suggested > self.current


def _floor2(value: float) -> float:
    return math.floor(value * 100 + 1e-9) / 100


def suggest_threshold(
    observations: Sequence[Observation],
    *,
    current: float,
    target: float = OVERRIDE_TARGET,
    min_evidence: int = MIN_EDITS,
) -> ThresholdMove | None:
    """The lowest threshold (to 0.01) at which at most `target` of the observations at or
    above it were overridden, when that differs from `current` with at least `min_evidence`
    observations between the two that say so (overrides to raise, approvals to lower).

    When the automated side (at or above `current`) is overridden more than `target`, only
    higher values are tried: raise. Otherwise lower values are tried: lower, if the tickets
    below the threshold were approved as written often enough."""

    def rate_at(value: float) -> tuple[int, int]:
        above = [o for o in observations if o.confidence >= value]
        return len(above), sum(o.overridden for o in above)

    n, bad = rate_at(current)
    if n and bad / n > target:
        grid = sorted({_floor2(o.confidence) for o in observations if o.confidence > current})
        grid.append(_floor2(max(o.confidence for o in observations)) + 0.01)
    else:
        grid = sorted({_floor2(o.confidence) for o in observations if o.confidence < current})
        grid.append(current)
    suggested = current
    for value in grid:
        count, over = rate_at(value)
        if not count or over / count <= target:
            suggested = round(min(value, 1.0), 2)
            break
    if suggested == current:
        return None
    low, high = sorted((current, suggested))
    band = tuple(o for o in observations if low <= o.confidence < high)
    band_overridden = sum(o.overridden for o in band)
    deciding = band_overridden if suggested > current else len(band) - band_overridden
    if deciding < min_evidence:
        return None
    kept, kept_overridden = rate_at(suggested)
    return ThresholdMove(current, suggested, band, band_overridden, kept, kept_overridden)
