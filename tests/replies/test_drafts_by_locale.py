"""Drafts from the demo knowledge base, per locale: the customer's language, the right article,
the locale's tone; depth by customer; follow-ups; admin tone profiles and the brand voice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge.models import FAQSuggestion
from replies.engine import DEFAULT_PROFILES
from replies.models import BrandVoice, Draft, ToneProfileSetting
from replies.services import DraftAlreadyDecided, draft_create, draft_regenerate, draft_send
from supportdesk.models import Message
from tests.factories import CustomerFactory, MessageFactory, TriageResultFactory

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _ask(subject: str, body: str, language: str, **customer) -> Message:
    message = MessageFactory(
        ticket__subject=subject,
        ticket__customer=CustomerFactory(name="Ana", plan="paying", **customer),
        body_text=body,
    )
    TriageResultFactory(message=message, language=language)
    return message


@pytest.mark.parametrize(
    ("language", "subject", "body", "article", "tone_marks"),
    [
        (
            "en",
            "Password",
            "I forgot my password and the sign in page keeps rejecting me. How do I reset it?",
            "account-access",
            ("Hi Ana,", "Best regards,"),
        ),
        (
            "zh-Hant",
            "密碼問題",
            "我忘記密碼了，要怎麼重設密碼？",
            "account-access-zh-hant",
            ("Ana 您好：", "敬祝 順心", "參考資料："),
        ),
        (
            "ja",
            "パスワード",
            "パスワードを忘れてしまいました。再設定の方法を教えてください。",
            "account-access-ja",
            ("Ana 様", "誠にありがとうございます", "今後ともよろしくお願いいたします。"),
        ),
        (
            "es",
            "Contraseña",
            "Olvidé mi contraseña y no puedo entrar. ¿Cómo la restablezco?",
            "account-access-es",
            ("¡Hola Ana!", "¡Saludos!", "respóndeme"),
        ),
    ],
)
def test_draft_speaks_the_customers_language_cites_the_right_article_and_follows_the_tone(
    demo_kb, language, subject, body, article, tone_marks
):
    draft = draft_create(message_id=_ask(subject, body, language).pk)

    assert draft.grounded and not draft.needs_translation
    assert draft.language == language
    assert draft.citations[0]["article_id"] == demo_kb[article].pk
    assert draft.citations[0]["language"] == language
    assert draft.citations[0]["passage"] and draft.citations[0]["passage"] in demo_kb[article].body
    for mark in tone_marks:
        assert mark in draft.text
    if language in ("zh-Hant", "ja"):
        assert CJK.search(draft.text.split("\n")[2])  # the body, not just the greeting
    else:
        assert not CJK.search(draft.text)


def test_spanish_question_without_a_spanish_article_is_drafted_from_english_and_flagged(
    demo_kb,
):
    message = _ask("Invoice", "Necesito descargar el invoice PDF de mi pedido", "es")

    draft = draft_create(message_id=message.pk)

    assert draft.needs_translation
    assert draft.citations[0]["article_id"] == demo_kb["download-invoice"].pk
    assert draft.text.startswith("¡Hola Ana!")
    assert "Por ahora esta guía no está disponible en español" in draft.text


def test_vip_gets_the_priority_line_and_new_customer_the_welcome(demo_kb):
    vip = draft_create(
        message_id=_ask("Password", "How do I reset my password?", "en", is_vip=True).pk
    )
    new = MessageFactory(
        ticket__subject="Password",
        ticket__customer=CustomerFactory(name="Bo", plan="free"),
        body_text="How do I reset my password?",
    )
    TriageResultFactory(message=new, language="en")
    new_draft = draft_create(message_id=new.pk)

    assert DEFAULT_PROFILES["en"].vip_line in vip.text
    assert "Welcome to Lumen!" in new_draft.text
    assert re.search(r"^1\. On the sign-in page, select Forgot password\.", new_draft.text, re.M)


def _free_customer_asks(customer, body: str, **ticket) -> Message:
    message = MessageFactory(
        ticket__subject="Password", ticket__customer=customer, body_text=body, **ticket
    )
    TriageResultFactory(message=message, language="en")
    return message


def test_only_a_first_message_from_a_recent_customer_gets_the_welcome(demo_kb):
    newcomer = CustomerFactory(name="Bo", plan="free")
    asked = _free_customer_asks(newcomer, "How do I reset my password?")
    first = draft_create(message_id=asked.pk)
    # The same customer writes again in the same ticket: a follow-up, not a first contact.
    follow_up = MessageFactory(ticket=asked.ticket, body_text="Sorry, how do I reset it again?")
    TriageResultFactory(message=follow_up, language="en")
    again = draft_create(message_id=follow_up.pk)
    long_ago = CustomerFactory(plan="free", first_seen=timezone.now() - timedelta(days=400))
    old_hand = draft_create(
        message_id=_free_customer_asks(long_ago, "How do I reset my password?").pk
    )

    assert "Welcome to Lumen!" in first.text
    assert "Welcome" not in again.text
    assert "Welcome" not in old_hand.text


def test_an_upset_newcomer_is_not_told_we_are_glad_to_have_them(demo_kb):
    message = _free_customer_asks(
        CustomerFactory(plan="free"), "I can't reset my password and I'm locked out!!"
    )
    message.triage.emotion, message.triage.emotion_confidence = "angry", 0.9
    message.triage.save()

    draft = draft_create(message_id=message.pk)

    assert "Welcome" not in draft.text
    assert DEFAULT_PROFILES["en"].acknowledgement("angry") in draft.text


def test_a_follow_up_in_the_same_ticket_does_not_repeat_the_first_answer(demo_kb, agent):
    first = _ask("Password", "How do I reset my password?", "en")
    sent = draft_send(draft_id=draft_create(message_id=first.pk).pk, actor=agent)
    follow_up = MessageFactory(
        ticket=first.ticket, body_text="I did that but the reset link never arrives."
    )
    TriageResultFactory(message=follow_up, language="en")

    second = draft_create(message_id=follow_up.pk)

    first_answer = "select Forgot password"
    assert first_answer in sent.body_text
    assert first_answer not in second.text
    assert "I won't repeat them here" in second.text


def test_regenerate_applies_each_instruction_and_keeps_the_earlier_ones(demo_kb, agent):
    draft = draft_create(message_id=_ask("Password", "How do I reset my password?", "en").pk)

    shorter = draft_regenerate(draft_id=draft.pk, actor=agent, instruction="shorter")
    formal = draft_regenerate(draft_id=shorter.pk, actor=agent, instruction="formal")

    assert len(shorter.text) < len(draft.text)
    assert formal.text.startswith("Dear Ana,")
    assert "Thank you for contacting us." not in formal.text  # still shorter
    assert formal.instructions == ["shorter", "formal"]
    assert formal.citations[0]["article_id"] == draft.citations[0]["article_id"]
    statuses = dict(Draft.objects.values_list("pk", "status"))
    assert statuses == {draft.pk: "superseded", shorter.pk: "superseded", formal.pk: "proposed"}


def test_a_sent_draft_cannot_be_regenerated(demo_kb, agent, other_agent):
    draft = draft_create(message_id=_ask("Password", "How do I reset my password?", "en").pk)
    draft_send(draft_id=draft.pk, actor=other_agent)

    with pytest.raises(DraftAlreadyDecided, match="already sent by bob"):
        draft_regenerate(draft_id=draft.pk, actor=agent, instruction="shorter")


def test_unknown_instruction_is_refused_with_the_choices(demo_kb, agent):
    draft = draft_create(message_id=_ask("Password", "How do I reset my password?", "en").pk)

    with pytest.raises(ValueError, match="shorter, more formal, add steps"):
        draft_regenerate(draft_id=draft.pk, actor=agent, instruction="funnier")


def test_an_admins_tone_profile_change_is_used_in_the_next_draft(demo_kb):
    ToneProfileSetting.objects.create(
        locale="es", data={"closing": "¡Un abrazo grande!", "greeting": "¡Buenas, {name}!"}
    )

    draft = draft_create(
        message_id=_ask(
            "Contraseña", "Olvidé mi contraseña y no puedo entrar. ¿Cómo la restablezco?", "es"
        ).pk
    )

    assert draft.text.startswith("¡Buenas, Ana!")
    assert "¡Un abrazo grande!" in draft.text
    assert DEFAULT_PROFILES["es"].next_steps in draft.text  # the rest stays as shipped


def test_brand_voice_renames_the_signature_and_can_make_every_draft_formal(demo_kb):
    BrandVoice.objects.create(brand_name="Lumen Home", formal_by_default=True)

    draft = draft_create(message_id=_ask("Password", "How do I reset my password?", "en").pk)

    assert draft.text.startswith("Dear Ana,")
    assert "The Lumen Home Support Team" in draft.text


def test_admin_refuses_a_tone_profile_with_an_unknown_sentence(desk_admin_client):
    response = desk_admin_client.post(
        "/admin/replies/toneprofilesetting/add/",
        {"locale": "en", "data": '{"closing": "Cheers,", "sign_off_joke": "ha"}'},
    )

    assert response.status_code == 200
    assert "Unknown tone profile fields: sign_off_joke" in response.content.decode()
    assert not ToneProfileSetting.objects.exists()


def test_a_language_the_desk_does_not_serve_waits_for_a_person(demo_kb):
    message = _ask("배송", "안녕하세요, 비밀번호를 잊어버렸어요. 어떻게 재설정하나요?", "ko")

    draft = draft_create(message_id=message.pk)

    assert not draft.grounded and draft.citations == []
    assert "Korean, which this desk does not support" in draft.needs_human_reason
    message.ticket.refresh_from_db()
    assert message.ticket.needs_human


def test_a_thank_you_gets_a_warm_reply_and_no_faq_suggestion(demo_kb):
    message = _ask("Re: Password", "Danke, hat geklappt!", "de")

    draft = draft_create(message_id=message.pk)

    assert "Gern geschehen" in draft.text
    assert "Fachteam" not in draft.text  # no holding reply promising a specialist
    assert not FAQSuggestion.objects.filter(source_ticket=message.ticket).exists()
    message.ticket.refresh_from_db()
    assert not message.ticket.needs_human


def test_a_request_that_ends_in_thanks_is_still_answered(demo_kb):
    message = _ask("", "How do I reset my password. Thanks.", "en")

    draft = draft_create(message_id=message.pk)

    assert draft.grounded
    assert draft.citations[0]["article_id"] == demo_kb["account-access"].pk


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        ("de", "Doppelt belastet", "Mir wurde für eine Rechnung doppelt belastet. Bitte prüfen."),
        ("en", "Charged twice", "I was charged twice for my order, the same amount two times."),
        ("fr", "Commande", "Ma commande n'est toujours pas arrivée après dix jours. Où est-elle ?"),
        ("zh-Hant", "訂單", "我的訂單已經晚了一個星期還沒到，請問現在在哪裡？"),
    ],
)
def test_a_new_customer_reporting_a_problem_is_not_welcomed(demo_kb, language, subject, body):
    message = _free_customer_asks(CustomerFactory(name="Max", plan="free"), body)
    message.ticket.subject = subject
    message.ticket.save()
    message.triage.language = language
    message.triage.save()

    draft = draft_create(message_id=message.pk)

    welcome = DEFAULT_PROFILES[language].new_user_line.format(brand="Lumen")
    assert welcome not in draft.text
    for word in ("willkommen", "welcome", "bienvenue", "歡迎使用"):
        assert word not in draft.text.lower()


@pytest.mark.parametrize(
    ("language", "body"),
    [
        ("en", "I returned the item two weeks ago and still have no refund, where is my money?"),
        ("es", "Ya lo devolví hace diez días y todavía no veo el reembolso. ¿Cuándo me llega?"),
    ],
)
def test_a_customer_who_already_returned_the_item_is_told_when_the_refund_comes(
    demo_kb, language, body
):
    message = _ask("Refund", body, language)
    message.triage.emotion, message.triage.emotion_confidence = "angry", 0.9
    message.triage.save()

    draft = draft_create(message_id=message.pk)

    refund_policy = "refund-policy" if language == "en" else f"refund-policy-{language}"
    assert draft.grounded
    assert draft.citations[0]["article_id"] == demo_kb[refund_policy].pk
    assert re.search(r"5\s*(?:–|a)\s*10", draft.text)  # when the money appears
    # Not how to send the item back: they did.
    for step in ("Print the prepaid return label", "Imprime la etiqueta", "1. "):
        assert step not in draft.text
