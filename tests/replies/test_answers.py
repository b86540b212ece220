"""The answer model picks the article a draft quotes: in any language, and none when the
knowledge base has no answer (the draft holds and an FAQ suggestion is raised)."""

from __future__ import annotations

import pytest

from knowledge.models import FAQSuggestion
from knowledge.services import faq_suggestion_approve
from replies.services import draft_create, draft_send
from tests.factories import ArticleFactory, CustomerFactory, MessageFactory, TriageResultFactory
from triage import registry
from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample
from triage.services import examples_import
from triage.training import answer_label, answer_model_refresh, model_train, training_examples

pytestmark = pytest.mark.django_db

# Realistic German rows (the demo KB has no German article) and questions it cannot answer.
GERMAN = {
    "download-invoice": [
        "Wo finde ich die Rechnung für meine Bestellung?",
        "Ich brauche eine Rechnung als PDF für meine Buchhaltung",
        "Können Sie mir die Rechnung zu LM-300122 schicken?",
        "Rechnung herunterladen geht nicht, wo ist der Link?",
    ],
    "account-access": [
        "Ich habe mein Passwort vergessen und komme nicht mehr rein",
        "Passwort zurücksetzen funktioniert nicht, keine E-Mail bekommen",
        "Mein Konto ist gesperrt, ich kann mich nicht anmelden",
        "Wie ändere ich mein Passwort?",
    ],
    OUT_OF_SCOPE_LABEL: [
        "Gibt es das Sofa auch in Grün?",
        "Welche Maße hat der Eichentisch genau?",
        "Bieten Sie eine Geschenkverpackung an?",
        "Suchen Sie noch Mitarbeiter im Lager?",
    ],
}


@pytest.fixture
def answer_model(demo_kb, settings, tmp_path, monkeypatch):
    """An answer model trained on the demo KB and the rows above (TF-IDF only: fast)."""
    monkeypatch.setenv("SUPPORTDESK_EMBEDDINGS", "off")
    settings.MODELS_DIR = tmp_path / "models"
    rows = [
        (text, key if key == OUT_OF_SCOPE_LABEL else answer_label(demo_kb[key]))
        for key, texts in GERMAN.items()
        for text in texts
    ]
    examples_import(
        target=LabelledExample.Target.ANSWER, rows=rows, source=LabelledExample.Source.REALISTIC
    )
    version = model_train(target="answer", oos_label=OUT_OF_SCOPE_LABEL)
    assert version is not None and version.is_active
    registry._answer_cached = None
    yield version
    registry._answer_cached = None


def _ask(body: str, language: str = "de"):
    message = MessageFactory(
        ticket__subject="",
        ticket__customer=CustomerFactory(name="Jonas", plan="paying"),
        body_text=body,
    )
    TriageResultFactory(message=message, language=language)
    return message


def test_a_german_question_is_answered_from_the_english_article(answer_model, demo_kb):
    draft = draft_create(message_id=_ask("Hallo, wo kann ich die Rechnung herunterladen?").pk)

    assert draft.grounded
    assert draft.citations[0]["article_id"] == demo_kb["download-invoice"].pk
    assert draft.needs_translation  # quoted from the English original


def test_the_customers_own_language_version_of_the_answer_is_quoted(answer_model, demo_kb):
    draft = draft_create(
        message_id=_ask("Olvidé mi contraseña y no puedo entrar a mi cuenta", "es").pk
    )

    assert draft.citations[0]["article_id"] == demo_kb["account-access-es"].pk
    assert not draft.needs_translation


def test_a_question_the_kb_cannot_answer_holds_and_suggests_an_faq(answer_model):
    message = _ask("Gibt es den Sessel auch in Grün?")

    draft = draft_create(message_id=message.pk)

    assert not draft.grounded and draft.citations == []
    assert FAQSuggestion.objects.filter(source_ticket=message.ticket).exists()


def test_answers_are_learnt_from_published_articles_and_only_those(demo_kb):
    invoice = demo_kb["download-invoice"]
    examples_import(
        target=LabelledExample.Target.ANSWER,
        rows=[("Rechnung bitte", answer_label(invoice)), ("alte Frage", "99999")],
    )

    rows = training_examples("answer")

    labels = {label for _, label in rows}
    assert ("Rechnung bitte", str(invoice.pk)) in rows
    assert "99999" not in labels  # an article that is gone teaches nothing
    # Each article's title teaches its answer; a translation teaches its source's answer.
    assert (demo_kb["account-access-ja"].title, str(demo_kb["account-access"].pk)) in rows
    invoice.published = False
    invoice.save()
    assert str(invoice.pk) not in {label for _, label in training_examples("answer")}


def test_a_sent_reply_teaches_the_answer_model_its_question(answer_model, demo_kb, agent):
    message = _ask("Wo kann ich meine Rechnung herunterladen, bitte?")
    draft = draft_create(message_id=message.pk)

    draft_send(draft_id=draft.pk, actor=agent, text=draft.text + "\n\nPS: Danke!")

    learnt = LabelledExample.objects.get(target="answer", source="correction")
    assert learnt.label == answer_label(demo_kb["download-invoice"])
    assert "Rechnung herunterladen" in learnt.text


def test_the_answer_model_learns_a_newly_published_article(answer_model, demo_kb):
    assert answer_model_refresh() is None  # nothing changed since it was trained

    gift = ArticleFactory(title="Gift wrapping", body="We wrap any order for $5.", language="en")

    version = answer_model_refresh()
    assert version is not None and version.is_active
    assert str(gift.pk) in version.metrics["labels"]


def test_no_answer_model_is_trained_without_labelled_answer_examples(demo_kb, settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"

    assert answer_model_refresh() is None


def test_publishing_an_faq_answers_the_next_customer_who_asks_it(
    answer_model, desk_admin, django_capture_on_commit_callbacks
):
    """The answer examples said the KB has no answer to gift wrapping; once an admin publishes
    one, they teach the new article instead, and the next customer asking gets it."""
    for body in ("Bieten Sie Geschenkverpackung an?", "Bieten Sie auch Geschenkverpackung an?"):
        draft_create(message_id=_ask(body).pk)
    suggestion = FAQSuggestion.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        article = faq_suggestion_approve(
            suggestion_id=suggestion.pk,
            actor=desk_admin,
            title="Geschenkverpackung",
            answer="Wir verpacken jede Bestellung für 5 € als Geschenk, mit einer Karte.",
            language="de",
        )

    registry._answer_cached = None
    draft = draft_create(message_id=_ask("Bieten Sie eine Geschenkverpackung an?").pk)
    assert draft.grounded
    assert [c["article_id"] for c in draft.citations] == [article.pk]
    assert LabelledExample.objects.get(text="Bieten Sie eine Geschenkverpackung an?").label == (
        answer_label(article)
    )
    # Questions it does not answer still have no answer.
    assert LabelledExample.objects.get(text="Gibt es das Sofa auch in Grün?").label == (
        OUT_OF_SCOPE_LABEL
    )
