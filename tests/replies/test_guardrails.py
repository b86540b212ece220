"""Auto-send guardrails: a draft goes out without a person only when every guard passes."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replies.guardrails import AutoSendFacts, autosend_check
from triage.engine.types import EMOTIONS
from triage.routing import ACTIONS, AUTO_SEND, CALM_EMOTIONS

ALL_PASS = AutoSendFacts(
    route_action=AUTO_SEND,
    paused=False,
    category_enabled=True,
    category_confidence=0.95,
    min_category_confidence=0.85,
    draft_confidence=0.8,
    min_draft_confidence=0.6,
    emotion="neutral",
    draft_grounded=True,
    draft_citations=2,
    draft_needs_translation=False,
    promise_flags=(),
    repeat_contact=False,
    auto_replies_in_window=0,
    escalated=False,
    customer_unreachable=False,
    mail_loop_block="",
)

confidence = st.one_of(st.floats(min_value=0, max_value=1), st.just(math.nan))
facts = st.builds(
    AutoSendFacts,
    route_action=st.sampled_from(ACTIONS),
    paused=st.booleans(),
    category_enabled=st.booleans(),
    category_confidence=confidence,
    min_category_confidence=st.floats(min_value=0, max_value=1),
    draft_confidence=confidence,
    min_draft_confidence=st.floats(min_value=0, max_value=1),
    emotion=st.sampled_from((*EMOTIONS, "")),
    draft_grounded=st.booleans(),
    draft_citations=st.integers(min_value=0, max_value=5),
    draft_needs_translation=st.booleans(),
    promise_flags=st.lists(st.text(min_size=1, max_size=20), max_size=2).map(tuple),
    repeat_contact=st.booleans(),
    auto_replies_in_window=st.integers(min_value=0, max_value=3),
    escalated=st.booleans(),
    customer_unreachable=st.booleans(),
    mail_loop_block=st.sampled_from(("", "the message is an auto-reply", "limit reached")),
)


def every_guard_passes(f: AutoSendFacts) -> bool:
    return (
        f.route_action == AUTO_SEND
        and not f.paused
        and f.category_enabled
        and f.category_confidence >= f.min_category_confidence
        and f.draft_confidence >= f.min_draft_confidence
        and f.emotion in CALM_EMOTIONS
        and f.draft_grounded
        and f.draft_citations > 0
        and not f.draft_needs_translation
        and not f.promise_flags
        and not f.repeat_contact
        and f.auto_replies_in_window == 0
        and not f.escalated
        and not f.customer_unreachable
        and not f.mail_loop_block
    )


@given(facts)
def test_no_combination_auto_sends_unless_every_guard_passes(f):
    verdict = autosend_check(f)

    assert verdict.allowed == every_guard_passes(f)
    assert verdict.allowed == (not verdict.blocked_by)


@given(facts.filter(lambda f: not every_guard_passes(f)))
def test_a_blocked_draft_always_says_why(f):
    verdict = autosend_check(f)

    assert not verdict.allowed
    assert all(reason.strip() for reason in verdict.blocked_by)


def test_a_draft_that_passes_every_guard_is_sent():
    assert autosend_check(ALL_PASS).allowed


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"route_action": "auto_reply"}, "The routing rules did not choose auto-send"),
        ({"paused": True}, "Auto-send is paused for the whole desk"),
        ({"category_enabled": False}, "Auto-send is not enabled for this category"),
        ({"category_confidence": 0.7}, "Category confidence 70% is below 85%"),
        ({"draft_confidence": 0.5}, "Draft confidence 50% is below 60%"),
        ({"emotion": "anxious"}, "Customer is not calm (anxious)"),
        ({"draft_grounded": False}, "The draft is not grounded in the knowledge base"),
        ({"draft_citations": 0}, "The draft is not grounded in the knowledge base"),
        ({"draft_needs_translation": True}, "The draft is not in the customer's language"),
        (
            {"promise_flags": ("refund within 24 hours",)},
            "The draft makes a promise the knowledge base does not support",
        ),
        ({"repeat_contact": True}, "Repeat contact"),
        ({"auto_replies_in_window": 1}, "Already answered automatically in the last 24 h"),
        ({"escalated": True}, "The ticket is escalated"),
        (
            {"customer_unreachable": True},
            "Replies to this customer bounced: automatic sends are stopped",
        ),
        (
            {"mail_loop_block": "Auto-Submitted: auto-replied"},
            "Mail-loop guard: Auto-Submitted: auto-replied",
        ),
    ],
)
def test_each_guard_alone_holds_the_draft_back_and_names_itself(change, reason):
    verdict = autosend_check(replace(ALL_PASS, **change))

    assert not verdict.allowed
    assert verdict.blocked_by == (reason,)
