"""The seed's routing rules: who sees a ticket first, and the reasons shown to them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from triage.routing import RouteInput, decide_route

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


def route(**changes: object):
    return decide_route(replace(ROUTINE_CALM, **changes), low_confidence=0.5)


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
        ({"emotion": "angry", "emotion_confidence": 0.87}, "Angry customer (87% confidence)"),
        ({"urgency": "high"}, "High urgency"),
    ],
)
def test_vip_angry_or_urgent_alerts_a_supervisor(changes, reason):
    decision = route(**changes)

    assert decision.action == "supervisor"
    assert decision.reasons == (reason,)


def test_supervisor_alert_lists_every_reason():
    decision = route(vip=True, emotion="angry", emotion_confidence=0.6, urgency="high")

    assert decision.action == "supervisor"
    assert decision.reasons == ("VIP customer", "Angry customer (60% confidence)", "High urgency")


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
    strict = decide_route(replace(ROUTINE_CALM, category_confidence=0.7), low_confidence=0.8)
    lenient = decide_route(replace(ROUTINE_CALM, category_confidence=0.7), low_confidence=0.5)

    assert strict.action == "human"
    assert lenient.action == "auto_reply"


@pytest.mark.parametrize("emotion", ["neutral", "positive", "confused"])
def test_calm_emotions_allow_an_auto_reply(emotion):
    assert route(emotion=emotion).action == "auto_reply"


@pytest.mark.parametrize("emotion", ["sad", "anxious"])
def test_distressed_customers_get_a_human(emotion):
    assert route(emotion=emotion).action == "human"
