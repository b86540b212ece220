"""Routing rules as plain Python: the facts about a triaged ticket and an ordered list of rules
in, an action and the explanation (every rule that fired, with the conditions that matched) out.

Rules live in the database (``triage.models.RoutingRule``, edited in the admin); services turn
them into the ``Rule`` dataclasses below, so this module never touches the ORM.

Evaluation, in order of position:
- a rule fires when all of its set conditions match (or any of them, with ``match_any``); a
  rule without conditions always fires;
- the first fired rule that names an action decides the action; side effects (notify
  supervisors, assign, set urgency) of every fired rule apply, the first one set wins; an
  urgency set by a rule is what later rules see;
- a fired rule with ``stop`` ends the evaluation;
- when no fired rule named an action, a person looks at the ticket (``human``).

The defaults (``SEED_RULES``) are the seed's three rules:
1. VIP, angry or high urgency → alert a supervisor.
2. Complex (not a routine category), out of scope, low confidence, repeat contact, a customer
   who is not calm or an engine that asks for a human → a human agent.
3. Otherwise (routine category, calm customer) → auto-reply candidate (one-click approve).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from triage.engine.rules import intensity_word

CALM_EMOTIONS = frozenset({"neutral", "positive", "confused"})
DISTRESSED_EMOTIONS = frozenset({"angry", "anxious", "sad"})
# Below this, "angry" is a guess: the ticket still goes to a human, but no supervisor is paged.
ANGRY_ALERT_CONFIDENCE = 0.5
# A supervisor is paged for strong anger (shouting, threats), not for a mildly annoyed customer.
ANGRY_ALERT_INTENSITY = 0.7
DEFAULT_LOW_CONFIDENCE = 0.5

AUTO_SEND = "auto_send"  # send the draft without a person, if every guardrail passes
AUTO_REPLY = "auto_reply"  # draft for review: one-click approve
HUMAN = "human"
SUPERVISOR = "supervisor"
ACTIONS = (AUTO_SEND, AUTO_REPLY, HUMAN, SUPERVISOR)
NO_RULE_REASON = "No rule decided the route: a person looks at it"
# The route offered the draft for one-click approval, but the draft answers nothing.
HOLDING_DRAFT_REASON = "The draft is only a holding reply: a person answers"
PARTIAL_DRAFT_REASON = "The draft answers only some of the customer's questions: a person answers"


@dataclass(frozen=True)
class RouteInput:
    """What is known about a ticket when it is routed."""

    category: str  # "" when out of scope
    category_confidence: float
    category_is_routine: bool
    out_of_scope: bool
    emotion: str
    emotion_confidence: float
    urgency: str  # high | medium | low
    needs_human: bool
    vip: bool = False
    recent_contacts: int = 0  # other tickets from this customer in the repeat window
    reopened: bool = False  # the customer wrote again after the ticket was solved
    language: str = ""
    channel: str = ""
    plan: str = "free"
    new_customer: bool = False
    text: str = ""  # subject and message, for keyword conditions
    emotion_intensity: float = 0.0  # 0-1, how strongly the emotion is expressed

    @property
    def in_scope(self) -> bool:
        return bool(self.category) and not self.out_of_scope

    @property
    def repeat_contact(self) -> bool:
        return self.recent_contacts > 0 or self.reopened


@dataclass(frozen=True)
class Rule:
    """One routing rule. Unset conditions (None, empty) are ignored."""

    name: str
    action: str = ""  # one of ACTIONS, or "" to leave the action to a later rule
    id: int | None = None
    match_any: bool = False
    stop: bool = True
    # conditions
    categories: frozenset[str] = frozenset()
    out_of_scope: bool | None = None
    category_routine: bool | None = None
    confidence_below: float | None = None
    confidence_at_least: float | None = None
    vip: bool | None = None
    plans: frozenset[str] = frozenset()
    new_customer: bool | None = None
    repeat_contact: bool | None = None
    emotions: frozenset[str] = frozenset()
    min_emotion_confidence: float | None = None
    min_emotion_intensity: float | None = None
    urgencies: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    needs_human: bool | None = None
    keywords: tuple[str, ...] = ()
    # side effects
    notify_supervisors: bool = False
    assign_agent_id: int | None = None
    assign_team_id: int | None = None
    assign_matching_team: bool = False
    set_urgency: str = ""
    sla_policy_id: int | None = None


@dataclass(frozen=True)
class FiredRule:
    rule_id: int | None
    name: str
    action: str
    conditions: tuple[str, ...]

    def as_json(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "name": self.name,
            "action": self.action,
            "conditions": list(self.conditions),
        }


@dataclass(frozen=True)
class Route:
    action: str
    fired: tuple[FiredRule, ...] = ()
    deciding_rule_id: int | None = None
    notify_supervisors: bool = False
    assign_agent_id: int | None = None
    assign_team_id: int | None = None
    assign_matching_team: bool = False
    set_urgency: str = ""
    sla_policy_id: int | None = None
    reasons: tuple[str, ...] = field(default=())

    @property
    def fired_json(self) -> list[dict]:
        return [f.as_json() for f in self.fired]


# -- conditions --------------------------------------------------------------------------------
# Each check returns the reason shown to people when the condition matches, or None. Their
# order here is the order in which reasons are listed.

Check = Callable[[Rule, RouteInput], "str | None | bool"]


def _categories(rule: Rule, f: RouteInput) -> str | None | bool:
    if not rule.categories:
        return False
    return f"Category '{f.category}'" if f.in_scope and f.category in rule.categories else None


def _out_of_scope(rule: Rule, f: RouteInput) -> str | None | bool:
    if rule.out_of_scope is None:
        return False
    if rule.out_of_scope:
        return None if f.in_scope else "Question fits no known category"
    return f"In scope ('{f.category}')" if f.in_scope else None


def _category_routine(rule: Rule, f: RouteInput) -> str | None | bool:
    if rule.category_routine is None:
        return False
    if not f.in_scope or f.category_is_routine != rule.category_routine:
        return None
    if rule.category_routine:
        return f"Routine category '{f.category}' ({f.category_confidence:.0%} confidence)"
    return f"'{f.category}' is not a routine category"


def _confidence_below(rule: Rule, f: RouteInput) -> str | None | bool:
    if rule.confidence_below is None:
        return False
    if f.category and f.category_confidence < rule.confidence_below:
        return f"Low category confidence ({f.category_confidence:.0%})"
    return None


def _confidence_at_least(rule: Rule, f: RouteInput) -> str | None | bool:
    if rule.confidence_at_least is None:
        return False
    if f.in_scope and f.category_confidence >= rule.confidence_at_least:
        return (
            f"Category confidence {f.category_confidence:.0%} "
            f"(at least {rule.confidence_at_least:.0%})"
        )
    return None


def _yes_no(wanted: bool | None, actual: bool, yes: str, no: str) -> str | None | bool:
    """A yes/no condition: False when the rule does not ask, None when it does not match."""
    if wanted is None:
        return False
    if actual != wanted:
        return None
    return yes if actual else no


def _vip(rule: Rule, f: RouteInput) -> str | None | bool:
    return _yes_no(rule.vip, f.vip, "VIP customer", "Not a VIP customer")


def _plans(rule: Rule, f: RouteInput) -> str | None | bool:
    if not rule.plans:
        return False
    return f"{f.plan.capitalize()} plan" if f.plan in rule.plans else None


def _new_customer(rule: Rule, f: RouteInput) -> str | None | bool:
    return _yes_no(rule.new_customer, f.new_customer, "New customer", "Returning customer")


def _repeat_contact(rule: Rule, f: RouteInput) -> str | None | bool:
    if rule.repeat_contact is None:
        return False
    if f.repeat_contact != rule.repeat_contact:
        return None
    if not f.repeat_contact:
        return "First contact"
    parts = []
    if f.recent_contacts:
        parts.append(f"Repeat contact: {f.recent_contacts} earlier ticket(s) recently")
    if f.reopened:
        parts.append("Repeat contact: wrote again after the ticket was solved")
    return "; ".join(parts)


def _emotion(rule: Rule, f: RouteInput) -> str | None | bool:
    if (
        not rule.emotions
        and rule.min_emotion_confidence is None
        and (rule.min_emotion_intensity is None)
    ):
        return False
    if rule.emotions and f.emotion not in rule.emotions:
        return None
    if (
        rule.min_emotion_confidence is not None
        and f.emotion_confidence < rule.min_emotion_confidence
    ):
        return None
    if rule.min_emotion_intensity is not None and f.emotion_intensity < rule.min_emotion_intensity:
        return None
    if rule.min_emotion_intensity is not None:
        return f"{f.emotion.capitalize()} customer ({intensity_word(f.emotion_intensity)})"
    if rule.min_emotion_confidence is not None:
        return f"{f.emotion.capitalize()} customer ({f.emotion_confidence:.0%} confidence)"
    if rule.emotions <= CALM_EMOTIONS:
        return f"Calm customer ({f.emotion})"
    return f"Customer seems {f.emotion}"


def _urgency(rule: Rule, f: RouteInput) -> str | None | bool:
    if not rule.urgencies:
        return False
    return f"{f.urgency.capitalize()} urgency" if f.urgency in rule.urgencies else None


def _language(rule: Rule, f: RouteInput) -> str | None | bool:
    if not rule.languages:
        return False
    # "zh" matches "zh-Hant": a rule names a language, the engine may name a script too.
    base = f.language.split("-")[0].casefold()
    wanted = {lang.casefold() for lang in rule.languages}
    if f.language.casefold() in wanted or base in wanted:
        return f"Written in {f.language}"
    return None


def _channel(rule: Rule, f: RouteInput) -> str | None | bool:
    if not rule.channels:
        return False
    return f"Arrived by {f.channel}" if f.channel in rule.channels else None


def _needs_human(rule: Rule, f: RouteInput) -> str | None | bool:
    return _yes_no(
        rule.needs_human,
        f.needs_human,
        "Triage asked for a human",
        "Triage saw no need for a human",
    )


def _keywords(rule: Rule, f: RouteInput) -> str | None | bool:
    if not rule.keywords:
        return False
    text = f.text.casefold()
    found = [k for k in rule.keywords if k.casefold() in text]
    return "Mentions " + ", ".join(f"'{k}'" for k in found) if found else None


CHECKS: tuple[Check, ...] = (
    _categories,
    _out_of_scope,
    _category_routine,
    _confidence_below,
    _confidence_at_least,
    _vip,
    _plans,
    _new_customer,
    _repeat_contact,
    _emotion,
    _urgency,
    _language,
    _channel,
    _needs_human,
    _keywords,
)


def rule_matches(rule: Rule, facts: RouteInput) -> tuple[str, ...] | None:
    """The reasons a rule fires for these facts, or None when it does not fire."""
    matched: list[str] = []
    set_conditions = 0
    for check in CHECKS:
        outcome = check(rule, facts)
        if outcome is False:  # condition not set on this rule
            continue
        set_conditions += 1
        if outcome:
            matched.append(outcome)
        elif not rule.match_any:
            return None
    if set_conditions == 0:
        return ("Always",)
    return tuple(matched) if matched else None


def decide_route(rules: Iterable[Rule], facts: RouteInput) -> Route:
    fired: list[FiredRule] = []
    action, deciding = "", None
    notify, set_urgency = False, ""
    assign_agent_id: int | None = None
    assign_team_id: int | None = None
    assign_matching = False
    sla_policy_id: int | None = None
    for rule in rules:
        conditions = rule_matches(rule, facts)
        if conditions is None:
            continue
        fired.append(FiredRule(rule.id, rule.name, rule.action, conditions))
        if rule.action and not action:
            action, deciding = rule.action, rule.id
        notify = notify or rule.notify_supervisors
        if not (assign_agent_id or assign_team_id or assign_matching):
            # The first rule that assigns decides who: an agent, a team or the matching team.
            assign_agent_id = rule.assign_agent_id
            assign_team_id = None if assign_agent_id else rule.assign_team_id
            assign_matching = not (assign_agent_id or assign_team_id) and (
                rule.assign_matching_team
            )
        sla_policy_id = sla_policy_id or rule.sla_policy_id
        if rule.set_urgency and not set_urgency:
            # Later rules see the new urgency: "enterprise is urgent" feeds "urgent → alert".
            set_urgency = rule.set_urgency
            facts = replace(facts, urgency=rule.set_urgency)
        if rule.stop:
            break
    reasons = tuple(c for f in fired for c in f.conditions if c != "Always")
    if not reasons:  # only rules without conditions fired: their names explain the route
        reasons = tuple(f"Rule: {f.name}" for f in fired)
    if not action:
        action = HUMAN
        reasons = (*reasons, NO_RULE_REASON)
    return Route(
        action=action,
        fired=tuple(fired),
        deciding_rule_id=deciding,
        notify_supervisors=notify or action == SUPERVISOR,
        assign_agent_id=assign_agent_id,
        assign_team_id=assign_team_id,
        assign_matching_team=assign_matching,
        set_urgency=set_urgency,
        sla_policy_id=sla_policy_id,
        reasons=reasons,
    )


def seed_rules(*, low_confidence: float = DEFAULT_LOW_CONFIDENCE) -> tuple[Rule, ...]:
    """The seed's three rules: what a fresh installation routes by."""
    return (
        Rule(
            name="VIP, angry or urgent: alert a supervisor",
            action=SUPERVISOR,
            match_any=True,
            vip=True,
            emotions=frozenset({"angry"}),
            min_emotion_confidence=ANGRY_ALERT_CONFIDENCE,
            min_emotion_intensity=ANGRY_ALERT_INTENSITY,
            urgencies=frozenset({"high"}),
        ),
        Rule(
            name="Complex, unclear or upset: a human agent",
            action=HUMAN,
            match_any=True,
            out_of_scope=True,
            category_routine=False,
            confidence_below=low_confidence,
            repeat_contact=True,
            emotions=DISTRESSED_EMOTIONS,
            needs_human=True,
        ),
        Rule(
            name="Routine question, calm customer: draft for one-click approval",
            action=AUTO_REPLY,
            category_routine=True,
            emotions=CALM_EMOTIONS,
        ),
    )


def rule_summary(rule: Rule) -> list[str]:
    """The rule's conditions in words, for people reading the rule list."""
    parts: list[str] = []
    if rule.categories:
        parts.append("category is " + " or ".join(sorted(rule.categories)))
    if rule.out_of_scope is not None:
        parts.append("out of scope" if rule.out_of_scope else "in scope")
    if rule.category_routine is not None:
        parts.append("routine category" if rule.category_routine else "not a routine category")
    if rule.confidence_below is not None:
        parts.append(f"category confidence below {rule.confidence_below:.0%}")
    if rule.confidence_at_least is not None:
        parts.append(f"category confidence at least {rule.confidence_at_least:.0%}")
    if rule.vip is not None:
        parts.append("VIP customer" if rule.vip else "not a VIP")
    if rule.plans:
        parts.append("plan is " + " or ".join(sorted(rule.plans)))
    if rule.new_customer is not None:
        parts.append("new customer" if rule.new_customer else "returning customer")
    if rule.repeat_contact is not None:
        parts.append("repeat contact" if rule.repeat_contact else "first contact")
    if (
        rule.emotions
        or rule.min_emotion_confidence is not None
        or (rule.min_emotion_intensity is not None)
    ):
        emotions = " or ".join(sorted(rule.emotions)) if rule.emotions else "any emotion"
        if rule.min_emotion_confidence is not None:
            emotions += f" (confidence at least {rule.min_emotion_confidence:.0%})"
        if rule.min_emotion_intensity is not None:
            emotions += f" (intensity at least {rule.min_emotion_intensity:.1f})"
        parts.append("customer is " + emotions)
    if rule.urgencies:
        parts.append("urgency is " + " or ".join(sorted(rule.urgencies)))
    if rule.languages:
        parts.append("language is " + " or ".join(sorted(rule.languages)))
    if rule.channels:
        parts.append("channel is " + " or ".join(sorted(rule.channels)))
    if rule.needs_human is not None:
        parts.append("triage asks for a human" if rule.needs_human else "triage needs no human")
    if rule.keywords:
        parts.append("mentions " + " or ".join(f"'{k}'" for k in rule.keywords))
    return parts or ["always"]
