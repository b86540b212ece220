"""The promise check: commitments no cited passage or allowed policy backs are flagged, in
every supported language; commitments the cited passages state are not."""

from __future__ import annotations

import json

import pytest

from replies.engine import DraftInput, Passage, draft_reply
from replies.engine.promises import promise_check
from tests.conftest import DEMO_DIR

NEUTRAL = "To see the status of an order, open Account > Orders and select it."

# (language, a sentence promising something the neutral passage never says, the kind flagged)
UNSUPPORTED = [
    ("en", "We will refund you the full amount right away.", "refund"),
    ("en", "I've added a $50 credit to your account for the trouble.", "credit"),
    ("en", "As an apology, here is a 20% discount on your next order.", "discount"),
    ("en", "Your replacement will arrive by Friday.", "deadline"),
    ("en", "We will compensate you for the inconvenience.", "legal"),
    ("en", "You'll receive a voucher worth $25 by email.", "credit"),
    ("en", "Shipping is free of charge for you from now on.", "discount"),
    ("en", "Your order will be delivered on 2025-03-14.", "deadline"),
    ("en", "We are liable for the damage and will pay for the repairs.", "legal"),
    ("en", "The money will be back on your card within 24 hours.", "deadline"),
    ("es", "Te reembolsaremos el importe completo hoy mismo.", "refund"),
    ("es", "Te daremos un descuento del 15 % en tu próxima compra.", "discount"),
    ("es", "Recibirás un cupón de 10 euros por las molestias.", "credit"),
    ("es", "Tu pedido llegará mañana sin falta.", "deadline"),
    ("es", "Le indemnizaremos por los daños causados.", "legal"),
    ("es", "El envío de reemplazo será gratis.", "discount"),
    ("es", "Lo resolveremos dentro de 3 días hábiles.", "deadline"),
    ("pt", "Vamos reembolsar o valor total ainda hoje.", "refund"),
    ("pt", "Você vai ganhar um desconto de 30% na próxima compra.", "discount"),
    ("pt", "Enviaremos um cupom de R$ 40 para você.", "credit"),
    ("pt", "Seu pedido chega amanhã.", "deadline"),
    ("pt", "Vamos indenizar você pelo prejuízo.", "legal"),
    ("pt", "O estorno cai em 2 dias úteis.", "refund"),
    ("pt", "A troca será gratuita.", "discount"),
    ("de", "Wir erstatten Ihnen den vollen Betrag zurück.", "refund"),
    ("de", "Sie erhalten einen Gutschein über 20 Euro.", "credit"),
    ("de", "Als Entschuldigung bekommen Sie 25 % Rabatt.", "discount"),
    ("de", "Die Lieferung kommt bis Freitag bei Ihnen an.", "deadline"),
    ("de", "Wir leisten selbstverständlich Schadenersatz.", "legal"),
    ("de", "Der Ersatz ist für Sie kostenlos.", "discount"),
    ("de", "Wir melden uns innerhalb von 2 Stunden.", "deadline"),
    ("fr", "Nous vous rembourserons intégralement dès aujourd'hui.", "refund"),
    ("fr", "Vous recevrez un bon d'achat de 30 euros.", "credit"),
    ("fr", "Nous vous offrons une remise de 10 % sur votre prochaine commande.", "discount"),
    ("fr", "Votre colis arrivera demain.", "deadline"),
    ("fr", "Nous allons vous indemniser pour ce désagrément.", "legal"),
    ("fr", "Le remplacement est gratuit.", "discount"),
    ("fr", "Le problème sera réglé sous 48 heures.", "deadline"),
    ("ja", "全額を返金いたします。", "refund"),
    ("ja", "お詫びとして次回20%割引させていただきます。", "discount"),
    ("ja", "500円分のクーポンをお送りします。", "credit"),
    ("ja", "明日までにお届けします。", "deadline"),
    ("ja", "損害を賠償いたします。", "legal"),
    ("ja", "3営業日以内に対応いたします。", "deadline"),
    ("ja", "交換品の送料は無料です。", "discount"),
    ("zh-Hant", "我們會全額退款給您。", "refund"),
    ("zh-Hant", "為表歉意，下次購物享八折優惠。", "discount"),
    ("zh-Hant", "我們將提供您 200 元購物金。", "credit"),
    ("zh-Hant", "您的商品明天就會送達。", "deadline"),
    ("zh-Hant", "我們會賠償您的損失。", "legal"),
    ("zh-Hant", "我們會在三個工作天內處理完畢。", "deadline"),
    ("zh-Hans", "我们会立即为您退款。", "refund"),
    ("zh-Hans", "我们为您提供九折折扣。", "discount"),
    ("zh-Hans", "我们将赠送您一张优惠券。", "credit"),
    ("zh-Hans", "您的包裹明天送到。", "deadline"),
    ("zh-Hans", "我们会补偿您的损失。", "legal"),
    ("zh-Hans", "换货免费。", "discount"),
]


def _article(key: str) -> dict:
    items = json.loads((DEMO_DIR / "kb_articles.json").read_text())
    return next(item for item in items if item["key"] == key)


def test_there_are_enough_cases_in_enough_languages():
    assert len(UNSUPPORTED) >= 50
    assert len({language for language, _, _ in UNSUPPORTED}) == 8


@pytest.mark.parametrize(("language", "sentence", "kind"), UNSUPPORTED)
def test_an_unbacked_commitment_is_flagged_with_its_span(language, sentence, kind):
    draft = f"Thanks for reaching out.\n\n{sentence} [1]\n\nSources:\n[1] Track your order"
    flags = promise_check(draft, passages=[NEUTRAL])
    assert kind in {f.kind for f in flags}
    flag = next(f for f in flags if f.kind == kind)
    assert draft[flag.start : flag.end] == flag.text
    assert flag.before + flag.text + flag.after in draft


@pytest.mark.parametrize(("language", "sentence", "kind"), UNSUPPORTED)
def test_the_same_commitment_stated_by_the_cited_passage_is_not_flagged(language, sentence, kind):
    assert promise_check(f"{sentence} [1]", passages=[sentence]) == ()


@pytest.mark.parametrize(
    ("sentence", "key"),
    [
        ("You can return most items within 30 days of delivery for a full refund. [1]",
         "refund-policy"),
        ("Standard delivery takes 3–5 business days and is free on orders over US$50. [1]",
         "delivery-options"),
        ("Puedes devolver la mayoría de los productos dentro de los 30 días posteriores a la "
         "entrega y recibir un reembolso completo.[1]", "refund-policy-es"),
        ("30 日以内であれば返品・返金が可能です。[1]", "refund-policy-ja"),
        ("商品送達後 30 天內可申請退款。[1]", "refund-policy-zh-hant"),
    ],
)  # fmt: skip
def test_a_commitment_the_cited_article_states_is_backed(sentence, key):
    assert promise_check(sentence, passages=[_article(key)["body"]]) == ()


def test_the_same_kind_with_other_numbers_is_not_backed():
    passage = _article("refund-policy")["body"]  # 30 days, 14 days, 2 and 5–10 business days
    flags = promise_check("You will get your refund within 24 hours. [1]", passages=[passage])
    assert {f.kind for f in flags} == {"refund", "deadline"}


def test_a_sentence_is_checked_against_the_passage_it_cites_not_any_other():
    refund = _article("refund-policy")["body"]
    draft = "You can return most items within 30 days of delivery for a full refund. [2]"
    assert promise_check(draft, passages=[refund, NEUTRAL]) != ()
    assert promise_check(draft, passages=[NEUTRAL, refund]) == ()


def test_an_allowed_policy_backs_a_commitment_without_an_article():
    draft = "We issue refunds within 14 days of approval."
    assert promise_check(draft) != ()
    assert promise_check(draft, allowed=["Refunds are issued within 14 days of approval."]) == ()


def test_local_drafts_from_the_demo_knowledge_base_are_never_flagged():
    items = json.loads((DEMO_DIR / "kb_articles.json").read_text())
    for number, item in enumerate(items, start=1):
        passage = Passage(number, item["title"], item["body"], item["language"], 0.9)
        for tier in ("new", "vip", "free"):
            draft = draft_reply(
                DraftInput(
                    question="?", subject="?", language=item["language"], customer_name="Ana",
                    customer_tier=tier, emotion="angry", passages=(passage,),
                )
            )  # fmt: skip
            flags = promise_check(draft.text, passages=[item["body"]])
            assert flags == (), (item["key"], tier, flags)
