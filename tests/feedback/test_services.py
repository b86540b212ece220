"""Feedback events: one human decision on one AI output, with a readable diff."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from feedback.models import FeedbackEvent
from feedback.services import feedback_record, text_diff
from tests.factories import DraftFactory, RoutingDecisionFactory, TriageResultFactory


def test_diff_shows_removed_and_added_lines_with_a_little_context():
    before = "Hello Maria,\nOpen Settings.\nChoose Address.\nBest wishes"
    after = "Hello Maria,\nOpen Orders.\nChoose Address.\nBest wishes"

    lines = text_diff(before, after).splitlines()

    assert lines[:2] == ["--- draft", "+++ sent"]
    assert "-Open Settings." in lines
    assert "+Open Orders." in lines
    assert " Hello Maria," in lines  # one line of context either side
    assert " Best wishes" not in lines


def test_diff_of_identical_text_is_empty():
    assert text_diff("Same\ntext", "Same\ntext") == ""


@pytest.mark.django_db
def test_event_records_the_decision_on_a_draft(agent):
    draft = DraftFactory()

    event = feedback_record(
        kind="draft_edited",
        actor=agent,
        ticket=draft.ticket,
        draft=draft,
        before={"text": "a"},
        after={"text": "b"},
        diff="-a\n+b",
    )

    stored = FeedbackEvent.objects.get(pk=event.pk)
    assert (stored.kind, stored.actor, stored.draft, stored.diff) == (
        "draft_edited",
        agent,
        draft,
        "-a\n+b",
    )


@pytest.mark.django_db
def test_an_event_must_judge_exactly_one_ai_output(agent):
    draft = DraftFactory()
    triage = TriageResultFactory(message=draft.in_reply_to)

    with pytest.raises(ValueError, match="exactly one"):
        feedback_record(kind="draft_approved", actor=agent, ticket=draft.ticket)
    with pytest.raises(ValueError, match="exactly one"):
        feedback_record(
            kind="draft_approved", actor=agent, ticket=draft.ticket, draft=draft, triage=triage
        )

    assert not FeedbackEvent.objects.exists()


@pytest.mark.django_db
def test_the_database_also_refuses_an_event_judging_two_outputs(agent):
    routing = RoutingDecisionFactory()
    draft = DraftFactory(in_reply_to=routing.triage.message)

    with pytest.raises(IntegrityError):
        FeedbackEvent.objects.create(
            kind="escalated", actor=agent, ticket=draft.ticket, draft=draft, routing=routing
        )
