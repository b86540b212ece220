"""The local triage engine, without a database: language, category, emotion, rules, store."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from tests.triage.engine_data import EMOTION_DATA, toy_examples
from triage.engine import (
    EMOTIONS,
    URGENCIES,
    CustomerContext,
    LocalTriageEngine,
    ModelIntegrityError,
    Signals,
    TriageInput,
    decide,
    detect_language,
    load_emotion_examples,
    load_local_engine,
    load_model,
    predict_emotion,
    save_model,
    train_and_save,
    train_category_model,
    train_emotion_model,
)
from triage.engine.decision import fit_offsets, macro_f1, shift
from triage.engine.sentences import is_long, split_sentences

LANGUAGES = ("en", "ja", "zh-Hant", "zh-Hans", "es", "de", "fr", "pt")
SEED_TICKET = "我不知道怎麼取消自動續訂，我現在帳戶裡被扣了錢。"


@pytest.fixture(scope="module")
def category_model():
    return train_category_model(toy_examples(), oos_label="other")


@pytest.fixture(scope="module")
def emotion_model():
    rows = load_emotion_examples(EMOTION_DATA)
    random.Random(3).shuffle(rows)
    return train_emotion_model(rows[:3000], folds=0)


# -- language ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, I was charged twice for my subscription and need help.", "en"),
        ("注文した商品がまだ届いていません。確認していただけますか。", "ja"),
        (SEED_TICKET, "zh-Hant"),
        ("我不知道怎么取消自动续订，我现在账户里被扣了钱。", "zh-Hans"),
        ("Hola, no puedo iniciar sesión en mi cuenta desde ayer.", "es"),
        ("Ich wurde zweimal belastet und möchte mein Geld zurück.", "de"),
        ("Bonjour, je n'arrive plus à me connecter à mon compte.", "fr"),
        ("Olá, fui cobrado duas vezes e quero o reembolso.", "pt"),
    ],
)
def test_detects_each_supported_language(text: str, expected: str) -> None:
    language, confidence = detect_language(text, candidates=LANGUAGES)
    assert language == expected
    assert confidence > 0.5


def test_kana_means_japanese_even_when_mostly_kanji() -> None:
    text = "領収書発行依頼確認済返金処理未完了です"
    assert detect_language(text, candidates=LANGUAGES)[0] == "ja"


def test_mentions_hashtags_and_links_do_not_decide_the_language() -> None:
    text = "@loja #blackfriday https://example.com/promo fui cobrado duas vezes, quero meu dinheiro"
    assert detect_language(text, candidates=LANGUAGES)[0] == "pt"


def test_empty_text_falls_back_to_the_first_candidate_with_low_confidence() -> None:
    language, confidence = detect_language(" @someone #tag ", candidates=("es", "en"))
    assert (language, confidence < 0.3) == ("es", True)


# -- category ------------------------------------------------------------------------------


def test_category_model_learns_a_toy_taxonomy(category_model) -> None:
    prediction = category_model.predict("I got charged two times for one order, refund me")
    assert (prediction.label, prediction.out_of_scope) == ("billing", False)
    assert category_model.predict("my password reset email never came").label == "account"
    assert 0.0 <= prediction.confidence <= 1.0


@pytest.mark.parametrize("text", ["xqzv plokm wertyu zzkj", "What's a good recipe for lasagna?"])
def test_gibberish_and_other_domains_are_out_of_scope(category_model, text: str) -> None:
    assert category_model.predict(text).out_of_scope


def test_category_metrics_come_from_a_held_out_slice(category_model) -> None:
    metrics = category_model.metrics
    assert metrics["heldout"] >= 4
    assert {"accuracy", "macro_f1", "ece", "threshold"} <= metrics.keys()


def test_tiny_training_set_trains_without_a_held_out_slice() -> None:
    examples = [
        ("refund my money", "billing"),
        ("charged twice", "billing"),
        ("wrong invoice", "billing"),
        ("cannot log in", "account"),
        ("reset my password", "account"),
        ("account locked", "account"),
    ]
    model = train_category_model(examples)
    assert model.predict("I was charged twice").label == "billing"
    assert "accuracy" not in model.metrics


# -- emotion -------------------------------------------------------------------------------


def test_angry_english_complaint_is_angry(emotion_model) -> None:
    text = "This is ridiculous and unacceptable. I'm furious, your service is a joke!"
    prediction = predict_emotion(emotion_model, text, language="en")
    assert (prediction.emotion, prediction.source) == ("angry", "model")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Estoy muy enfadado, me cobraron dos veces y nadie responde.", "es", "angry"),
        ("注文した商品が届かず、とても不安です。", "ja", "anxious"),
        ("你們太扯了，等了兩個禮拜還沒出貨！", "zh-Hant", "angry"),
        ("我很担心我的账户被别人登录了", "zh-Hans", "anxious"),
        (SEED_TICKET, "zh-Hant", "confused"),
    ],
)
def test_lexicon_reads_emotion_the_english_model_cannot(
    emotion_model, text: str, language: str, expected: str
) -> None:
    prediction = predict_emotion(emotion_model, text, language=language)
    assert (prediction.emotion, prediction.source) == (expected, "lexicon")


def test_non_english_without_a_cue_keeps_the_model_guess_with_less_confidence(
    emotion_model,
) -> None:
    text = "Quisiera cambiar la dirección de envío de mi pedido."
    prediction = predict_emotion(emotion_model, text, language="es")
    assert prediction.source == "model"
    assert prediction.confidence <= 0.5


LONG_COMPLAINT = """Charged TWICE for my order - unacceptable
Hello,
I have just looked at my bank statement and you have taken payment for order LM-208841 twice.
I have been a member for four years and I spend a great deal of money with you. I expect the
duplicate refunded today.
Kind regards,
Margaret Okafor"""

CALM_QUESTION = """Where is my parcel?
Hi,
I ordered a set of linen curtains last week (order LM-207315) and the tracking has not changed
since Monday. Could you let me know when it is likely to arrive? No rush, I just want to know
whether I need to be home.
Thanks,
Daniel"""


def test_a_long_email_is_read_by_sentence_so_its_complaint_is_not_drowned_out(
    emotion_model,
) -> None:
    prediction = predict_emotion(emotion_model, LONG_COMPLAINT, language="en")

    assert (prediction.emotion, prediction.source) == ("angry", "sentences")
    assert "unacceptable" in prediction.cues


def test_greetings_and_thanks_do_not_make_a_long_email_positive(emotion_model) -> None:
    prediction = predict_emotion(emotion_model, CALM_QUESTION, language="en")

    assert prediction.source == "sentences"
    assert prediction.emotion in ("neutral", "confused")


def test_sentences_leave_out_greetings_closings_and_signatures() -> None:
    assert split_sentences(CALM_QUESTION) == [
        "Where is my parcel?",
        "I ordered a set of linen curtains last week (order LM-207315) and the tracking has not"
        " changed since Monday.",  # one sentence, though the e-mail wrapped it
        "Could you let me know when it is likely to arrive?",
        "No rush, I just want to know whether I need to be home.",
    ]
    assert split_sentences("荷物が届きません。とても不安です。\nよろしくお願いいたします。") == [
        "荷物が届きません。",
        "とても不安です。",
        "よろしくお願いいたします。",
    ]


def test_only_messages_beyond_the_training_comments_length_are_read_by_sentence() -> None:
    comment = "Honestly this is the best thing that happened to the team all season, love it"
    assert not is_long(comment)
    assert is_long(CALM_QUESTION)  # several lines, like any e-mail
    assert is_long(" ".join(["word"] * 31))


# -- rules ---------------------------------------------------------------------------------


def _signals(
    text: str, emotion: str = "neutral", confidence: float = 0.9, intensity: float = 0.0
) -> Signals:
    return Signals(
        text, emotion, confidence, "billing", 0.95, out_of_scope=False, emotion_intensity=intensity
    )


def test_vip_angry_about_money_is_high_urgency_with_reasons() -> None:
    signals = _signals("You charged me twice!", "angry", 0.82, intensity=0.9)
    decision = decide(signals, CustomerContext(vip=True))
    assert decision.urgency == "high"
    assert "Customer is VIP" in decision.urgency_reasons
    assert "Angry tone (strong)" in decision.urgency_reasons
    assert any("money" in reason for reason in decision.urgency_reasons)
    assert decision.needs_human_reasons == ("Angry tone (strong)",)


def test_mild_anger_raises_urgency_but_needs_no_human_on_its_own() -> None:
    decision = decide(
        _signals("a bit annoyed, to be honest", "angry", 0.9, intensity=0.35), CustomerContext()
    )
    assert "Angry tone (mild)" in decision.urgency_reasons
    assert decision.needs_human_reasons == ()


def test_plain_question_is_low_urgency_and_needs_no_human() -> None:
    decision = decide(_signals("How do I download my invoice?"), CustomerContext())
    assert (decision.urgency, decision.needs_human) == ("low", False)


@pytest.mark.parametrize(
    "text",
    [
        "Mi cuenta fue hackeada",
        "我的帳號被盜用了",
        "不正アクセスされました",
        "My lawyer will call you",
    ],
)
def test_security_and_legal_mentions_go_to_a_human_in_any_language(text: str) -> None:
    decision = decide(_signals(text), CustomerContext())
    assert (decision.urgency, decision.needs_human) == ("high", True)


def test_repeat_contact_and_low_confidence_are_explained() -> None:
    signals = Signals("hello again", "neutral", 0.9, "billing", 0.41, out_of_scope=False)
    decision = decide(signals, CustomerContext(recent_contacts=2))
    assert "Repeat contact: 3 tickets in 7 days" in decision.needs_human_reasons
    assert "Low category confidence (0.41)" in decision.needs_human_reasons


# -- engine and store ----------------------------------------------------------------------


def test_engine_triages_the_seed_ticket(category_model, emotion_model) -> None:
    engine = LocalTriageEngine(category_model, emotion_model, languages=LANGUAGES)
    result = engine.analyse(TriageInput(text=SEED_TICKET, customer=CustomerContext(vip=True)))
    assert (result.language, result.emotion, result.urgency) == ("zh-Hant", "confused", "high")
    assert result.engine == "local"


def test_engine_without_a_category_model_hands_off() -> None:
    engine = LocalTriageEngine(None, None, languages=LANGUAGES)
    result = engine.analyse(TriageInput(text="Where is my package?"))
    assert (result.category, result.out_of_scope, result.needs_human) == ("", True, True)
    assert result.category_confidence == 0.0


@pytest.mark.parametrize(
    ("text", "code", "name"),
    [
        ("안녕하세요, 주문한 상품이 아직 도착하지 않았어요. 언제 받을 수 있나요?", "ko", "Korean"),
        ("Здравствуйте! Где мой заказ? Прошла уже неделя.", "ru", "Russian"),
        ("مرحبا، لم يصل طلبي بعد. متى سيصل؟", "ar", "Arabic"),
    ],
)
def test_a_language_the_desk_does_not_serve_is_named_and_handed_to_a_person(
    category_model, emotion_model, text: str, code: str, name: str
) -> None:
    engine = LocalTriageEngine(category_model, emotion_model, languages=LANGUAGES)

    result = engine.analyse(TriageInput(text=text))

    assert result.language == code
    assert result.needs_human
    assert f"Written in {name}, a language this desk does not support" in result.needs_human_reasons


def test_a_served_language_is_not_mistaken_for_another_script() -> None:
    mixed = "Hi, my order LM-1 has a Привет sticker on it, is that normal? Where is it now?"

    assert detect_language(mixed, candidates=LANGUAGES)[0] == "en"


def test_saved_model_loads_back_and_predicts_the_same(category_model, tmp_path: Path) -> None:
    version = save_model(category_model, tmp_path / "category")
    loaded = load_model(tmp_path / "category" / version)
    text = "Where is my parcel?"
    assert loaded.predict(text) == category_model.predict(text)
    assert loaded.version == version


def test_store_refuses_a_tampered_model_file(category_model, tmp_path: Path) -> None:
    version = save_model(category_model, tmp_path / "category")
    model_file = tmp_path / "category" / version / "model.joblib"
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_model(tmp_path / "category" / version)


def test_signed_store_refuses_a_manifest_signed_with_another_key(
    category_model, tmp_path: Path
) -> None:
    version = save_model(category_model, tmp_path / "category", key=b"key-a")
    assert load_model(tmp_path / "category" / version, key=b"key-a").labels
    with pytest.raises(ModelIntegrityError, match="signature"):
        load_model(tmp_path / "category" / version, key=b"key-b")


def test_train_and_save_activates_the_version_the_engine_loads(tmp_path: Path) -> None:
    version, metrics = train_and_save("category", toy_examples(), tmp_path, oos_label="other")
    engine = load_local_engine(tmp_path, languages=LANGUAGES)
    assert engine.category_model is not None and engine.category_model.version == version
    assert engine.emotion_model is None
    assert "accuracy" in metrics
    assert engine.analyse(TriageInput(text="Where is my package?")).category == "shipping"


# -- hostile input -------------------------------------------------------------------------

GARBAGE = bytes(range(256)).decode("latin-1") + "\x00\ud800\udfff" + "\ufffe" * 10


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "a" * 1_000_000, "Refund please! " * 70_000, GARBAGE],
    ids=["empty", "blank", "1MB-letters", "1MB-words", "binary-garbage"],
)
def test_empty_huge_and_garbage_input_get_a_clear_result(
    category_model, emotion_model, text: str
) -> None:
    engine = LocalTriageEngine(category_model, emotion_model, languages=LANGUAGES)
    result = engine.analyse(TriageInput(text=text, subject=text[:50]))
    assert result.emotion in EMOTIONS and result.urgency in URGENCIES
    assert 0.0 <= result.category_confidence <= 1.0
    assert result.language in LANGUAGES
    if not text.strip():
        assert (result.category, result.out_of_scope, result.needs_human) == ("", True, True)


def test_analyse_many_gives_the_same_results_as_one_by_one(category_model, emotion_model) -> None:
    engine = LocalTriageEngine(category_model, emotion_model, languages=LANGUAGES)
    inputs = [TriageInput(text=t) for t in ("Where is my parcel?", "", "ログインできません")]
    assert engine.analyse_many(inputs) == [engine.analyse(i) for i in inputs]


# -- decision offsets ----------------------------------------------------------------------


def test_offsets_recover_a_rare_class_the_most_likely_label_never_picks() -> None:
    rng = np.random.default_rng(0)
    truth = np.array([0] * 900 + [1] * 100)
    # The rare class gets a clearly higher probability on its own rows, but never the highest.
    rare = np.where(truth == 1, rng.uniform(0.3, 0.45, 1000), rng.uniform(0.0, 0.2, 1000))
    probabilities = np.column_stack([1 - rare, rare])
    assert macro_f1(truth, probabilities.argmax(axis=1), 2) < 0.5

    offsets = fit_offsets(probabilities, truth)

    shifted = shift(probabilities, offsets)
    assert offsets[1] > offsets[0]
    assert macro_f1(truth, shifted.argmax(axis=1), 2) > 0.95
    assert np.allclose(shifted.sum(axis=1), 1.0)


def test_emotion_model_chooses_offsets_on_out_of_fold_predictions() -> None:
    rows = load_emotion_examples(EMOTION_DATA)
    random.Random(5).shuffle(rows)
    model = train_emotion_model(rows[:3000])

    assert model.offsets is not None and len(model.offsets) == len(model.labels)
    assert {"macro_f1", "macro_f1_without_offsets", "ece"} <= set(model.metrics)
    text = ["I'm so worried my card was stolen, what do I do?"]
    offsets, model.offsets = model.offsets, None
    raw = model.probabilities(text)
    model.offsets = offsets
    assert np.allclose(model.probabilities(text), shift(raw, offsets))
