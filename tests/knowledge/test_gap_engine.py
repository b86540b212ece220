"""The plain-Python parts of knowledge gaps: what a message asks, the FAQ answer made from an
agent's reply, and the numbers that make an answer contradict an article."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.engine.faq import answer_from_reply, contradictions, most_typical
from knowledge.engine.gaps import (
    OTHER_LANGUAGE,
    SAME_LANGUAGE,
    ClusterView,
    best_cluster,
    question_of,
    without_personal_data,
)


@pytest.mark.parametrize(
    ("subject", "body", "asked"),
    [
        (
            "Gift for my sister!",
            "Hello! I'm sending tumblers to my sister.\nIs it possible to add a gift note?\n"
            "Thank you so much",
            "Is it possible to add a gift note?",
        ),
        (
            "¿Envuelven para regalo?",
            "Hola, ¿tienen envoltura de regalo?",
            "¿tienen envoltura de regalo?",
        ),
        ("", "置き配は指定できますか？玄関前で大丈夫です。", "置き配は指定できますか？"),
        ("Löschung", "Bitte löschen Sie mein Kundenkonto.", "Bitte löschen Sie mein Kundenkonto."),
        ("Apple Watch?", "For my boyfriend.", "Apple Watch?"),
    ],
)
def test_the_question_is_what_the_customer_asks_without_greetings(subject, body, asked):
    assert question_of(subject, body) == asked


@pytest.mark.parametrize(
    "body",
    [
        "Thanks, it arrived today!",
        "Worst service ever. I'm done with you people.",
        "<script>alert(1)</script> can you?",
        "test",
        "https://a.example https://b.example https://c.example",
        "Want your shop on the first page of Google? Our SEO team gets you backlinks. Reply?",
        "Dear Sir/Madam, can we send you a collaboration proposal? https://promo.example",
    ],
)
def test_nothing_is_asked_by_thanks_complaints_or_probes(body):
    assert question_of("", body) == ""


def test_personal_data_reads_as_what_it_was():
    text = "Dana here, order LM-204118, call +1 415 555 0100 or dana.w@example.com. Can you?"

    clean = without_personal_data(text, names=["Dana Whitfield"], email="dana.w@example.com")

    assert "Dana" not in clean and "204118" not in clean and "555" not in clean
    assert "[e-mail]" in clean and "[name]" in clean


def test_an_agents_reply_loses_its_greeting_thanks_and_signature():
    reply = (
        "Hi Dana,\n\nThanks for reaching out!\n\nYes, we wrap any order for $5.\n"
        "Just tick Gift wrap at checkout.\n\nBest,\nJess\nLumen Support"
    )

    assert (
        answer_from_reply(reply)
        == "Yes, we wrap any order for $5.\nJust tick Gift wrap at checkout."
    )


def test_sentences_about_the_customers_own_case_are_left_out():
    reply = (
        "[name], I checked your order [order number]: it has not shipped yet. "
        "Gift wrap costs $5 and is chosen at checkout.\n注文 [order number] を確認しました。"
        "ラッピングは 500 円です。"
    )

    assert answer_from_reply(reply) == (
        "Gift wrap costs $5 and is chosen at checkout.\nラッピングは 500 円です。"
    )


def test_the_most_typical_reply_is_the_one_sharing_most_with_the_others():
    replies = [
        "See our website.",
        "We wrap any order for $5: tick Gift wrap at checkout and add a card.",
        "Tick Gift wrap at checkout; wrapping is $5 and includes a card.",
        "Gift wrap is $5 per order, chosen at checkout.",
    ]

    assert most_typical(replies, "en") in (1, 2)


@pytest.mark.parametrize(
    ("answer", "article", "unit"),
    [
        ("Returns within 14 days.", "You may return items within 30 days.", "day"),
        ("退貨期限為 14 天。", "30 天內可退貨。", "day"),
        ("Wrapping costs $5.", "Gift wrap is $7 per order.", "currency"),
    ],
)
def test_numbers_of_one_unit_that_differ_are_a_contradiction(answer, article, unit):
    [found] = contradictions(answer, article)

    assert found.unit == unit


def test_agreeing_numbers_are_no_contradiction():
    assert contradictions("Returns within 30 days, $5 fee.", "Return within 30 days.") == []


def _cluster(pk: int, language: str, vector: np.ndarray) -> ClusterView:
    return ClusterView(id=pk, vector_model="m", centroids={language: vector.tolist()}, words={})


def test_a_question_joins_a_cluster_in_another_language_at_a_lower_closeness():
    base = np.zeros(8, dtype=np.float32)
    base[0] = 1.0
    close = np.zeros(8, dtype=np.float32)
    close[0], close[1] = OTHER_LANGUAGE + 0.05, 1.0
    close /= np.linalg.norm(close)
    assert float(close @ base) < SAME_LANGUAGE

    other_language = best_cluster(
        language="pt",
        vector=close,
        vector_model="m",
        question="",
        clusters=[_cluster(1, "en", base)],
    )
    same_language = best_cluster(
        language="en",
        vector=close,
        vector_model="m",
        question="",
        clusters=[_cluster(1, "en", base)],
    )

    assert other_language is not None and other_language.cluster_id == 1
    assert same_language is None


def test_without_vectors_questions_match_on_their_words_in_one_language():
    clusters = [
        ClusterView(
            id=7,
            vector_model="words",
            centroids={},
            words={"en": {"gift": 2, "wrap": 2, "offer": 1}},
        )
    ]

    match = best_cluster(
        language="en",
        vector=None,
        vector_model="words",
        question="Do you gift wrap?",
        clusters=clusters,
    )

    assert match is not None and match.cluster_id == 7
