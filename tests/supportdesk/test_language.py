"""Language detection as a desk serving the default languages runs it: lingua's small
(low-accuracy) models times the shipped n-gram model of support messages."""

from __future__ import annotations

import numpy as np
import pytest

from supportdesk import language, language_ngrams
from supportdesk.language import detect_language

LANGUAGES = ("en", "zh-Hant", "zh-Hans", "ja", "es", "de", "fr", "pt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Lingua's low-accuracy mode alone reads the first three as German, Spanish, Spanish.
        ("Where is my order?", "en"),
        ("Cancel my order pls", "en"),
        ("Merci !", "fr"),
        ("Danke!", "de"),
        ("Hola, ¿dónde está mi pedido?", "es"),
        ("¿Tienen el sofá en gris?", "es"),
        ("Mon colis n'est pas arrivé", "fr"),
        ("Obrigado pela ajuda", "pt"),
        ("O cupom BLACKFRIDAY não funciona", "pt"),
        ("nao consigo entrar na minha conta", "pt"),
        ("Hab mit PayPal bezahlt, Bestellung steht aber noch auf pending", "de"),
        ("用PayPal付款了，但訂單還是pending", "zh-Hant"),
    ],
)
def test_short_support_messages_are_read_in_their_language(text: str, expected: str) -> None:
    assert detect_language(text, candidates=LANGUAGES)[0] == expected


def test_a_reply_above_the_support_teams_quoted_english_mail_keeps_its_language() -> None:
    text = (
        "退貨三個禮拜了還沒收到退款\n\n"
        "Lumen Support <support@lumen.example> 於 2025年6月3日 週二 下午2:02 寫道：\n"
        "> Please send the item back within 30 days."
    )
    assert detect_language(text, candidates=LANGUAGES)[0] == "zh-Hant"


def test_the_default_languages_never_load_linguas_large_models() -> None:
    """High-accuracy mode holds ~150 MB in every worker; the default desk does without it."""
    language._detectors.clear()
    for text in ("Where is my order?", "Wo ist meine Bestellung?", "Où est ma commande ?"):
        detect_language(text, candidates=LANGUAGES)
    assert language._detectors
    assert all(low_accuracy for _, low_accuracy in language._detectors)


def test_a_language_the_ngram_model_does_not_know_is_still_detected() -> None:
    """Italian is not among the shipped messages: lingua's full models decide, as before."""
    candidates = ("en", "it", "de")
    assert detect_language("Dov'è il mio ordine?", candidates=candidates)[0] == "it"
    assert detect_language("Where is my order?", candidates=candidates)[0] == "en"


def test_the_shipped_ngram_model_is_the_one_its_script_builds(tmp_path) -> None:
    built = tmp_path / "language_ngrams.npz"
    language_ngrams.build(built)
    with np.load(built) as fresh, np.load(language_ngrams.DATA) as shipped:
        assert list(fresh["languages"]) == list(shipped["languages"])
        assert str(fresh["vocabulary"]) == str(shipped["vocabulary"])
        assert np.array_equal(fresh["log_probs"], shipped["log_probs"])
