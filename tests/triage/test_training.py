"""Retraining from agents' corrections, and a new version judged on what agents corrected."""

from __future__ import annotations

import pytest

from tests.factories import CategoryFactory, MessageFactory, TicketFactory
from triage import services
from triage.engine.types import TriageInput
from triage.models import LabelledExample, ModelVersion, example_text_hash
from triage.training import (
    HELDOUT_TOLERANCE,
    HOLD_BACK_BELOW,
    Comparison,
    held_back_corrections,
    model_train,
    should_promote,
    training_examples,
)

pytestmark = pytest.mark.django_db


def _held_back(text: str) -> bool:
    return example_text_hash(text) < HOLD_BACK_BELOW


def _texts(template: str, *, held_back: bool, count: int) -> list[str]:
    """`count` texts from `template` (with {n}) that are (or are not) held back from training."""
    texts = (template.format(n=n) for n in range(10_000))
    return [t for t in texts if _held_back(t) == held_back][:count]


def test_the_issues_case_fixing_the_corrected_errors_outweighs_a_hair_on_templates():
    """Held out on templated rows the active scored 0.9989 and the retrained version 0.9978,
    which kept out a version that reads what agents corrected right."""
    active = ModelVersion(
        target="category",
        version="v1",
        metrics={"accuracy": 0.9989, "labels": ["delivery", "refund"]},
    )
    fixes_them = should_promote(
        target="category",
        new_metrics={"accuracy": 0.9978},
        new_labels={"delivery", "refund"},
        active=active,
        corrections=Comparison(examples=40, new=0.95, active=0.55),
    )
    gets_them_worse = should_promote(
        target="category",
        new_metrics={"accuracy": 0.9995},
        new_labels={"delivery", "refund"},
        active=active,
        corrections=Comparison(examples=40, new=0.5, active=0.55),
    )
    loses_templates = should_promote(
        target="category",
        new_metrics={"accuracy": 0.9989 - HELDOUT_TOLERANCE - 0.01},
        new_labels={"delivery", "refund"},
        active=active,
        corrections=Comparison(examples=40, new=0.95, active=0.55),
    )
    assert fixes_them == (
        True,
        "40 held-back corrections read right 0.9500 vs active 0.5500; "
        "held-out accuracy 0.9978 vs active 0.9989 (within 0.005)",
    )
    assert gets_them_worse[0] is False
    assert gets_them_worse[1].startswith("worse on agents' corrections")
    assert loses_templates[0] is False
    # Before any correction is held back, the held-out slice decides, with the same tolerance.
    no_corrections = should_promote(
        target="category",
        new_metrics={"accuracy": 0.9978},
        new_labels={"delivery", "refund"},
        active=active,
    )
    assert no_corrections[0] is True


def _seed_categories() -> None:
    for slug in ("delivery", "refund", "gift_wrap"):
        CategoryFactory(slug=slug, name=slug)
    seed = [(f"where is my parcel {i}, tracking number {i}", "delivery") for i in range(12)]
    seed += [(f"I want my money back for order {i}", "refund") for i in range(12)]
    seed += [(f"can you wrap present number {i} in gift paper", "gift_wrap") for i in range(12)]
    services.examples_import(target="category", rows=seed)


def _correct(texts: list[str], label: str) -> None:
    services.examples_import(
        target="category",
        rows=[(t, label) for t in texts],
        source=LabelledExample.Source.CORRECTION,
    )


@pytest.fixture
def small_models(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("SUPPORTDESK_EMBEDDINGS", "off")  # small TF-IDF models: a fast test
    settings.MODELS_DIR = tmp_path
    settings.RETRAIN_EVERY = 1000  # retrain by hand


def test_held_back_corrections_are_never_trained_on(small_models):
    _seed_categories()
    held = _texts("ribbon and bow for gift {n}", held_back=True, count=3)
    taught = _texts("ribbon and bow for gift {n}", held_back=False, count=7)
    _correct(held + taught, "gift_wrap")

    trained_on = {text for text, _ in training_examples("category")}
    assert not trained_on & set(held)
    assert set(taught) <= trained_on
    assert sorted(t for t, _ in held_back_corrections("category")) == sorted(held)
    # About a fifth of all texts are held back, the same ones on every run.
    share = sum(_held_back(f"message {n}") for n in range(2000)) / 2000
    assert 0.17 < share < 0.23


def test_a_version_that_fixes_what_agents_corrected_is_promoted_with_its_figures(small_models):
    from triage.registry import get_triage_engine

    _seed_categories()
    active = model_train(target="category")
    # Agents file broken deliveries under refunds; the active model reads them as deliveries.
    template = "Broken vase\nthe vase in my parcel {n} arrived smashed"
    held = _texts(template, held_back=True, count=3)
    taught = _texts(template, held_back=False, count=8)
    assert get_triage_engine().analyse(TriageInput(text=held[0])).category == "delivery"
    _correct(held + taught, "refund")

    new = model_train(target="category")

    assert new.is_active, new.metrics["promotion"]
    judged = new.metrics["judged"]
    assert judged["against"] == active.version
    assert judged["corrections"] == 3
    assert judged["corrections_score"] == 1.0
    assert judged["corrections_score_active"] < 1.0
    assert judged["heldout_active"] == active.metrics["accuracy"]
    # Both versions are also scored on the same slice of what they were taught.
    assert judged["reference"] > 0
    assert judged["reference_score"] >= judged["reference_score_active"] - HELDOUT_TOLERANCE
    assert new.metrics["promotion"].startswith("3 held-back corrections read right 1.0000")
    assert get_triage_engine().analyse(TriageInput(text=held[0])).category == "refund"


def test_a_version_that_gets_agents_corrections_worse_is_stored_but_not_promoted(small_models):
    """Someone files parcel questions under refunds by mistake: the next version learns it, and
    reads the held-back parcel corrections worse than the active one, so it stays inactive."""
    from triage.registry import get_triage_engine

    _seed_categories()
    held = _texts("Parcel\nwhere is my parcel {n}, it has not come", held_back=True, count=4)
    _correct(held, "delivery")
    active = model_train(target="category")
    assert active.is_active
    mislabelled = _texts("Parcel\nwhere is my parcel {n}, it is late", held_back=False, count=30)
    _correct(mislabelled, "refund")

    new = model_train(target="category")

    assert not new.is_active
    assert new.metrics["promotion"].startswith("worse on agents' corrections: 4 held-back")
    assert (
        new.metrics["judged"]["corrections_score"]
        < new.metrics["judged"]["corrections_score_active"]
    )
    assert ModelVersion.objects.get(target="category", is_active=True) == active
    assert get_triage_engine().analyse(TriageInput(text=held[0])).category == "delivery"


def test_emotion_corrections_retrain_and_the_new_version_reads_them_as_corrected(
    agent, settings, tmp_path, django_capture_on_commit_callbacks
):
    """Agents correct the emotion of a ticket; after RETRAIN_EVERY emotion corrections the
    emotion model is retrained in the background and reads that message as corrected."""
    from django.core.management import call_command

    from triage import registry

    settings.MODELS_DIR = tmp_path / "models"
    settings.RETRAIN_EVERY = 1
    registry._cached = None
    call_command("train_models", "--target", "emotion", verbosity=0)
    shipped = ModelVersion.objects.get(target="emotion", is_active=True)
    subject, body = "Order LM-30041", "You said it would arrive Tuesday. It is Friday."
    assert not _held_back(f"{subject}\n{body}")
    text = TriageInput(subject=subject, text=body)
    assert registry.get_triage_engine().analyse(text).emotion == "neutral"

    ticket = TicketFactory(subject=subject, emotion="neutral")
    MessageFactory(ticket=ticket, direction="in", body_text=body)
    with django_capture_on_commit_callbacks(execute=True):
        services.triage_correct(
            ticket_id=ticket.pk,
            actor=agent,
            category="",
            emotion="angry",
            urgency=ticket.urgency_label,
        )

    new = ModelVersion.objects.get(target="emotion", is_active=True)
    assert new != shipped, new.metrics["promotion"]
    assert new.metrics["judged"]["against"] == shipped.version
    assert registry.get_triage_engine().analyse(text).emotion == "angry"
