"""Routing rules: who sees a ticket first, every rule that fired, and the reasons shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from triage.routing import (
    AUTO_REPLY,
    HUMAN,
    NO_RULE_REASON,
    SUPERVISOR,
    RouteInput,
    Rule,
    decide_route,
    rule_matches,
    rule_summary,
    seed_rules,
)

ROUTINE_CALM = RouteInput(
    category="delivery",
    category_confidence=0.92,
    category_is_routine=True,
    out_of_scope=False,
    emotion="neutral",
    emotion_confidence=0.8,
    urgency="low",
    needs_human=False,
    vip=False,
    recent_contacts=0,
)


SEED = seed_rules(low_confidence=0.5)


def route(**changes: object):
    return decide_route(SEED, replace(ROUTINE_CALM, **changes))


def test_routine_question_from_calm_customer_is_an_auto_reply_candidate():
    decision = route()

    assert decision.action == "auto_reply"
    assert decision.reasons == (
        "Routine category 'delivery' (92% confidence)",
        "Calm customer (neutral)",
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"vip": True}, "VIP customer"),
        (
            {"emotion": "angry", "emotion_confidence": 0.87, "emotion_intensity": 0.9},
            "Angry customer (strong)",
        ),
        ({"urgency": "high"}, "High urgency"),
    ],
)
def test_vip_angry_or_urgent_alerts_a_supervisor(changes, reason):
    decision = route(**changes)

    assert decision.action == "supervisor"
    assert decision.reasons == (reason,)


def test_supervisor_alert_lists_every_reason():
    decision = route(
        vip=True, emotion="angry", emotion_confidence=0.6, emotion_intensity=0.8, urgency="high"
    )

    assert decision.action == "supervisor"
    assert decision.reasons == ("VIP customer", "Angry customer (strong)", "High urgency")


def test_a_mildly_annoyed_customer_goes_to_an_agent_without_paging_a_supervisor():
    mild = route(emotion="angry", emotion_confidence=0.9, emotion_intensity=0.4)
    strong = route(emotion="angry", emotion_confidence=0.9, emotion_intensity=0.9)

    assert mild.action == "human"
    assert strong.action == "supervisor"


def test_supervisor_rules_win_over_human_rules():
    decision = route(vip=True, category_is_routine=False, recent_contacts=3)

    assert decision.action == "supervisor"
    assert decision.reasons == ("VIP customer",)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"category": "refund", "category_is_routine": False},
            "'refund' is not a routine category",
        ),
        ({"out_of_scope": True}, "Question fits no known category"),
        ({"category": ""}, "Question fits no known category"),
        ({"category_confidence": 0.31}, "Low category confidence (31%)"),
        ({"recent_contacts": 2}, "Repeat contact: 2 earlier ticket(s) recently"),
        ({"emotion": "anxious"}, "Customer seems anxious"),
        ({"needs_human": True}, "Triage asked for a human"),
        ({"reopened": True}, "Repeat contact: wrote again after the ticket was solved"),
    ],
)
def test_anything_not_routine_and_calm_goes_to_a_human_with_the_reason(changes, reason):
    decision = route(**changes)

    assert decision.action == "human"
    assert decision.reasons == (reason,)


def test_human_route_gives_all_reasons_at_once():
    decision = route(
        category="payment", category_is_routine=False, category_confidence=0.4, recent_contacts=1
    )

    assert decision.action == "human"
    assert decision.reasons == (
        "'payment' is not a routine category",
        "Low category confidence (40%)",
        "Repeat contact: 1 earlier ticket(s) recently",
    )


def test_low_confidence_threshold_comes_from_the_caller():
    facts = replace(ROUTINE_CALM, category_confidence=0.7)
    strict = decide_route(seed_rules(low_confidence=0.8), facts)
    lenient = decide_route(seed_rules(low_confidence=0.5), facts)

    assert strict.action == "human"
    assert lenient.action == "auto_reply"


@pytest.mark.parametrize("emotion", ["neutral", "positive", "confused"])
def test_calm_emotions_allow_an_auto_reply(emotion):
    assert route(emotion=emotion).action == "auto_reply"


@pytest.mark.parametrize("emotion", ["sad", "anxious"])
def test_distressed_customers_get_a_human(emotion):
    assert route(emotion=emotion).action == "human"


def test_the_decision_names_the_rule_that_fired_and_its_matched_conditions():
    decision = route(vip=True, urgency="high")

    assert [f.name for f in decision.fired] == [SEED[0].name]
    assert decision.fired[0].conditions == ("VIP customer", "High urgency")
    assert decision.fired_json[0]["action"] == SUPERVISOR
    assert decision.notify_supervisors


def test_a_rule_with_all_conditions_fires_only_when_every_one_matches():
    rule = Rule(
        name="German billing", action=HUMAN, languages=frozenset({"de"}), keywords=("rechnung",)
    )
    german_invoice = replace(ROUTINE_CALM, language="de", text="Meine Rechnung ist falsch")

    assert rule_matches(rule, german_invoice) == ("Written in de", "Mentions 'rechnung'")
    assert rule_matches(rule, replace(german_invoice, language="en")) is None
    assert rule_matches(rule, replace(german_invoice, text="Wo ist mein Paket?")) is None


def test_language_rules_match_a_script_variant():
    rule = Rule(name="Chinese", action=HUMAN, languages=frozenset({"zh"}))

    assert rule_matches(rule, replace(ROUTINE_CALM, language="zh-Hant")) == ("Written in zh-Hant",)


def test_emotion_below_the_minimum_confidence_does_not_fire():
    rule = Rule(
        name="Angry", action=SUPERVISOR, emotions=frozenset({"angry"}), min_emotion_confidence=0.5
    )

    assert (
        rule_matches(rule, replace(ROUTINE_CALM, emotion="angry", emotion_confidence=0.3)) is None
    )
    assert route(emotion="angry", emotion_confidence=0.3).action == HUMAN


@pytest.mark.parametrize(
    ("changes", "fires"),
    [
        ({"plan": "enterprise"}, True),
        ({"plan": "free"}, False),
        ({"channel": "email"}, True),
        ({"channel": "web"}, False),
        ({"new_customer": True}, True),
        ({"category": "refund"}, True),
    ],
)
def test_customer_channel_and_category_conditions(changes, fires):
    rules = [
        Rule(name="Enterprise", action=SUPERVISOR, plans=frozenset({"enterprise"})),
        Rule(name="E-mail", action=HUMAN, channels=frozenset({"email"})),
        Rule(name="Newcomers", action=HUMAN, new_customer=True),
        Rule(name="Refunds", action=HUMAN, categories=frozenset({"refund"})),
    ]
    decision = decide_route(rules, replace(replace(ROUTINE_CALM, channel="web"), **changes))

    assert bool(decision.fired) is fires


def test_rules_without_an_action_add_side_effects_and_let_later_rules_decide():
    rules = [
        Rule(
            name="Enterprise is urgent",
            plans=frozenset({"enterprise"}),
            set_urgency="high",
            assign_agent_id=7,
            notify_supervisors=True,
            stop=False,
        ),
        *SEED,
    ]
    decision = decide_route(rules, replace(ROUTINE_CALM, plan="enterprise"))

    # The raised urgency is what the seed's supervisor rule sees.
    assert decision.action == SUPERVISOR
    assert [f.name for f in decision.fired] == ["Enterprise is urgent", SEED[0].name]
    assert decision.reasons == ("Enterprise plan", "High urgency")
    assert (decision.set_urgency, decision.assign_agent_id) == ("high", 7)
    assert decision.deciding_rule_id is None  # the seed rules here have no database id


def test_a_notify_rule_without_an_action_leaves_the_route_to_later_rules():
    rules = [Rule(name="Tell supervisors", notify_supervisors=True, stop=False), *SEED]

    decision = decide_route(rules, ROUTINE_CALM)

    assert decision.action == AUTO_REPLY
    assert decision.notify_supervisors
    assert [f.name for f in decision.fired] == ["Tell supervisors", SEED[2].name]


def test_a_rule_that_stops_hides_later_rules():
    rules = [Rule(name="Stop here", keywords=("test",)), *SEED]

    decision = decide_route(rules, replace(ROUTINE_CALM, text="just a test"))

    assert decision.action == HUMAN
    assert decision.reasons == ("Mentions 'test'", NO_RULE_REASON)


def test_without_any_rule_a_person_decides():
    decision = decide_route([], ROUTINE_CALM)

    assert decision.action == HUMAN
    assert decision.reasons == (NO_RULE_REASON,)


def test_a_rule_without_conditions_always_fires():
    decision = decide_route([Rule(name="Everything to people", action=HUMAN)], ROUTINE_CALM)

    assert decision.fired[0].conditions == ("Always",)
    assert decision.reasons == ("Rule: Everything to people",)


def test_rule_summary_reads_like_a_sentence():
    assert rule_summary(SEED[0]) == [
        "VIP customer",
        "customer is angry (confidence at least 50%) (intensity at least 0.7)",
        "urgency is high",
    ]
    assert rule_summary(Rule(name="x")) == ["always"]
