"""Redaction: personal data becomes stable placeholders before a model sees a text, and the
originals come back in what the model writes."""

# Sample texts read best whole, one per line.
# ruff: noqa: E501

from __future__ import annotations

import pytest

from supportdesk.llm.redact import Redactor, iban_valid, luhn_valid

# (text, the personal values in it that must not survive redaction)
SAMPLES = [
    ("Write to jane.doe+orders@example.co.uk please", ["jane.doe+orders@example.co.uk"]),
    ("Call me on +1 415-555-0199 or (415) 555 0123", ["415-555-0199", "555 0123"]),
    ("Meine Nummer: +49 30 1234567, Karte 4111 1111 1111 1111", ["1234567", "4111 1111 1111 1111"]),
    ("IBAN DE89 3704 0044 0532 0130 00 bitte", ["DE89 3704 0044 0532 0130 00"]),
    ("Mi DNI es 12345678Z y vivo en Calle Mayor 12, Madrid", ["12345678Z", "Calle Mayor 12"]),
    ("CPF 123.456.789-09, Rua Augusta 500, São Paulo", ["123.456.789-09", "Rua Augusta 500"]),
    ("J'habite au 12 rue de la Paix, tél. 01 23 45 67 89", ["12 rue de la Paix", "01 23 45 67 89"]),
    ("SSN 123-45-6789, 221B Baker Street", ["123-45-6789", "221B Baker Street"]),
    ("我的電話是0987654321，卡號5500000000000004，身分證A123456789", ["0987654321", "5500000000000004", "A123456789"]),
    ("地址：台北市信義區信義路五段7號，電郵abc.def@example.com謝謝", ["信義路五段7號", "abc.def@example.com"]),
    ("东京的朋友说，上海市浦东新区世纪大道100号，手机13812345678", ["世纪大道100号", "13812345678"]),
    ("東京都千代田区丸の内1-2-3に住んでいます。電話090-1234-5678", ["丸の内1-2-3", "090-1234-5678"]),
    ("マイナンバー 1234 5678 9012 です", ["1234 5678 9012"]),
    ("passport number X1234567 expires soon", ["X1234567"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "secrets"), SAMPLES)
def test_personal_data_is_replaced_and_restored_exactly(text, secrets):
    redactor = Redactor.for_customer()
    redacted = redactor.redact(text)
    for secret in secrets:
        assert secret not in redacted
    assert redactor.restore(redacted) == text


def test_the_customers_own_name_and_address_are_redacted_wherever_they_appear():
    redactor = Redactor.for_customer(name="Ana Souza", email="ana@lumen-mail.com")
    redacted = redactor.redact("Hi, I'm Ana Souza. ANA@LUMEN-MAIL.COM is mine; Souza on the box.")
    assert "Ana" not in redacted and "Souza" not in redacted and "lumen-mail" not in redacted
    assert redacted.startswith("Hi, I'm <NAME_1>. <EMAIL_1> is mine; <NAME_2> on the box.")


def test_a_cjk_name_is_found_inside_running_text():
    redactor = Redactor.for_customer(name="王小明")
    assert redactor.redact("您好，我是王小明，訂單有問題") == "您好，我是<NAME_1>，訂單有問題"


def test_the_same_value_keeps_its_placeholder_and_different_values_get_new_ones():
    redactor = Redactor.for_customer()
    first = redactor.redact("a@example.com then b@example.com")
    second = redactor.redact("again a@example.com")
    assert first == "<EMAIL_1> then <EMAIL_2>"
    assert second == "again <EMAIL_1>"
    assert (
        redactor.restore("Dear <EMAIL_2>, and < EMAIL_1 >")
        == "Dear b@example.com, and a@example.com"
    )


def test_numbers_that_fail_their_checksum_or_are_dates_stay():
    text = "Order 4111 1111 1111 1112 placed 2024-05-01, ref DE00 1234 5678 9012 3456 78"
    assert Redactor.for_customer().redact(text) == text


def test_only_the_configured_kinds_are_redacted():
    redactor = Redactor.for_customer(name="Ana", email="", kinds=["email"])
    assert redactor.redact("Ana, ana@x.org, +1 415-555-0199") == "Ana, <EMAIL_1>, +1 415-555-0199"


def test_checksums():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid(
        "GB82 WEST 1234 5698 7654 33"
    )


ORDER_SAMPLES = [
    ("My order #A-10234 never arrived", "A-10234"),
    ("order number is 5512345, placed yesterday", "5512345"),
    ("Meine Bestellnummer: 100234-77 fehlt", "100234-77"),
    ("Mi pedido 88123 llegó roto", "88123"),
    ("numéro de commande : FR99812", "FR99812"),
    ("ご注文番号：20240512-0031 の件です", "20240512-0031"),
    ("我的訂單編號是TW2231987，還沒收到", "TW2231987"),
    ("订单号123456789还没到", "123456789"),
]


@pytest.mark.parametrize(("text", "number"), ORDER_SAMPLES)
def test_order_numbers_are_redacted_when_asked_for(text, number):
    redactor = Redactor.for_customer(kinds=["order"])
    redacted = redactor.redact(text)
    assert number not in redacted and "<ORDER_1>" in redacted
    assert redactor.restore(redacted) == text


def test_order_numbers_stay_for_the_language_model_and_words_after_order_stay():
    text = "My order #A-10234 was late; the order status says shipped"
    assert Redactor.for_customer().redact(text) == text
    kept = Redactor.for_customer(kinds=["order"]).redact("my order was late, reorder 12345")
    assert kept == "my order was late, reorder 12345"


def test_other_people_named_in_the_texts_are_redacted_with_the_customer():
    redactor = Redactor.for_customer(name="Ana Souza", other_names=["Bob Stone"])
    redacted = redactor.redact("Hi Ana Souza,\n...\nBest, Bob Stone (Bob)")
    assert redacted == "Hi <NAME_1>,\n...\nBest, <NAME_2> (<NAME_3>)"


def test_a_latin_name_is_found_next_to_chinese_or_japanese_but_not_inside_a_word():
    redactor = Redactor.for_customer(name="Maria Garcia")
    assert redactor.redact("Maria Garcia您好：Mariana様") == "<NAME_1>您好：Mariana様"
    assert redactor.redact("Garciaさん、Mariaさん") == "<NAME_2>さん、<NAME_3>さん"


def test_an_order_number_announced_once_is_redacted_wherever_it_comes_back():
    redactor = Redactor.for_customer(kinds=["order"])
    first = redactor.redact("A-10234 again: where is my order #A-10234?")
    later = redactor.redact("We refunded A-10234 and AA-10234X stays.")
    assert first == "<ORDER_1> again: where is my order #<ORDER_1>?"
    assert later == "We refunded <ORDER_1> and AA-10234X stays."
