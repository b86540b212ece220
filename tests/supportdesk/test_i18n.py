"""The desk speaks en, zh-Hant, ja and es: each person's choice, or the browser's language for
everyone else (customers on the contact form), with the compiled catalogs shipped."""

from __future__ import annotations

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings
from django.urls import reverse

from supportdesk.models import AgentPreference
from supportdesk.services import ticket_create
from tests.factories import TicketFactory, TriageResultFactory
from tests.sockets import desk_socket

pytestmark = pytest.mark.django_db

LOCALES = Path(settings.BASE_DIR) / "locale"


def test_an_agent_chooses_traditional_chinese_and_the_desk_speaks_it(agent_client, agent):
    ticket = TicketFactory(subject="Lamp arrived broken", status="open")
    TriageResultFactory(ticket=ticket, emotion="angry", urgency="high")

    response = agent_client.post(reverse("preferences"), {"language": "zh-hant", "time_zone": ""})

    page = response.content.decode()
    assert '<html lang="zh-hant">' in page
    assert "已儲存" in page  # "Saved.": the answer already speaks the new language
    assert AgentPreference.objects.get(user=agent).language == "zh-hant"
    inbox = agent_client.get(reverse("inbox")).content.decode()
    assert "<h1>收件匣</h1>" in inbox and "Lamp arrived broken" in inbox
    detail = agent_client.get(reverse("ticket", args=[ticket.pk])).content.decode()
    assert "送出回覆" in detail or "核准" in detail  # the composer or the draft's buttons
    assert "生氣" in detail  # the emotion chip reads as a word, not the engine's code "angry"


def test_the_choice_follows_the_person_into_a_new_session(agent, client):
    AgentPreference.objects.create(user=agent, language="ja")
    client.force_login(agent)

    inbox = client.get(reverse("inbox"), HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "<h1>受信箱</h1>" in inbox  # their choice wins over the browser's Spanish


def test_without_a_choice_the_browser_language_decides(agent_client):
    inbox = agent_client.get(reverse("inbox"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content
    assert "<h1>Bandeja de entrada</h1>" in inbox.decode()
    english = agent_client.get(reverse("inbox"), HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "<h1>Inbox</h1>" in english  # no Portuguese UI: the default, English


def test_an_unknown_language_is_refused_and_nothing_is_saved(agent_client, agent):
    response = agent_client.post(reverse("preferences"), {"language": "tlh", "time_zone": ""})
    assert response.status_code == 400
    assert "Unknown language: tlh." in response.content.decode()
    assert not AgentPreference.objects.filter(user=agent).exists()


def test_customers_get_the_contact_form_in_their_browsers_language(client):
    page = client.get(reverse("contact"), HTTP_ACCEPT_LANGUAGE="zh-TW,zh;q=0.9").content.decode()
    assert "<h1>聯絡客服</h1>" in page and "送出訊息" in page
    assert '<html lang="zh-hant">' in page

    japanese = client.get(reverse("contact"), HTTP_ACCEPT_LANGUAGE="ja-JP").content.decode()
    assert "メッセージを送信" in japanese


def test_a_customer_switches_the_language_and_the_form_keeps_it(client):
    response = client.post(
        reverse("set_language"), {"language": "es", "next": reverse("contact")}, follow=True
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("contact")
    assert "Enviar mensaje" in page


def test_form_errors_speak_the_customers_language(client):
    response = client.post(
        reverse("contact"),
        {"name": "Ana", "email": "ana", "subject": "Pedido", "body": "", "locale": "es-MX"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Corrige los 2 campos de abajo." in page or "2 campos" in page
    assert "Enter a valid email address." not in page  # Django's own messages are translated


@pytest.mark.django_db(transaction=True)
def test_live_rows_speak_the_language_of_the_page_that_opened_the_socket(agent_client, stub_triage):
    stub_triage(emotion="angry")

    def arrive():
        return ticket_create(
            email="maria@example.com",
            subject="包裹還沒到",
            body="我的包裹還沒到，很生氣！",
            channel="web",
        )

    async def scenario():
        socket = desk_socket("/ws/desk/?view=inbox&lang=zh-hant", agent_client)
        assert (await socket.connect())[0]
        await database_sync_to_async(arrive)()
        frames = []
        while not any("afterbegin:#ticket-rows" in f for f in frames):
            frames.append(await socket.receive_from(timeout=5))
        await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    row = next(f for f in frames if "afterbegin:#ticket-rows" in f)
    assert "包裹還沒到" in row
    assert "剛剛</time>" in row  # "just now", translated
    assert "網頁表單" in row  # the channel, translated


@pytest.mark.parametrize("language", ["zh_Hant", "ja", "es"])
def test_every_string_is_translated_and_the_shipped_catalog_is_up_to_date(language, tmp_path):
    po = LOCALES / language / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("msgfmt (Debian's gettext) is needed to check the catalogs: make services")
    check = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "fresh.mo"), str(po)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "untranslated" not in check.stderr and "fuzzy" not in check.stderr, check.stderr
    with mo.open("rb") as shipped, (tmp_path / "fresh.mo").open("rb") as fresh:
        assert (
            gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog
        ), f"{mo.relative_to(LOCALES.parent)} is older than its .po: run `make messages`"


def test_dates_read_the_way_each_language_writes_them(agent_client, agent):
    from datetime import UTC, datetime

    from tests.factories import MessageFactory

    message = MessageFactory(body_text="Hola", created_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    url = reverse("ticket", args=[message.ticket_id])
    assert "Mar 2, 01:30" in agent_client.get(url).content.decode()

    for language, written in (
        ("zh-hant", "3月2日 01:30"),
        ("ja", "3月2日 01:30"),
        ("es", "2 Mar, 01:30"),
    ):
        agent_client.post(reverse("preferences"), {"language": language, "time_zone": ""})
        assert written in agent_client.get(url).content.decode(), language
