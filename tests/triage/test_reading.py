"""What the engine reads of a message: the customer's new text, not quoted earlier mail; the
encoder only its start, the rules all of it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.triage.engine_data import toy_examples
from triage.engine import LocalTriageEngine, TriageInput, train_category_model
from triage.engine.embed import ENCODER_TOKENS, E5Embedder, encoder_text, token_estimate
from triage.engine.local import models_text

QUOTED_THREAT = """Thanks, the parcel arrived this morning and everything is fine.

Sent from my iPhone

On Tue, 3 Jun 2025 at 14:02, Dana Whitfield <dana@example.com> wrote:
> This is a scam. If my money is not back by Friday my lawyer will call you.
> I want a chargeback."""

LONG_WITH_THREAT_AT_THE_END = (
    "Hello, I am writing about order LM-204118. "
    + "The sofa arrived with a torn cushion and a scratched leg, and nobody answered. " * 8
    + "If this is not sorted out this week my lawyer will be in touch."
)


@pytest.fixture(scope="module")
def engine() -> LocalTriageEngine:
    return LocalTriageEngine(
        train_category_model(toy_examples(), oos_label="other"), None, languages=("en",)
    )


def test_a_quoted_threat_from_an_earlier_mail_does_not_make_todays_thanks_urgent(engine) -> None:
    result = engine.analyse(TriageInput(text=QUOTED_THREAT, subject="Re: my refund"))

    assert result.urgency != "high"
    assert not any("legal" in reason.lower() for reason in result.urgency_reasons)


def test_the_rules_read_a_long_message_to_its_end(engine) -> None:
    assert token_estimate(LONG_WITH_THREAT_AT_THE_END) > ENCODER_TOKENS

    result = engine.analyse(TriageInput(text=LONG_WITH_THREAT_AT_THE_END))

    assert (result.urgency, result.needs_human) == ("high", True)


def test_drafting_reads_the_same_text_as_triage() -> None:
    text = models_text("Re: my refund", QUOTED_THREAT)

    assert text == "Re: my refund\nThanks, the parcel arrived this morning and everything is fine."


def test_the_encoder_reads_the_start_of_a_long_message_up_to_a_sentence_end() -> None:
    read = encoder_text(LONG_WITH_THREAT_AT_THE_END)

    assert LONG_WITH_THREAT_AT_THE_END.startswith(read)
    assert read.endswith(".") and "lawyer" not in read
    assert ENCODER_TOKENS / 2 < token_estimate(read) <= ENCODER_TOKENS
    short = "Where is my parcel? It was due on Monday."
    assert encoder_text(short) == short


def test_chinese_and_japanese_are_cut_by_character() -> None:
    text = "我的訂單還沒有到。" * 40  # 360 characters, about one token each

    read = encoder_text(text)

    assert read.endswith("。")
    assert 64 < len(read) <= ENCODER_TOKENS


def test_e5_reads_a_long_message_only_to_its_token_budget() -> None:
    start = "The sofa arrived with a torn cushion and a scratched leg. " * 12
    calm, threat = start + "Thanks anyway.", start + "My lawyer will be in touch."
    short_calm, short_threat = "Thanks anyway.", "My lawyer will be in touch."

    vectors = E5Embedder().embed([calm, threat, short_calm, short_threat])

    assert np.allclose(vectors[0], vectors[1], atol=1e-5)  # the ending is past the budget
    assert not np.allclose(vectors[2], vectors[3], atol=1e-2)
