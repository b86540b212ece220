"""A customer who says how they feel is read that way: "I'm worried", "je suis inquiète",
我很擔心 decide the ticket's emotion over a reading that the question in the message pulls
towards "confused"; the same feeling denied ("no estoy preocupado") does not; and a demand for
money not received after a wait reads as frustration, not confusion. The messages were written
for these tests and are in no training file."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from supportdesk.models import Ticket
from tests.factories import MessageFactory, TicketFactory
from triage.engine.lexicon import find_emotion_cues
from triage.services import triage_message

STATED = [
    ("Order 5530", "I'm worried, the parcel with my son's inhaler still hasn't come. Where is it?",
     "en", "anxious"),
    ("Facture", "Je suis inquiète, le prélèvement de ce mois est passé deux fois. Pourquoi ?",
     "fr", "anxious"),
    ("Pedido", "Estoy preocupado, ¿dónde está mi pedido? Lo pagué hace diez días.", "es",
     "anxious"),
    ("Pedido", "Estou preocupada, onde está a minha encomenda? Já paguei há uma semana.", "pt",
     "anxious"),
    ("Bestellung", "Ich mache mir Sorgen, wo ist mein Paket? Es ist seit neun Tagen unterwegs.",
     "de", "anxious"),
    ("注文について", "荷物がどこにあるのか分からず心配です。確認していただけますか？", "ja",
     "anxious"),
    ("訂單", "我很擔心，包裹到底在哪裡？已經十天了。", "zh-Hant", "anxious"),
    ("订单", "我很担心，包裹到底在哪里？已经十天了。", "zh-Hans", "anxious"),
    ("Refund", "I'm so frustrated. Where is the refund you promised me on the phone?", "en",
     "angry"),
]  # fmt: skip


@pytest.fixture
def installed_emotion_model(db, settings, tmp_path):
    """The emotion model as an installation has it: the shipped one with its support reading."""
    from triage import registry

    settings.MODELS_DIR = tmp_path / "models"
    registry._cached = None
    call_command("train_models", "--target", "emotion", verbosity=0)
    yield
    registry._cached = None


def _ticket_emotion(subject: str, body: str, locale: str) -> str:
    ticket = TicketFactory(subject=subject, status=Ticket.Status.NEW)
    ticket.customer.locale = locale
    ticket.customer.save()
    message = MessageFactory(ticket=ticket, direction="in", body_text=body)
    triage_message(message_id=message.pk)
    ticket.refresh_from_db()
    return ticket.emotion


def test_a_ticket_whose_customer_says_how_they_feel_shows_that_feeling(
    installed_emotion_model, categories
):
    read = {body: _ticket_emotion(subject, body, lang) for subject, body, lang, _ in STATED}

    misread = {body: read[body] for _, body, _, expected in STATED if read[body] != expected}
    assert misread == {}


def test_a_ticket_asking_for_money_not_received_after_weeks_is_not_read_as_confused(
    installed_emotion_model, categories
):
    emotion = _ticket_emotion(
        "Refund",
        "I sent the headphones back two weeks ago and still have no refund. Where is my money?",
        "en",
    )

    assert emotion in ("angry", "anxious")


def test_a_ticket_whose_customer_says_they_are_not_worried_is_not_read_anxious(
    installed_emotion_model, categories
):
    emotion = _ticket_emotion(
        "Envío", "No estoy preocupada, solo quería saber si el envío lleva seguro.", "es"
    )

    assert emotion not in ("anxious", "angry", "sad")


@pytest.mark.parametrize(
    ("text", "language", "emotion"),
    [
        ("I'm really worried about this charge", "en", "anxious"),
        ("Estoy preocupada por el cargo", "es", "anxious"),
        ("Estou preocupado com a cobrança", "pt", "anxious"),
        ("Je suis inquiet pour ce prélèvement", "fr", "anxious"),
        ("Ich mache mir Sorgen wegen der Abbuchung", "de", "anxious"),
        ("この請求が心配です", "ja", "anxious"),
        ("我很擔心這筆扣款", "zh-Hant", "anxious"),
        ("我很担心这笔扣款", "zh-Hans", "anxious"),
        ("Honestly I'm fed up with this", "en", "angry"),
    ],
)
def test_a_stated_feeling_is_a_stated_cue(text, language, emotion):
    hit = find_emotion_cues(text, language)

    assert hit is not None and hit.emotion == emotion and hit.stated


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I'm not worried about the charge, just curious", "en"),
        ("I am not at all angry, just asking", "en"),
        ("No estoy preocupada por el cargo", "es"),
        ("Não estou preocupado com a cobrança", "pt"),
        ("Je ne suis pas inquiet pour ce prélèvement", "fr"),
        ("Ich bin nicht besorgt wegen der Abbuchung", "de"),
        ("この請求は心配していません", "ja"),
        ("我不擔心這筆扣款", "zh-Hant"),
        ("别担心，我只是问问", "zh-Hans"),
    ],
)
def test_a_negated_feeling_is_no_cue(text, language):
    assert find_emotion_cues(text, language) is None


def test_a_feeling_stated_after_a_negation_in_another_clause_still_counts():
    hit = find_emotion_cues("The app says no refund is due, and I'm worried", "en")

    assert hit is not None and hit.emotion == "anxious"


def test_sorgen_sie_dafur_is_an_instruction_not_worry():
    assert find_emotion_cues("Bitte sorgen Sie dafür, dass das Paket ankommt", "de") is None
