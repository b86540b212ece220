"""E-mail intake parsing: real-world-shaped raw messages in tests/supportdesk/mail/*.eml.

Pure parsing, no database. Each fixture is the raw bytes a mail server would hand us, in the
charset and transfer encoding real clients use.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_string
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import Path

import pytest

from supportdesk.html import ALLOWED_TAGS, sanitize_html
from supportdesk.intake.email_in import (
    EmailParseError,
    ParsedEmail,
    auto_reply_allowed,
    parse_email,
    split_reply,
)

SAFE_SCHEMES = {"http", "https", "mailto"}

MAIL = Path(__file__).parent / "mail"
FIXTURES = sorted(MAIL.glob("*.eml"))
NOT_EMAIL = {"empty.eml", "binary_garbage.eml"}
EXECUTABLE = re.compile(r"<script|<iframe|<svg|<form|\son\w+\s*=|hx-|javascript:", re.IGNORECASE)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_inert(html: str) -> None:
    """Only allowed tags, only href/title/rel, only http(s)/mailto/relative links; stable."""
    markup = _Markup()
    markup.feed(html)
    for tag, attrs in markup.found:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert tag == "a" and name in ("href", "title", "rel"), (tag, name)
            scheme = re.match(r"\s*([a-z][a-z0-9+.-]*):", value or "", re.IGNORECASE)
            assert name != "href" or not scheme or scheme.group(1).lower() in SAFE_SCHEMES
    assert sanitize_html(html) == html  # sanitising twice changes nothing


def load(name: str) -> ParsedEmail:
    return parse_email((MAIL / name).read_bytes())


def test_there_are_enough_real_world_fixtures() -> None:
    assert len(FIXTURES) >= 25


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_parses_or_is_rejected_clearly(path: Path) -> None:
    if path.name in NOT_EMAIL:
        with pytest.raises(EmailParseError):
            parse_email(path.read_bytes())
        return
    parsed = parse_email(path.read_bytes())
    assert parsed.text.strip()
    assert "\r" not in parsed.subject and "\n" not in parsed.subject
    assert not EXECUTABLE.search(parsed.html)


# -- charsets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("big5_plain.eml", "訂單問題", "您好，我的訂單還沒有收到，請幫我查一下物流狀態。"),
        # declared GB2312 but 喆 exists only in GBK/GB18030, as real Chinese mailers send it
        ("gb2312_plain.eml", "订单问题", "您好，我的订单还没有收到，请帮我查一下物流状态。陶喆"),
        # ① is a cp932 (Windows Shift_JIS) extension, absent from strict Shift_JIS
        (
            "shift_jis_plain.eml",
            "注文の件について",
            "お世話になっております。注文した商品がまだ届いていません。確認をお願いいたします。①",
        ),
        (
            "iso2022jp_plain.eml",
            "ご注文について",
            "お世話になっております。返金の手続きについて教えてください。",
        ),
        ("iso8859_2.eml", "Reklamace zboží", "Dobrý den, zboží přišlo poškozené. Žádám o výměnu."),
        ("windows1251_russian.eml", "Помогите", "Здравствуйте, не могу войти в аккаунт."),
        ("raw_8bit_headers.eml", "退款申请", "请尽快处理退款。"),
        (
            "utf8_plain.eml",
            "Problème de facturation",
            "Bonjour,\n\nJ'ai été facturée deux fois ce mois-ci (2 × 49,00 €). "
            "Pouvez-vous corriger ? 🙏\n\nMarie",
        ),
    ],
)
def test_charsets_customers_send_are_decoded_exactly(name: str, subject: str, text: str) -> None:
    parsed = load(name)
    assert parsed.subject == subject
    assert parsed.text == text


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gbk_no_charset.eml", "我的订单还没有收到，请帮我查一下。谢谢！"),
        ("big5_no_charset.eml", "您好，我的訂單還沒有收到，請幫我查一下物流狀態。"),
        ("shift_jis_no_charset.eml", "注文した商品がまだ届いていません。"),
    ],
)
def test_undeclared_cjk_charset_is_guessed(name: str, text: str) -> None:
    assert load(name).text == text


def test_windows_1252_declared_as_utf8_falls_back_to_the_real_charset() -> None:
    text = "I paid €50 for the “premium” plan – café owner, naïve me."
    assert load("cp1252_declared_utf8.eml").text == text


def test_utf8_declared_as_latin1_is_read_as_utf8() -> None:
    assert load("utf8_declared_latin1.eml").text == "Die Lieferung für Müller ist nicht angekommen."


def test_unknown_charset_falls_back_without_crashing() -> None:
    parsed = load("unknown_charset.eml")
    assert parsed.text == "Crème brûlée is not what I ordered."
    assert parsed.subject == "hello world"


def test_sender_names_in_encoded_words_are_decoded() -> None:
    assert (load("big5_plain.eml").from_name, load("shift_jis_plain.eml").from_name) == (
        "陳小明",
        "山田太郎",
    )
    assert load("iso2022jp_plain.eml").from_name == "鈴木花子"
    assert load("raw_8bit_headers.eml").from_name == "张伟"


# -- headers -----------------------------------------------------------------------------------


def test_mixed_rfc2047_header_split_mid_character_and_comma_in_name() -> None:
    parsed = load("rfc2047_mixed.eml")
    # adjacent encoded words join (RFC 2047 §6.2), even across a UTF-8 sequence split in two
    assert parsed.subject == "Re: 订单问题 and caféПривет"
    assert (parsed.from_name, parsed.from_address) == ("Doe, Jürgen", "jurgen@example.de")
    assert parsed.to == ("andre@example.fr", "support@supportdesk.test")
    assert parsed.cc == ()
    assert parsed.in_reply_to == "<ticket-42@supportdesk.test>"
    assert parsed.references == ("<a1@example.de>", "<a2@example.de>")
    assert parsed.date == datetime(2024, 3, 8, 10, 0, tzinfo=UTC)


def test_broken_encoded_words_and_header_injection_stay_one_line() -> None:
    parsed = load("rfc2047_broken.eml")
    assert parsed.subject == "hi Bcc: evil@example.org café你好"
    assert parsed.from_name == "=?UTF-8?B?bad!!base64*?="
    assert parsed.date is None
    assert parsed.message_id == "<broken-id@example.com>"
    # a header we build from the subject carries exactly the intended recipient
    outbound = message_from_string(f"To: a@example.com\nSubject: Re: {parsed.subject}\n\nx")
    recipients = getaddresses(outbound.get_all("To", []) + outbound.get_all("Bcc", []))
    assert [address for _, address in recipients] == ["a@example.com"]


def test_addresses_dates_and_thread_ids() -> None:
    parsed = load("gmail_reply.eml")
    assert (parsed.from_name, parsed.from_address) == ("Priya Natarajan", "priya.n@gmail.example")
    assert parsed.message_id == "<CAGmail-reply-1@mail.gmail.example>"
    assert parsed.in_reply_to == "<reply-42@supportdesk.test>"
    assert parsed.references == ("<orig-42@gmail.example>", "<reply-42@supportdesk.test>")
    assert parsed.date == datetime(2024, 3, 11, 9, 12, 45, tzinfo=timezone(timedelta(hours=5.5)))
    assert load("utf8_plain.eml").from_address == "marie.dupre@example.fr"


# -- bodies, HTML, attachments -----------------------------------------------------------------


def test_hostile_html_is_inert_and_text_is_readable() -> None:
    parsed = load("html_hostile.eml")
    assert not EXECUTABLE.search(parsed.html)
    assert_inert(parsed.html)
    assert "alert" not in parsed.html and "fetch(" not in parsed.html
    assert '<a href="https://shop.example.com/orders/1234"' in parsed.html
    assert "<b>late</b>" in parsed.html
    assert parsed.text.startswith("My order #1234 is late.")
    assert "alert" not in parsed.text and "fetch" not in parsed.text
    assert "<https://shop.example.com/orders/1234>" in parsed.text


def test_multipart_alternative_prefers_plain_text_and_keeps_sanitised_html() -> None:
    parsed = load("multipart_alternative.eml")
    assert parsed.text == "I requested a password reset three times but no e-mail arrived."
    assert "<b>three times</b>" in parsed.html


def test_attachments_are_metadata_only_with_decoded_names() -> None:
    parsed = load("attachment.eml")
    assert parsed.text == "Please see the attached invoice."
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("Rechnung März.pdf", "application/pdf"),
        ("截圖.png", "image/png"),
        ("rfc822.eml", "message/rfc822"),
    ]
    assert parsed.attachments[0].size == 9 + 256 * 8


def test_format_flowed_is_unwrapped() -> None:
    parsed = load("flowed.eml")
    assert parsed.text.startswith(
        "This line is long and was soft wrapped by the mail client at this point, "
        "and it continues here.\n>Not a quote"
    )


# -- broken input ------------------------------------------------------------------------------


def test_truncated_multipart_keeps_the_text_and_flags_the_defect() -> None:
    parsed = load("truncated_multipart.eml")
    assert parsed.text == "The checkout page shows error 500, screenshot attached."
    assert parsed.attachments[0].filename == "shot.png"
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


def test_multipart_without_boundary_parameter_is_recovered() -> None:
    parsed = load("missing_boundary.eml")
    assert parsed.text == "My invoice total is wrong."
    assert parsed.html == "<p>My invoice total is wrong.</p>"
    assert "BoundaryGuessed" in parsed.defects


def test_text_without_headers_is_kept_and_flagged() -> None:
    parsed = load("no_headers.eml")
    assert parsed.text.startswith("Hello,\n\nI cannot log in since yesterday.")
    assert parsed.defects == ("NoHeaders",)
    assert parsed.from_address == ""


@pytest.mark.parametrize("raw", [b"", b"   \r\n", "From: a@b.c\n\nhi", None])
def test_input_that_is_not_an_email_raises_a_clear_error(raw: object) -> None:
    with pytest.raises(EmailParseError):
        parse_email(raw)  # type: ignore[arg-type]


def test_a_five_megabyte_body_is_parsed_whole() -> None:
    line = "The export fails again. Ünïcödé line.\n"
    body = line * (5 * 1024 * 1024 // len(line.encode()) + 1)
    raw = (
        b"From: big@example.com\r\nSubject: big\r\nMessage-ID: <big@example.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ) + body.encode()
    parsed = parse_email(raw)
    assert len(raw) > 5 * 1024 * 1024
    assert parsed.text == body.rstrip("\n")
    assert split_reply(parsed.text)[0].startswith("The export fails again.")


def test_random_corruption_never_crashes_and_never_leaks_script() -> None:
    rng = random.Random(4)
    sources = [p.read_bytes() for p in FIXTURES if p.name not in NOT_EMAIL]
    for _ in range(300):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = data[: rng.randrange(1, len(data) + 1)]
        try:
            parsed = parse_email(bytes(data))
        except EmailParseError:
            continue
        assert_inert(parsed.html)
        assert "\n" not in parsed.subject


# -- quotes and signatures ---------------------------------------------------------------------


def test_gmail_reply_separates_new_text_quote_and_mobile_signature() -> None:
    new, quoted, signature = split_reply(load("gmail_reply.eml").text)
    assert new == "Thanks, but the app still crashes when I open the camera tab."
    assert signature == "Sent from my iPhone"
    assert quoted.startswith("On Sun, Mar 10, 2024 at 6:01 PM Support Team")
    assert "furious" in quoted and "furious" not in new


def test_outlook_reply_header_block_is_quoted() -> None:
    new, quoted, _ = split_reply(load("outlook_reply.eml").text)
    assert new.endswith("Tom Miller\nIT Operations | Corp Example")
    assert quoted.startswith("________________________________\nFrom: Support")
    assert "administrator" in quoted and "administrator" not in new


@pytest.mark.parametrize(
    ("name", "new", "signature"),
    [
        (
            "japanese_reply.eml",
            "ご回答ありがとうございます。まだ商品が届いていません。",
            "iPhoneから送信",
        ),
        ("chinese_reply_gb2312.eml", "还是无法登录，请再帮我看看。", "发自我的iPhone"),
        ("german_reply_latin1.eml", "Die Rücksendung ist noch nicht erstattet worden.", ""),
        ("apple_forward.eml", "Can you check this? It happened twice.", ""),
    ],
)
def test_localised_reply_headers(name: str, new: str, signature: str) -> None:
    text, quoted, sig = split_reply(load(name).text)
    assert (text, sig) == (new, signature)
    assert quoted


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("Merci.\n\nLe lun. 4 mars 2024 à 10:15, Support <s@x.fr> a écrit :\n> Bonjour", "Merci."),
        ("Gracias.\n\nEl lun, 4 mar 2024, Soporte (<s@x.es>) escribió:\n> Hola", "Gracias."),
        (
            "Obrigado.\n\nEm seg., 4 de mar. de 2024 às 10:15, S <s@x.br> escreveu:\n> Olá",
            "Obrigado.",
        ),
        (
            "還是不行。\n\n支援團隊 <s@x.tw> 於 2024年3月4日 週一 上午10:15寫道：\n> 請重試",
            "還是不行。",
        ),
        ("OK\n-----Original Message-----\nFrom: a\nSent: b\nTo: c\n\nold", "OK"),
        ("Thanks!\nBob <b@x.com> wrote:\n> q", "Thanks!"),
        ("On Mon, Bob <b@x.com> wrote:\n> question?\n\nMy answer below.", "My answer below."),
        ("> Q1?\nA1.\n> Q2?\nA2.", "A1.\nA2."),
        ("Hi\nVon meinem iPhone gesendet", "Hi"),
        ("Hola\n\nEnviado desde mi iPhone", "Hola"),
        ("請問退款什麼時候到？\n\n從我的 iPhone 傳送", "請問退款什麼時候到？"),  # iOS, zh-Hant
        ("Body\n-- \nJane Doe\nACME", "Body"),
    ],
)
def test_split_reply_languages_and_layouts(text: str, new: str) -> None:
    assert split_reply(text)[0] == new


def test_new_text_is_never_empty_when_something_unquoted_exists() -> None:
    forward_only = "---------- Forwarded message ---------\nFrom: x\nDate: y\nTo: z\n\nbody"
    assert split_reply(forward_only)[0] == forward_only
    assert split_reply("-- \nonly a signature")[0].endswith("only a signature")
    assert split_reply("> all quoted\n> here") == ("", "> all quoted\n> here", "")


def test_a_sentence_starting_like_a_signoff_is_kept() -> None:
    text = "Sent from my phone yesterday but nothing happened.\nPlease help.\nIt is urgent.\nA\nB"
    assert split_reply(text) == (text, "", "")


# -- loops -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dsn_bounce.eml", "Auto-Submitted: auto-replied"),
        ("out_of_office.eml", "Auto-Submitted: auto-replied"),
        ("mailing_list.eml", "Precedence: list"),
        ("mailer_daemon_plain.eml", "bounce or delivery status notification"),
        ("noreply_sender.eml", "automated sender no-reply@notifications.shop.example"),
        ("x_autoreply.eml", "X-Autoreply/X-Autorespond header"),
        ("no_headers.eml", "no sender address"),
    ],
)
def test_automatic_mail_gets_no_automatic_reply(name: str, reason: str) -> None:
    assert auto_reply_allowed(load(name)) == (False, reason)


def test_a_customer_reply_may_be_acknowledged() -> None:
    assert auto_reply_allowed(load("gmail_reply.eml")) == (True, "")
    assert auto_reply_allowed(load("utf8_plain.eml"), own_addresses=["support@x.test"])[0]


def test_dsn_is_a_bounce() -> None:
    parsed = load("dsn_bounce.eml")
    assert parsed.is_bounce and parsed.return_path == ""
    assert "User unknown" in parsed.text


def _headers(extra: str) -> ParsedEmail:
    return parse_email(f"From: c@example.com\r\nSubject: hi\r\n{extra}\r\n\r\nbody".encode())


@pytest.mark.parametrize(
    ("extra", "allowed"),
    [
        ("Auto-Submitted: no", True),
        ("Auto-Submitted: auto-generated; owner-email=x@y", False),
        ("Precedence: bulk", False),
        ("Precedence: junk", False),
        ("X-Auto-Response-Suppress: DR, AutoReply", False),
        ("X-Auto-Response-Suppress: OOF", True),
        ("List-Unsubscribe: <mailto:u@x>", False),
        ("List-Id: <x.y.z>", False),
        ("Return-Path: <>", False),
        ("Content-Type: message/delivery-status", False),
    ],
)
def test_loop_headers(extra: str, allowed: bool) -> None:
    assert auto_reply_allowed(_headers(extra))[0] is allowed


@pytest.mark.parametrize(
    "sender", ["noreply@x.com", "do-not-reply@x.com", "postmaster@x.com", "bounces+1@x.com"]
)
def test_no_reply_senders(sender: str) -> None:
    parsed = parse_email(f"From: {sender}\r\nSubject: x\r\n\r\nbody".encode())
    assert auto_reply_allowed(parsed)[0] is False


def test_own_address_is_not_answered() -> None:
    parsed = load("utf8_plain.eml")
    assert auto_reply_allowed(parsed, own_addresses=["Marie.Dupre@example.fr"]) == (
        False,
        "sent by this desk",
    )
