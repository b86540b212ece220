"""Export rows from decisions, without a database: redaction, the two formats, edit distance."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from replies.engine.export import (
    Decision,
    DeskVoice,
    edit_distance,
    eval_row,
    finetune_row,
    system_prompt,
)

NAME, EMAIL, ORDER = "Maria Garcia", "maria.garcia@example.org", "A-99812"

DECISION = Decision(
    key="draft-1",
    ticket_id=7,
    decided_at=datetime(2025, 3, 2, 9, 30, tzinfo=UTC),
    outcome="edited",
    subject=f"Order #{ORDER} has not arrived",
    message=f"Hi, this is {NAME} ({EMAIL}). My order #{ORDER} has not arrived.",
    language="en",
    category="delivery",
    emotion="anxious",
    urgency="medium",
    customer_type="paying",
    customer_name=NAME,
    customer_email=EMAIL,
    draft=f"Hi {NAME},\n\nYour order #{ORDER} is on its way.\n\nBest regards,",
    sent=f"Hi Maria,\n\nYour order #{ORDER} left our warehouse today.\n\nBest regards,\nBob Stone",
    agent_name="Bob Stone",
    draft_engine="local/1",
    draft_confidence=0.7,
    grounded=True,
)


def test_no_name_address_or_order_number_survives_and_placeholders_agree_across_texts():
    row = eval_row(DECISION)
    text = str(row)

    for secret in (NAME, "Maria", "Garcia", EMAIL, ORDER, "Bob Stone"):
        assert secret not in text
    # One redactor per decision: the same order is <ORDER_1> in the subject and every text.
    assert row["input"]["subject"] == "Order #<ORDER_1> has not arrived"
    assert row["input"]["message"] == (
        "Hi, this is <NAME_1> (<EMAIL_1>). My order #<ORDER_1> has not arrived."
    )
    assert row["draft"].startswith("Hi <NAME_1>,")
    # The agent's full name, then the customer's first name alone, are new placeholders.
    assert row["sent"] == (
        "Hi <NAME_3>,\n\nYour order #<ORDER_1> left our warehouse today.\n\nBest regards,\n<NAME_2>"
    )


def test_an_evaluation_row_carries_labels_outcome_diff_and_distance():
    row = eval_row(DECISION)

    assert row["labels"] == {
        "category": "delivery",
        "emotion": "anxious",
        "urgency": "medium",
        "language": "en",
    }
    assert (row["id"], row["ticket_id"], row["outcome"]) == ("draft-1", 7, "edited")
    assert row["decided_at"] == "2025-03-02T09:30:00+00:00"
    assert "-Your order #<ORDER_1> is on its way." in row["diff"].splitlines()
    assert row["edit_distance"] > 0


def test_an_escalated_draft_has_no_reply_no_distance_and_no_fine_tuning_example():
    escalated = replace(DECISION, outcome="escalated", sent=None, note=f"{NAME} threatens to sue")

    row = eval_row(escalated)

    assert (row["sent"], row["edit_distance"], row["diff"]) == (None, None, "")
    assert row["note"] == "<NAME_1> threatens to sue"
    assert finetune_row(escalated, DeskVoice(brand="Lumen")) is None


@pytest.mark.parametrize("outcome", ["auto", "escalated"])
def test_only_replies_a_person_stood_behind_become_fine_tuning_examples(outcome):
    assert finetune_row(replace(DECISION, outcome=outcome), DeskVoice(brand="Lumen")) is None


def test_a_fine_tuning_example_is_system_user_assistant_with_the_context():
    example = finetune_row(DECISION, DeskVoice(brand="Lumen"))

    roles = [m["role"] for m in example["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert all(m["content"].strip() for m in example["messages"])
    system, user, assistant = (m["content"] for m in example["messages"])
    assert "Lumen" in system and "English (en)" in system
    assert user.splitlines()[:4] == [
        "Subject: Order #<ORDER_1> has not arrived",
        "Category: delivery",
        "Language: en",
        "Customer: paying",
    ]
    assert user.endswith("My order #<ORDER_1> has not arrived.")
    assert assistant.endswith("Best regards,\n<NAME_2>")  # the agent's signature
    assert ORDER not in str(example) and NAME not in str(example)


def test_the_system_prompt_speaks_the_locale_and_register_the_desk_writes_in():
    everyday = system_prompt("es-MX", DeskVoice(brand="Lumen"))
    formal = system_prompt("ja", DeskVoice(brand="Lumen", formal=True))

    assert "Spanish (es-MX)" in everyday and "everyday register" in everyday
    assert "Japanese (ja)" in formal and "formal register" in formal


def test_edit_distance_counts_words_and_each_cjk_character():
    assert edit_distance("Open Settings now.", "Open Settings now.") == 0
    assert edit_distance("Open Settings now.", "Open Orders now.") == 1
    assert edit_distance("Open Settings.", "Open Settings and choose Address.") == 3
    assert edit_distance("請開啟設定", "請開啟訂單") == 2
    assert edit_distance("", "Hello there") == 2
