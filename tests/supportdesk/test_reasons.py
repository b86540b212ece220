"""Every reason the engines give reads in the reader's language: each engine is driven into
every reason it can give, and each one must be recognised (a new reason left out of
supportdesk/reasons.py fails here instead of showing in English on a translated desk)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from replies.guardrails import AutoSendFacts, autosend_check
from supportdesk.reasons import PATTERNS, reason_known, reason_words
from supportdesk.sla import Clock, sla_status
from triage.engine.rules import RulesConfig, Signals, decide
from triage.engine.types import CustomerContext
from triage.routing import RouteInput, Rule, decide_route, rule_matches, rule_summary, seed_rules


def _triage_reasons() -> set[str]:
    reasons: set[str] = set()
    texts = [
        "I was charged twice, please refund me",
        "I cannot log in, the app is not working",
        "My account was hacked, this is fraud",
        "I will take legal action and file a chargeback",
        "hello",
    ]
    for text in texts:
        for emotion, intensity in (("angry", 0.9), ("anxious", 0.5), ("neutral", 0.0)):
            for customer in (
                CustomerContext(vip=True, recent_contacts=3),
                CustomerContext(plan="enterprise"),
                CustomerContext(),
            ):
                for out_of_scope, confidence in ((True, 0.9), (False, 0.2), (False, 0.9)):
                    signals = Signals(
                        text=text,
                        emotion=emotion,
                        emotion_confidence=0.9,
                        category="" if out_of_scope else "billing",
                        category_confidence=confidence,
                        out_of_scope=out_of_scope,
                        emotion_intensity=intensity,
                    )
                    decision = decide(signals, customer, RulesConfig())
                    reasons |= {*decision.urgency_reasons, *decision.needs_human_reasons}
    return reasons


def _everything_rule(**conditions) -> Rule:
    return Rule(name="Every condition", action="human", match_any=True, **conditions)


def _routing_reasons() -> set[str]:
    reasons: set[str] = set()
    facts = [
        RouteInput(
            category=category,
            category_confidence=0.42,
            category_is_routine=routine,
            out_of_scope=not category,
            emotion=emotion,
            emotion_confidence=0.9,
            urgency="high",
            needs_human=needs_human,
            vip=vip,
            recent_contacts=contacts,
            reopened=reopened,
            language="zh-Hant",
            channel="web",
            plan="enterprise",
            new_customer=vip,
            text="I want a refund now",
            emotion_intensity=0.8,
        )
        for category in ("billing", "")
        for routine in (True, False)
        for emotion in ("angry", "neutral")
        for needs_human in (True, False)
        for vip in (True, False)
        for contacts, reopened in ((0, False), (2, True))
    ]
    rules = [
        *seed_rules(),
        _everything_rule(
            categories=frozenset({"billing"}),
            plans=frozenset({"enterprise"}),
            urgencies=frozenset({"high"}),
            languages=frozenset({"zh"}),
            channels=frozenset({"web"}),
            keywords=("refund",),
        ),
        _everything_rule(out_of_scope=False, confidence_at_least=0.3),
        _everything_rule(out_of_scope=True, vip=False, new_customer=False, needs_human=False),
        _everything_rule(emotions=frozenset({"angry"}), min_emotion_confidence=0.5),
        _everything_rule(emotions=frozenset({"angry"})),
        _everything_rule(category_routine=False, repeat_contact=False),
        Rule(name="Catch-all", action=""),
    ]
    for f in facts:
        for rule in rules:
            for condition in rule_matches(rule, f) or ():
                reasons |= set(condition.split("; "))
        reasons |= set(decide_route(rules[-1:], f).reasons)
        reasons |= set(decide_route([Rule(name="Send to a person", action="human")], f).reasons)
    for rule in rules:
        reasons |= set(rule_summary(rule))
    reasons |= set(
        rule_summary(_everything_rule(vip=False, new_customer=True, repeat_contact=True))
    )
    reasons |= set(rule_summary(_everything_rule(out_of_scope=False, needs_human=False)))
    reasons |= set(
        rule_summary(
            _everything_rule(
                confidence_below=0.5,
                min_emotion_intensity=0.6,
                plans=frozenset({"free"}),
                keywords=("refund",),
            )
        )
    )
    return reasons


def _guardrail_reasons() -> set[str]:
    blocked = autosend_check(
        AutoSendFacts(
            route_action="human",
            paused=True,
            category_enabled=False,
            category_confidence=0.4,
            min_category_confidence=0.8,
            draft_confidence=0.3,
            min_draft_confidence=0.7,
            emotion="angry",
            draft_grounded=False,
            draft_citations=0,
            draft_needs_translation=True,
            promise_flags=("refund",),
            repeat_contact=True,
            auto_replies_in_window=9,
            escalated=True,
            customer_unreachable=True,
            mail_loop_block="the sender is a mailer daemon",
        )
    ).blocked_by
    return set(blocked)


def _sla_reasons() -> set[str]:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    reasons: set[str] = set()
    for first_at, now in (
        (None, start + timedelta(hours=5)),
        (start + timedelta(hours=3), start + timedelta(hours=3, minutes=5)),
        (None, start + timedelta(minutes=50)),
        (start + timedelta(minutes=5), start + timedelta(hours=23, minutes=30)),
        (start + timedelta(minutes=5), start + timedelta(hours=30)),
    ):
        clock = Clock(
            started_at=start,
            first_response_due=start + timedelta(hours=1),
            resolution_due=start + timedelta(hours=24),
            first_response_at=first_at,
        )
        reasons |= set(sla_status(clock, now=now).reasons)
    return reasons


# What the services write around the engines' reasons (triage/services.py, replies/services.py,
# triage/assignment.py, triage/waiting.py, triage/sla_timers.py).
SERVICE_REASONS = {
    "SLA breached before the ticket was routed",
    "SLA breached: First response overdue by 2 h 5 min; Resolution due soon",
    "Re-routed by mei",
    "The draft is only a holding reply: a person answers",
    "The draft answers only some of the customer's questions: a person answers",
    "Escalated by an agent (by mei)",
    "VIP customer; Angry customer (strong) (by mei)",
    "The rule's agent is inactive",
    "A rule names this agent",
    "No active team handles this category and language",
    "Nobody in Billing is online: the ticket waits unassigned",
    "Billing: online member with the fewest open tickets (3)",
    "Billing: next online member in turn, after waiting for someone to come online",
}


def test_the_engines_are_driven_into_each_kind_of_reason():
    # Guards the drivers above: if an engine stops giving these, the check below proves little.
    assert {"Customer is VIP", "Angry tone (strong)", "No urgency signals"} <= _triage_reasons()
    assert "Written in zh-Hant" in _routing_reasons()
    assert len(_guardrail_reasons()) >= 14
    assert {"First response due soon", "Resolution due soon"} <= _sla_reasons()


@pytest.mark.parametrize(
    "source",
    [_triage_reasons, _routing_reasons, _guardrail_reasons, _sla_reasons, lambda: SERVICE_REASONS],
)
def test_every_reason_an_engine_gives_is_recognised(source):
    unknown = sorted(r for r in source() if not reason_known(r))
    assert unknown == [], "add these to supportdesk/reasons.py: " + repr(unknown)


def test_a_reason_reads_in_the_readers_language_with_its_codes_as_words():
    with translation.override("zh-hant"):
        assert reason_words("Angry tone (strong)") == "語氣生氣（強烈）"
        assert "網頁表單" in reason_words("Arrived by web")
        escalated = reason_words("VIP customer; Angry customer (strong) (by mei)")
        assert "mei" in escalated and "VIP" in escalated and "Angry" not in escalated
    with translation.override("en"):
        assert reason_words("Angry tone (strong)") == "Angry tone (strong)"
    # What no pattern knows (an agent's own words) is shown as written.
    with translation.override("ja"):
        assert reason_words("Customer asked for the CEO") == "Customer asked for the CEO"


@pytest.mark.parametrize("language", ["zh-hant", "ja", "es"])
def test_every_translation_keeps_the_placeholders_of_its_pattern(language):
    with translation.override(language):
        for english, translated in PATTERNS:
            wanted = set(re.findall(r"\{(\w+)\}", english))
            assert set(re.findall(r"\{(\w+)\}", str(translated))) == wanted, (language, english)


@pytest.mark.parametrize(
    "source",
    [_triage_reasons, _routing_reasons, _guardrail_reasons, _sla_reasons, lambda: SERVICE_REASONS],
)
def test_in_english_every_reason_reads_exactly_as_written(source):
    with translation.override("en"):
        changed = {r: reason_words(r) for r in source() if reason_words(r) != r}
    assert changed == {}
