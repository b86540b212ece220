"""Translations of knowledge-base articles: proposed by the language model (a real loopback
server speaking the chat-completions API) or left to a person, and read by retrieval only once
a person approved them."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from knowledge.engine import translate
from knowledge.models import Article
from knowledge.selectors import kb_index
from knowledge.services import article_update
from knowledge.translations import (
    TranslationNotPending,
    translation_approve,
    translation_reject,
    translation_write,
    translations_propose,
)
from supportdesk.llm.client import LLMInvalidOutput
from supportdesk.llm.models import LLMCall, LLMSettings
from supportdesk.queue import enqueue
from tests.factories import ArticleFactory
from tests.openai_server import Behaviour, CapturedRequest

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "zh-Hant", "ja", "es"]
BODY = (
    "Open Settings > Account in the Lumen app and choose Change password.\n"
    "The link in the e-mail from help@lumen.example expires after {hours} hours.\n"
    "Still stuck? Read https://help.lumen.example/password."
)

# What the "model" writes for each target, around the markers it was given.
WRITTEN = {
    "Japanese": ("パスワードを変更する方法", "設定を開いてください。{markers} をご確認ください。"),
    "Latin-American Spanish": (
        "Cómo cambiar tu contraseña",
        "Abre Configuración y elige Cambiar contraseña. Revisa {markers}, con gusto te ayudamos.",
    ),
    "Traditional Chinese": ("如何變更密碼", "請開啟設定並選擇變更密碼。請參閱 {markers}。"),
}


class Translator:
    """Answers like a careful model: the target language's text, keeping every marker once."""

    def __call__(self, request: CapturedRequest):
        system = request.body["messages"][0]["content"]
        target = re.search(r"into (.+?)\.\n", system)[1]
        markers = " ".join(dict.fromkeys(re.findall(r"⟦\d+⟧", request.user_text)))
        for name, (title, body) in WRITTEN.items():
            if target.startswith(name):
                return {"title": title, "body": body.format(markers=markers)}
        return {"title": "Translated", "body": f"Translated text {markers}"}


@pytest.fixture(autouse=True)
def _languages(settings):
    settings.SUPPORTED_LANGUAGES = LANGUAGES
    settings.BRAND_NAME = "Lumen"


@pytest.fixture
def no_llm(settings):
    settings.LLM_BASE_URL = ""
    settings.LLM_MODEL = ""
    settings.AZURE_OPENAI_ENDPOINT = ""


@pytest.fixture
def llm(openai_server):
    """The loopback server, answering as a careful translator."""
    openai_server.model = Translator()
    return openai_server


@pytest.fixture
def source():
    return ArticleFactory(title="How to change your password", body=BODY, language="en")


def retrieved_ids(query: str, language: str) -> set[int]:
    return {hit.article_id for hit in kb_index().search(query, language=language, k=10)}


def by_language(source: Article) -> dict[str, Article]:
    return {t.language: t for t in source.translations.all()}


# -- without a language model ------------------------------------------------------------------


def test_without_a_model_every_missing_language_becomes_a_task_for_a_person(source, no_llm):
    created = translations_propose(article_id=source.pk)

    translations = by_language(source)
    assert sorted(translations) == ["es", "ja", "zh-Hant"]
    assert {a.pk for a in created} == {a.pk for a in translations.values()}
    for translation in translations.values():
        assert translation.review == Article.Review.TO_TRANSLATE
        assert not translation.published
        assert translation.body == ""
        assert translation.source_version == source.version
        assert translation.review_note == "No language model writes translations here"
    assert LLMCall.objects.count() == 0


def test_proposing_again_adds_only_languages_still_missing(source, no_llm):
    ArticleFactory(title="Cambiar contraseña", body="Abre Configuración.", language="es",
                   translation_of=source)  # fmt: skip

    translations_propose(article_id=source.pk)
    translations_propose(article_id=source.pk)

    assert sorted(t.language for t in source.translations.all()) == ["es", "ja", "zh-Hant"]


def test_a_translation_of_a_translation_is_proposed_for_its_source(source, no_llm):
    spanish = ArticleFactory(title="Cambiar contraseña", body="Abre Configuración.",
                             language="es", translation_of=source)  # fmt: skip

    translations_propose(article_id=spanish.pk)

    assert sorted(by_language(source)) == ["es", "ja", "zh-Hant"]
    assert not spanish.translations.exists()


def test_the_task_table_runs_the_proposals(source, no_llm, settings):
    settings.TASK_BACKEND = "sync"

    enqueue("knowledge.tasks.translations_propose", source.pk, ["ja"])

    assert sorted(by_language(source)) == ["ja"]


def test_a_translation_awaiting_review_cannot_be_published_by_hand(source, no_llm):
    translations_propose(article_id=source.pk, languages=["ja"])
    ja = by_language(source)["ja"]
    ja.published = True

    with pytest.raises(ValidationError, match="awaiting review cannot be published"):
        ja.validate_constraints()  # as the admin's form does
    with pytest.raises(IntegrityError), transaction.atomic():
        ja.save()


# -- with the language model -------------------------------------------------------------------


def test_the_model_proposes_each_language_in_its_own_tone_and_keeps_links_and_names(source, llm):
    translations_propose(article_id=source.pk)

    translations = by_language(source)
    ja, es, zh = translations["ja"], translations["es"], translations["zh-Hant"]
    assert ja.title == "パスワードを変更する方法" and re.search(r"[ぁ-ん]", ja.body)
    assert es.title == "Cómo cambiar tu contraseña"
    assert zh.title == "如何變更密碼"
    for translation in (ja, es, zh):
        assert translation.review == Article.Review.PROPOSED
        assert not translation.published
        assert translation.review_note == "Written by the language model"
        assert translation.versions.get().note.startswith("Written by the language model")
        # Links, addresses, placeholders and the product name come back exactly as written.
        for kept in ("https://help.lumen.example/password", "help@lumen.example", "{hours}",
                     "Lumen"):  # fmt: skip
            assert kept in translation.body
    prompts = {r.body["messages"][0]["content"]: r for r in llm.calls("translation")}
    assert len(prompts) == 3
    japanese = next(p for p in prompts if "into Japanese" in p)
    assert "です/ます" in japanese
    assert "Latin-American" in next(p for p in prompts if "into Latin-American Spanish" in p)
    assert "Traditional characters only" in next(p for p in prompts if "Traditional Chinese" in p)
    # What the model was shown: markers, never the link or the product name themselves.
    shown = prompts[japanese].user_text
    assert "https://help.lumen.example" not in shown and "Lumen" not in shown
    assert "⟦1⟧" in shown
    calls = LLMCall.objects.filter(purpose="translation")
    assert calls.count() == 3
    assert {(c.ticket_id, c.outcome) for c in calls} == {(None, "ok")}


def test_a_timeout_leaves_the_language_to_a_person_with_the_reason(source, llm):
    LLMSettings.objects.create(pk=1, timeout_seconds=0.5, max_retries=0)
    llm.push(Behaviour(hang=3))

    translations_propose(article_id=source.pk, languages=["ja"])

    ja = by_language(source)["ja"]
    assert ja.review == Article.Review.TO_TRANSLATE
    assert ja.review_note == "LLM fallback: timeout"
    assert not ja.published
    assert LLMCall.objects.get().outcome == "timeout"


def test_garbage_from_the_model_leaves_the_language_to_a_person(source, llm):
    llm.push(Behaviour(content="Sure! Here is your translation: ..."))

    translations_propose(article_id=source.pk, languages=["es"])

    es = by_language(source)["es"]
    assert (es.review, es.review_note) == (
        Article.Review.TO_TRANSLATE,
        "LLM fallback: invalid_output",
    )


def test_a_lost_link_or_the_wrong_language_is_no_proposal(source, llm):
    llm.push(
        Behaviour(content={"title": "Contraseña", "body": "Abre Configuración."}),  # lost markers
        Behaviour(content={"title": "Change password", "body": "Open ⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧"}),
    )

    translations_propose(article_id=source.pk, languages=["es", "ja"])

    translations = by_language(source)
    for language in ("es", "ja"):
        assert translations[language].review == Article.Review.TO_TRANSLATE
        assert translations[language].review_note == "LLM fallback: invalid_output"
        assert translations[language].body == ""


def test_a_used_up_daily_budget_leaves_the_languages_to_people(source, llm):
    LLMSettings.objects.create(pk=1, calls_per_day=0)

    translations_propose(article_id=source.pk, languages=["ja"])

    ja = by_language(source)["ja"]
    assert ja.review == Article.Review.TO_TRANSLATE
    assert ja.review_note == "LLM not used: daily call budget (0) used"
    assert llm.requests == []
    assert LLMCall.objects.get().outcome == "budget_exhausted"


# -- review, and what retrieval reads ----------------------------------------------------------


def test_retrieval_reads_a_proposal_only_once_it_is_approved(source, llm, desk_admin):
    translations_propose(article_id=source.pk, languages=["es"])
    es = by_language(source)["es"]
    query = "Cómo cambiar tu contraseña"

    assert es.pk not in retrieved_ids(query, "es")

    translation_approve(article_id=es.pk, actor=desk_admin)

    es.refresh_from_db()
    assert es.published and es.review == Article.Review.REVIEWED
    assert (es.reviewed_by, es.version) == (desk_admin, 1)
    assert es.pk in retrieved_ids(query, "es")


def test_a_task_is_never_retrieved_and_a_written_one_waits_for_approval(source, no_llm, desk_admin):
    translations_propose(article_id=source.pk, languages=["es"])
    es = by_language(source)["es"]
    assert es.pk not in retrieved_ids("contraseña", "es")

    written = translation_write(
        article_id=es.pk,
        title="Cómo cambiar tu contraseña",
        body="Abre Configuración > Cuenta y elige Cambiar contraseña.",
        author=desk_admin,
    )

    assert written.review == Article.Review.PROPOSED and not written.published
    assert written.review_note == "Written by ada"
    assert es.pk not in retrieved_ids("Cómo cambiar tu contraseña", "es")
    approved = translation_approve(
        article_id=es.pk, actor=desk_admin, body="Abre Configuración > Cuenta, por favor."
    )
    assert approved.published and approved.body == "Abre Configuración > Cuenta, por favor."
    assert [v.note for v in approved.versions.order_by("number")] == [
        "Translated by a person",
        "Edited in review",
    ]
    assert es.pk in retrieved_ids("Cómo cambiar tu contraseña", "es")


def test_a_rejected_proposal_waits_for_a_translator_and_keeps_its_history(source, llm, desk_admin):
    translations_propose(article_id=source.pk, languages=["ja"])
    ja = by_language(source)["ja"]

    rejected = translation_reject(article_id=ja.pk, actor=desk_admin, reason="Too stiff")

    assert rejected.review == Article.Review.TO_TRANSLATE and not rejected.published
    assert rejected.review_note == "Proposal rejected by ada: Too stiff"
    assert rejected.versions.count() == 1  # the model's text stays in the history
    with pytest.raises(TranslationNotPending):
        translation_approve(article_id=ja.pk, actor=desk_admin)
    assert ja.pk not in retrieved_ids("パスワードを変更する方法", "ja")


def test_a_translation_of_an_older_version_is_out_of_date(source, llm, desk_admin):
    from knowledge.selectors import T_OUT_OF_DATE, T_PUBLISHED, translation_state

    translations_propose(article_id=source.pk, languages=["es"])
    es = translation_approve(article_id=by_language(source)["es"].pk, actor=desk_admin)
    assert translation_state(source, es) == T_PUBLISHED

    source = article_update(article_id=source.pk, author=desk_admin, body=BODY + "\nNew step.")

    assert translation_state(source, es) == T_OUT_OF_DATE
    es = article_update(
        article_id=es.pk, author=desk_admin, source_version=source.version, body=es.body
    )
    assert translation_state(source, es) == T_PUBLISHED


# -- the engine, without a database -----------------------------------------------------------


def test_protect_replaces_what_must_not_change_and_restores_it():
    (title, body), protected = translate.protect(
        ["Lumen password", "See https://x.example/a?b=1. Mail a@b.example, {{ name }} %(n)s"],
        keep=["Lumen"],
    )

    assert "Lumen" not in title and "https" not in body and "@" not in body
    assert body.endswith("⟦4⟧ ⟦5⟧")
    assert body.startswith("See ⟦2⟧.")  # the full stop is the sentence's, not the link's
    assert protected.restore(body) == (
        "See https://x.example/a?b=1. Mail a@b.example, {{ name }} %(n)s"
    )


@pytest.mark.parametrize(
    ("text", "target"),
    [("Open the settings", "ja"), ("Open the settings and read the steps", "zh-Hant"),
     ("設定を開いてください", "es")],
)  # fmt: skip
def test_an_answer_in_the_wrong_script_is_unusable(text, target):
    with pytest.raises(LLMInvalidOutput):
        translate.check_script(text, target)


def test_deleting_an_article_in_the_admin_takes_its_waiting_translations_but_keeps_approved_ones(
    admin_client,
):
    source = ArticleFactory(title="Returns", language="en")
    waiting = ArticleFactory(
        title="Devoluciones", language="es", translation_of=source, published=False
    )
    Article.objects.filter(pk=waiting.pk).update(review=Article.Review.TO_TRANSLATE)
    approved = ArticleFactory(title="返品", language="ja", translation_of=source, published=True)

    response = admin_client.post(f"/admin/knowledge/article/{source.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Article.objects.filter(pk__in=[source.pk, waiting.pk]).exists()
    approved.refresh_from_db()
    assert approved.published
    assert approved.translation_of is None
