"""The reasons the engines give, in the reader's language.

Triage, routing, the auto-send guardrails, assignment and the SLA clock write their reasons in
English, and they are stored that way: they are the record of a decision, and rules, the API and
the exports read them as written. Pages show them through `reason_words`, which recognises each
reason by its English pattern and says it again in the reader's language, with the codes in it
("angry", "strong", "web") as words. A reason no pattern knows (an agent's own words, a rule's
name) is shown as written. tests/supportdesk/test_reasons.py drives every engine and checks that
each reason it can give is recognised, so a new reason cannot silently stay in English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from supportdesk import words
from supportdesk.models import Customer, Ticket

# (English pattern, its translation). "{name}" matches any text; see _VALUES for the names
# whose values are codes turned into words.
PATTERNS: tuple[tuple[str, Promise], ...] = (
    # Triage: urgency and hand-off (triage/engine/rules.py).
    ("Customer is VIP", pgettext_lazy("reason", "Customer is VIP")),
    (
        "Customer is on the enterprise plan",
        pgettext_lazy("reason", "Customer is on the enterprise plan"),
    ),
    (
        "Mentions money being charged or refunded",
        pgettext_lazy("reason", "Mentions money being charged or refunded"),
    ),
    (
        "Reports something not working or being unable to log in",
        pgettext_lazy("reason", "Reports something not working or being unable to log in"),
    ),
    (
        "Mentions security, fraud or a hacked account",
        pgettext_lazy("reason", "Mentions security, fraud or a hacked account"),
    ),
    (
        "Mentions legal action or a chargeback",
        pgettext_lazy("reason", "Mentions legal action or a chargeback"),
    ),
    ("Angry tone ({strength})", pgettext_lazy("reason", "Angry tone ({strength})")),
    ("Anxious tone ({strength})", pgettext_lazy("reason", "Anxious tone ({strength})")),
    (
        "Repeat contact: {count} tickets in {days} days",
        pgettext_lazy("reason", "Repeat contact: {count} tickets in {days} days"),
    ),
    ("Out of scope", pgettext_lazy("reason", "Out of scope")),
    (
        "Low category confidence ({confidence})",
        pgettext_lazy("reason", "Low category confidence ({confidence})"),
    ),
    ("No urgency signals", pgettext_lazy("reason", "No urgency signals")),
    # Routing conditions (triage/routing.py).
    (
        "No rule decided the route: a person looks at it",
        pgettext_lazy("reason", "No rule decided the route: a person looks at it"),
    ),
    (
        "The draft is only a holding reply: a person answers",
        pgettext_lazy("reason", "The draft is only a holding reply: a person answers"),
    ),
    (
        "The draft answers only some of the customer's questions: a person answers",
        pgettext_lazy(
            "reason", "The draft answers only some of the customer's questions: a person answers"
        ),
    ),
    ("Category '{category}'", pgettext_lazy("reason", "Category '{category}'")),
    ("Question fits no known category", pgettext_lazy("reason", "Question fits no known category")),
    ("In scope ('{category}')", pgettext_lazy("reason", "In scope ('{category}')")),
    (
        "Routine category '{category}' ({confidence} confidence)",
        pgettext_lazy("reason", "Routine category '{category}' ({confidence} confidence)"),
    ),
    (
        "'{category}' is not a routine category",
        pgettext_lazy("reason", "'{category}' is not a routine category"),
    ),
    (
        "Category confidence {confidence} (at least {threshold})",
        pgettext_lazy("reason", "Category confidence {confidence} (at least {threshold})"),
    ),
    ("VIP customer", pgettext_lazy("reason", "VIP customer")),
    ("Not a VIP customer", pgettext_lazy("reason", "Not a VIP customer")),
    ("{plan} plan", pgettext_lazy("reason", "{plan} plan")),
    ("New customer", pgettext_lazy("reason", "New customer")),
    ("Returning customer", pgettext_lazy("reason", "Returning customer")),
    ("First contact", pgettext_lazy("reason", "First contact")),
    (
        "Repeat contact: {count} earlier ticket(s) recently",
        pgettext_lazy("reason", "Repeat contact: {count} earlier ticket(s) recently"),
    ),
    (
        "Repeat contact: wrote again after the ticket was solved",
        pgettext_lazy("reason", "Repeat contact: wrote again after the ticket was solved"),
    ),
    (
        "{emotion} customer ({confidence} confidence)",
        pgettext_lazy("reason", "{emotion} customer ({confidence} confidence)"),
    ),
    ("{emotion} customer ({strength})", pgettext_lazy("reason", "{emotion} customer ({strength})")),
    ("Calm customer ({emotion})", pgettext_lazy("reason", "Calm customer ({emotion})")),
    ("Customer seems {emotion}", pgettext_lazy("reason", "Customer seems {emotion}")),
    ("{urgency} urgency", pgettext_lazy("reason", "{urgency} urgency")),
    ("Written in {language}", pgettext_lazy("reason", "Written in {language}")),
    ("Arrived by {channel}", pgettext_lazy("reason", "Arrived by {channel}")),
    ("Triage asked for a human", pgettext_lazy("reason", "Triage asked for a human")),
    ("Triage saw no need for a human", pgettext_lazy("reason", "Triage saw no need for a human")),
    ("Mentions {words}", pgettext_lazy("reason", "Mentions {words}")),
    ("Rule: {name}", pgettext_lazy("reason", "Rule: {name}")),
    ("Always", pgettext_lazy("reason", "Always")),
    # Auto-send guardrails (replies/guardrails.py).
    (
        "The routing rules did not choose auto-send",
        pgettext_lazy("reason", "The routing rules did not choose auto-send"),
    ),
    (
        "Auto-send is paused for the whole desk",
        pgettext_lazy("reason", "Auto-send is paused for the whole desk"),
    ),
    (
        "Auto-send is not enabled for this category",
        pgettext_lazy("reason", "Auto-send is not enabled for this category"),
    ),
    (
        "Category confidence {confidence} is below {threshold}",
        pgettext_lazy("reason", "Category confidence {confidence} is below {threshold}"),
    ),
    (
        "Draft confidence {confidence} is below {threshold}",
        pgettext_lazy("reason", "Draft confidence {confidence} is below {threshold}"),
    ),
    (
        "Customer is not calm ({emotion})",
        pgettext_lazy("reason", "Customer is not calm ({emotion})"),
    ),
    (
        "The draft is not grounded in the knowledge base",
        pgettext_lazy("reason", "The draft is not grounded in the knowledge base"),
    ),
    (
        "The draft is not in the customer's language",
        pgettext_lazy("reason", "The draft is not in the customer's language"),
    ),
    (
        "The draft makes a promise the knowledge base does not support",
        pgettext_lazy("reason", "The draft makes a promise the knowledge base does not support"),
    ),
    ("Repeat contact", pgettext_lazy("reason", "Repeat contact")),
    (
        "Already answered automatically in the last {hours} h",
        pgettext_lazy("reason", "Already answered automatically in the last {hours} h"),
    ),
    ("The ticket is escalated", pgettext_lazy("reason", "The ticket is escalated")),
    (
        "Replies to this customer bounced: automatic sends are stopped",
        pgettext_lazy("reason", "Replies to this customer bounced: automatic sends are stopped"),
    ),
    ("Mail-loop guard: {detail}", pgettext_lazy("reason", "Mail-loop guard: {detail}")),
    # Assignment (triage/services.py, triage/assignment.py, triage/waiting.py).
    ("The rule's agent is inactive", pgettext_lazy("reason", "The rule's agent is inactive")),
    ("A rule names this agent", pgettext_lazy("reason", "A rule names this agent")),
    (
        "No active team handles this category and language",
        pgettext_lazy("reason", "No active team handles this category and language"),
    ),
    (
        "Nobody in {team} is online: the ticket waits unassigned",
        pgettext_lazy("reason", "Nobody in {team} is online: the ticket waits unassigned"),
    ),
    (
        "{team}: online member with the fewest open tickets ({count})",
        pgettext_lazy("reason", "{team}: online member with the fewest open tickets ({count})"),
    ),
    (
        "{team}: next online member in turn",
        pgettext_lazy("reason", "{team}: next online member in turn"),
    ),
    (
        "{reason}, after waiting for someone to come online",
        pgettext_lazy("reason", "{reason}, after waiting for someone to come online"),
    ),
    # Escalations (triage/services.py, replies/services.py, triage/sla_timers.py).
    (
        "SLA breached before the ticket was routed",
        pgettext_lazy("reason", "SLA breached before the ticket was routed"),
    ),
    ("SLA breached: {reasons}", pgettext_lazy("reason", "SLA breached: {reasons}")),
    ("Re-routed by {who}", pgettext_lazy("reason", "Re-routed by {who}")),
    ("Escalated by an agent", pgettext_lazy("reason", "Escalated by an agent")),
    ("{reason} (by {who})", pgettext_lazy("reason", "{reason} (by {who})")),
    # A rule's conditions as the rule list reads them (triage/routing.py: rule_summary).
    ("category is {categories}", pgettext_lazy("reason", "category is {categories}")),
    ("out of scope", pgettext_lazy("reason", "out of scope")),
    ("in scope", pgettext_lazy("reason", "in scope")),
    ("routine category", pgettext_lazy("reason", "routine category")),
    ("not a routine category", pgettext_lazy("reason", "not a routine category")),
    (
        "category confidence below {threshold}",
        pgettext_lazy("reason", "category confidence below {threshold}"),
    ),
    (
        "category confidence at least {threshold}",
        pgettext_lazy("reason", "category confidence at least {threshold}"),
    ),
    ("not a VIP", pgettext_lazy("reason", "not a VIP")),
    ("plan is {plans}", pgettext_lazy("reason", "plan is {plans}")),
    ("new customer", pgettext_lazy("reason", "new customer")),
    ("returning customer", pgettext_lazy("reason", "returning customer")),
    ("repeat contact", pgettext_lazy("reason", "repeat contact")),
    ("first contact", pgettext_lazy("reason", "first contact")),
    ("customer is {emotions}", pgettext_lazy("reason", "customer is {emotions}")),
    ("urgency is {urgencies}", pgettext_lazy("reason", "urgency is {urgencies}")),
    ("language is {languages}", pgettext_lazy("reason", "language is {languages}")),
    ("channel is {channels}", pgettext_lazy("reason", "channel is {channels}")),
    ("triage asks for a human", pgettext_lazy("reason", "triage asks for a human")),
    ("triage needs no human", pgettext_lazy("reason", "triage needs no human")),
    ("mentions {words}", pgettext_lazy("reason", "mentions {words}")),
    ("always", pgettext_lazy("reason", "always")),
    # The SLA clock (supportdesk/sla.py).
    ("First response was late", pgettext_lazy("reason", "First response was late")),
    (
        "First response overdue by {late}",
        pgettext_lazy("reason", "First response overdue by {late}"),
    ),
    ("First response due soon", pgettext_lazy("reason", "First response due soon")),
    ("Resolution overdue by {late}", pgettext_lazy("reason", "Resolution overdue by {late}")),
    ("Resolution due soon", pgettext_lazy("reason", "Resolution due soon")),
)


# Values that are codes, and the words people read for them.
def _cased(value: str, kind: dict[str, str]) -> str:
    """The word for a code written either way ("High urgency", "customer seems high"), with the
    capital kept where the language has one."""
    if value.lower() not in kind:
        return value
    said = words.word(kind, value.lower())
    return said[:1].upper() + said[1:] if value[:1].isupper() else said


_VALUES: dict[str, Callable[[str], str]] = {
    "strength": lambda v: words.word(words.INTENSITIES, v),
    "emotion": lambda v: _cased(v, words.EMOTIONS),
    "urgency": lambda v: _cased(v, words.URGENCIES),
    "plan": lambda v: str(dict(Customer.Plan.choices).get(v.lower(), v)),
    "channel": lambda v: str(dict(Ticket.Channel.choices).get(v, v)),
}


def _codes(kind: Callable[[str], str]) -> Callable[[str], str]:
    """A rule's list of codes ("angry or sad") as words, joined the reader's way."""

    def say(value: str) -> str:
        parts = [re.sub(r"\b[a-z_]+\b", lambda m: kind(m.group()), p) for p in value.split(" or ")]
        joined = str(pgettext_lazy("list", " or ")).join(parts)
        return re.sub(r"\((confidence|intensity) at least ([^)]+)\)", _at_least, joined)

    return say


def _at_least(match: re.Match[str]) -> str:
    said = {
        "confidence": pgettext_lazy("reason", "(confidence at least {threshold})"),
        "intensity": pgettext_lazy("reason", "(intensity at least {threshold})"),
    }[match.group(1)]
    return str(said).format(threshold=match.group(2))


_VALUES.update(
    {
        "emotions": _codes(lambda v: words.word(words.EMOTIONS, v) if v in words.EMOTIONS else v),
        "urgencies": _codes(lambda v: words.word(words.URGENCIES, v)),
        "channels": _codes(lambda v: str(dict(Ticket.Channel.choices).get(v, v))),
        "plans": _codes(lambda v: str(dict(Customer.Plan.choices).get(v, v))),
    }
)
# Values that are reasons themselves (an agent's escalation of a routing decision, say).
_NESTED = {"reason", "reasons"}


# What a value may look like. A value never spans two reasons joined by "; " (except a list of
# reasons), and a short value never holds brackets, so "Angry customer (strong) (by mei)" reads
# as an escalation by mei of "Angry customer (strong)".
_SHORT = "[^;()]+?"
_VALUE_SHAPES = {
    "reasons": ".+?",
    **dict.fromkeys(
        (
            "strength",
            "emotion",
            "urgency",
            "plan",
            "channel",
            "language",
            "confidence",
            "threshold",
            "count",
            "days",
            "hours",
            "late",
            "who",
        ),
        _SHORT,
    ),
}


@cache
def _compiled() -> tuple[tuple[re.Pattern[str], Promise], ...]:
    compiled = []
    for english, translated in PATTERNS:
        parts = re.split(r"\{(\w+)\}", english)
        regex = "".join(
            f"(?P<{part}>{_VALUE_SHAPES.get(part, '[^;]+?')})" if i % 2 else re.escape(part)
            for i, part in enumerate(parts)
        )
        literal = sum(len(part) for part in parts[::2])
        compiled.append((literal, re.compile(regex, re.DOTALL), translated))
    # The most specific pattern first: "Calm customer ({emotion})" before
    # "{emotion} customer ({strength})".
    compiled.sort(key=lambda row: -row[0])
    return tuple((regex, translated) for _, regex, translated in compiled)


def reason_known(text: str) -> bool:
    """Whether `text` is a reason (or reasons joined by "; ") some pattern recognises."""
    if any(regex.fullmatch(text) for regex, _ in _compiled()):
        return True
    return "; " in text and all(reason_known(part) for part in text.split("; "))


def reason_words(text: str) -> str:
    """One reason (or several joined by "; ") in the reader's language."""
    if (translation.get_language() or "en").split("-")[0] == "en":
        return text  # written in English: it reads as written
    if "; " in text and not any(regex.fullmatch(text) for regex, _ in _compiled()):
        return "; ".join(reason_words(part) for part in text.split("; "))
    for regex, translated in _compiled():
        match = regex.fullmatch(text)
        if match is None:
            continue
        values = {}
        for name, value in match.groupdict().items():
            if name in _NESTED:
                values[name] = reason_words(value)
            elif name in _VALUES:
                values[name] = _VALUES[name](value)
            else:
                values[name] = value
        try:
            return str(translated).format(**values)
        except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder
            return text
    return text
