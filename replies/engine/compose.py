"""The offline drafting engine: a reply assembled from KB passages and a tone profile.

It writes no facts of its own. Every statement of policy or procedure is a cited KB passage;
when no passage is good enough it writes a holding reply and marks the draft ungrounded, so
an agent answers. It never quotes the customer's message back: nothing the customer wrote
can steer the reply, and abuse or personal data is not repeated to them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping

from knowledge.text import has_steps
from replies.engine.tone import ToneProfile, language_matches, profile_for
from replies.engine.types import INSTRUCTIONS, Citation, DraftInput, DraftResult, Passage

# A passage counts as already sent when this share of its sentences is in earlier replies
# (agents often trim or reword one step, so "all of them" would miss real repeats).
COVERED_SHARE = 0.6
# A second article is cited only when it is nearly as relevant as the first; otherwise it
# dilutes a clear answer.
SEE_ALSO_RATIO = 0.9
MAX_NAME_LENGTH = 60

_TAG_RE = re.compile(r"<[^>]*>")
_LIST_ITEM_RE = re.compile(r"^\s*(?:\d{1,2}\s*[.)．、]|[-*•・])\s*")
# An ordered list: its items are steps. A bulleted list is as often a set of definitions or
# options ("Processing: we are packing your order"), which is quoted as a list, not as steps.
_NUMBERED_ITEM_RE = re.compile(r"^\s*\d{1,2}\s*[.)．、]")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
_MARKER_RE = re.compile(r"\[\d+\]")
_NUMBERED_RE = re.compile(r"^1\. ", re.MULTILINE)
_NAME_JUNK_RE = re.compile(r"[<>{}\[\]\x00-\x1f\x7f]")


class LocalDraftEngine:
    """Drafts without a language model: deterministic, instant, and safe to run offline."""

    name = "local"
    version = "1"

    def draft(self, inp: DraftInput, *, tone: ToneProfile | None = None) -> DraftResult:
        unknown = [i for i in inp.instructions if i not in INSTRUCTIONS]
        if unknown:
            raise ValueError(f"Unknown draft instruction: {unknown[0]!r}")
        tone = tone or profile_for(inp.language)
        if inp.formal or "formal" in inp.instructions:
            tone = tone.formal_variant()
        shorter = "shorter" in inp.instructions
        brand = _clean_name(inp.brand_name) or "SupportDesk"
        if inp.only_thanks and tone.thanks_reply:
            return self._thanks(inp, tone, brand)
        previous = _normalise("\n".join(inp.previous_replies))
        sent = [p for p in inp.passages if previous and _already_sent(p, previous)]
        fresh = [p for p in inp.passages if p not in sent]
        cited = _choose(fresh)[:1] if shorter else _choose(fresh)

        welcome = not (shorter or inp.complaint or not cited or inp.emotion in UPSET)
        body = _tier_lines(inp.customer_tier, tone, brand, welcome=welcome)
        notes: list[str] = []
        if sent:
            body.append(_fill(tone.follow_up_intro, title=_plain(sent[0].title)))
            notes.append(f"Already sent in an earlier reply: article {sent[0].article_id}.")
        if not cited:
            body.append(tone.no_match)
            notes.append("No knowledge-base passage to answer from: a specialist must reply.")
        needs_translation = any(not language_matches(p.language, inp.language) for p in cited)
        # The translation note, when the profile has one, already introduces the answer.
        intro = tone.intro_answer
        if needs_translation:
            intro = tone.translation_note or intro
            notes.append("The cited article is not in the customer's language: translate it.")
        for number, passage in enumerate(cited, start=1):
            steps = ""
            if number == 1 and "steps" in inp.instructions:
                steps = "any"
            elif number == 1 and inp.customer_tier == "new":
                steps = "list"  # numbered only when the article itself lists steps
            lead = intro if number == 1 else tone.see_also
            block = _answer_block(passage, number, tone, lead=lead, steps=steps)
            if steps == "any" and not _NUMBERED_RE.search(block):
                notes.append("The source is a single statement: there are no steps to number.")
            body.append(block)
        # Another question, answered from another article: its answer, with its citation.
        for passage in _other_answers(inp, cited):
            cited.append(passage)
            lead = tone.other_question
            if not language_matches(passage.language, inp.language):
                needs_translation = True
                lead = f"{lead}\n{tone.translation_note}" if tone.translation_note else lead
            body.append(_answer_block(passage, len(cited), tone, lead=lead, steps=""))
        if cited and inp.unanswered:
            body.append(tone.other_question_follow_up)
            notes.append(
                "The customer asked more than one thing and the knowledge base does not answer "
                "every question: a person answers the rest."
            )

        text = _assemble(inp, tone, brand, body, cited, grounded=bool(cited), shorter=shorter)
        return DraftResult(
            text=text,
            language=inp.language,
            citations=tuple(
                Citation(p.article_id, _plain(p.title), p.language, p.score) for p in cited
            ),
            grounded=bool(cited),
            needs_translation=needs_translation,
            confidence=_confidence(cited, follow_up=bool(sent), translated=needs_translation),
            engine=self.name,
            engine_version=self.version,
            notes=tuple(notes),
        )

    def _thanks(self, inp: DraftInput, tone: ToneProfile, brand: str) -> DraftResult:
        name = _clean_name(inp.customer_name)
        greeting = _fill(tone.greeting, name=name) if name else tone.greeting_anonymous
        closing = f"{tone.closing}\n{_fill(tone.signature, brand=brand)}"
        return DraftResult(
            text="\n\n".join([greeting, tone.thanks_reply, closing]),
            language=inp.language,
            citations=(),
            grounded=False,
            needs_translation=False,
            confidence=0.6,
            engine=self.name,
            engine_version=self.version,
            notes=("The customer only thanked us: nothing to answer.",),
        )


def _other_answers(inp: DraftInput, cited: list[Passage]) -> list[Passage]:
    """One passage per further question, from an article the draft does not cite yet."""
    seen = {p.article_id for p in cited}
    chosen = []
    for passage in inp.other_answers:
        if passage.article_id not in seen:
            seen.add(passage.article_id)
            chosen.append(passage)
    return chosen


def _choose(fresh: list[Passage]) -> list[Passage]:
    """The best passage, plus the runner-up from another article when nearly as good."""
    if not fresh:
        return []
    chosen = [fresh[0]]
    for passage in fresh[1:]:
        close = passage.score >= SEE_ALSO_RATIO * fresh[0].score
        if close and passage.article_id != fresh[0].article_id:
            chosen.append(passage)
            break
    return chosen


# An upset customer is not "glad to be here": the acknowledgement speaks to them instead.
UPSET = frozenset({"angry", "anxious", "sad"})


def _tier_lines(tier: str, tone: ToneProfile, brand: str, *, welcome: bool) -> list[str]:
    """The VIP line, or the welcome for a new customer. The welcome is a pleasantry for a
    simple question answered: not for an upset customer, a complaint or a holding reply."""
    if tier == "vip":
        return [tone.vip_line]  # kept when shorter: it tells the customer what to expect
    if tier == "new" and welcome:
        return [_fill(tone.new_user_line, brand=brand)]
    return []


def _assemble(
    inp: DraftInput,
    tone: ToneProfile,
    brand: str,
    body: list[str],
    cited: list[Passage],
    *,
    grounded: bool,
    shorter: bool = False,
) -> str:
    name = _clean_name(inp.customer_name)
    greeting = _fill(tone.greeting, name=name) if name else tone.greeting_anonymous
    # Shorter keeps an apology to an angry customer; pleasantries and next steps go.
    keep_ack = not shorter or inp.emotion == "angry"
    # The confused customer's line promises a clear explanation, the anxious one's (in most
    # locales) a walk through the steps: a holding reply has neither, and an answer that is
    # not a procedure has no steps to walk through.
    ack = "neutral" if inp.emotion == "confused" and not grounded else inp.emotion
    with_steps = has_steps("\n".join(body))
    if grounded and with_steps:
        line = tone.acknowledgement(ack)
    else:
        line = tone.holding_acknowledgement(ack)
    parts = [greeting, line if keep_ack else "", *body]
    if grounded and not shorter:
        # A holding reply has nothing to follow up on yet; the specialist sets next steps.
        parts.append(tone.next_steps)
    parts.append(f"{tone.closing}\n{_fill(tone.signature, brand=brand)}")
    if cited:
        sources = [f"[{n}] {_plain(p.title)}" for n, p in enumerate(cited, start=1)]
        parts.append("\n".join([tone.sources_label, *sources]))
    return "\n\n".join(part for part in parts if part)


def _answer_block(
    passage: Passage, number: int, tone: ToneProfile, *, lead: str, steps: str
) -> str:
    """The passage as the answer, with its citation marker after the last sentence.

    ``steps``: "list" numbers the passage's own list of steps (new customers: a policy
    statement is not turned into steps); "any" also numbers its sentences (an agent asked
    for steps); "" gives the passage as written, which already reads as a direct answer."""
    text = _plain(passage.text)
    if steps:
        context, items, tail = _split_steps(text, sentences=steps == "any")
        if len(items) >= 2:
            numbered = "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))
            # The plain intro is replaced by the steps intro; a translation note is kept.
            note = "" if lead == tone.intro_answer else lead
            parts = (note, context, f"{tone.steps_intro}\n{numbered}", tail)
            return _with_marker("\n\n".join(part for part in parts if part), number)
    return _with_marker(f"{lead}\n{text}", number)


def _split_steps(text: str, *, sentences: bool) -> tuple[str, list[str], str]:
    """(lead-in, steps, closing remark). A lead-in ending in a colon ("To cancel:") only
    announces the list, so it gives way to the profile's own steps introduction."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    listed = [i for i, line in enumerate(lines) if _LIST_ITEM_RE.match(line)]
    if not sentences and not any(_NUMBERED_ITEM_RE.match(lines[i]) for i in listed):
        listed = []  # bullets only: a list of meanings or options, not steps
    if len(listed) >= 2:
        lead = [line for line in lines[: listed[0]] if not line.endswith((":", "："))]
        items = [_LIST_ITEM_RE.sub("", lines[i]) for i in listed]
        tail = lines[listed[-1] + 1 :]
        return " ".join(lead), items, " ".join(tail)
    return "", _sentences(" ".join(lines)) if sentences else [], ""


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END_RE.split(text) if s.strip()]


def _with_marker(block: str, number: int) -> str:
    # CJK text runs on without spaces, so the marker follows the full stop directly.
    separator = "" if block and ord(block[-1]) >= 0x2E80 else " "
    return f"{block}{separator}[{number}]"


def _already_sent(passage: Passage, previous: str) -> bool:
    units = [_normalise(_LIST_ITEM_RE.sub("", line)) for line in _units(passage.text)]
    units = [unit for unit in units if unit]
    if not units:
        return False
    return sum(unit in previous for unit in units) / len(units) >= COVERED_SHARE


def _units(text: str) -> list[str]:
    plain = _plain(text)
    return [s for line in plain.splitlines() for s in _sentences(_LIST_ITEM_RE.sub("", line))]


def _normalise(text: str) -> str:
    """Text reduced to words for "was this already said" checks: immune to numbering,
    citation markers, punctuation, case and full-width forms."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "\n".join(_LIST_ITEM_RE.sub("", line) for line in text.splitlines())
    text = _MARKER_RE.sub(" ", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _plain(text: str) -> str:
    """KB text as plain text: articles may be stored as HTML, drafts never contain it."""
    text = html.unescape(_TAG_RE.sub("", text))
    text = _TAG_RE.sub("", text)  # unescaping can reveal "&lt;b&gt;"-style tags
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _clean_name(name: str) -> str:
    cleaned = " ".join(_NAME_JUNK_RE.sub("", _plain(name or "")).split())
    return cleaned[:MAX_NAME_LENGTH].strip()


class _Slots(dict[str, str]):
    """Leaves unknown placeholders as written, so an admin typo shows instead of crashing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, **values: str) -> str:
    try:
        return template.format_map(_Slots(values))
    except (ValueError, IndexError, AttributeError):
        return template


def _confidence(cited: list[Passage], *, follow_up: bool, translated: bool) -> float:
    """Retrieval score mapped to 0.35-0.95 when grounded; a holding reply is always low.
    Follow-ups and untranslated sources are less likely to be sent unchanged."""
    if not cited:
        return 0.1
    confidence = 0.35 + 0.6 * max(0.0, min(1.0, cited[0].score))
    if follow_up:
        confidence *= 0.9
    if translated:
        confidence *= 0.85
    return round(confidence, 2)


def draft_reply(
    inp: DraftInput, *, profiles: Mapping[str, ToneProfile] | None = None
) -> DraftResult:
    """Draft with the profile for the input's language, honouring admin overrides."""
    return LocalDraftEngine().draft(inp, tone=profile_for(inp.language, profiles))
