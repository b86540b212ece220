"""Models shipped trained: each is verified against its pin before it is unpickled, and a
category or answer model stands in for training only when it learnt from exactly this
installation's examples; otherwise `train_models` trains as it always did."""

from __future__ import annotations

import hashlib
import json

import pytest
import sklearn
from django.core.management import call_command

from triage import training
from triage.engine.types import TriageInput
from triage.models import LabelledExample, ModelVersion
from triage.services import examples_import

pytestmark = pytest.mark.django_db


def test_every_shipped_model_file_matches_its_pinned_sha256():
    """Rebuild with `train_models --export-shipped`, which writes the file and its pin."""
    pins = training.shipped_pins()
    assert set(pins) == set(training.TARGETS)
    for target, pin in pins.items():
        data = training.shipped_model_file(target).read_bytes()
        assert hashlib.sha256(data).hexdigest() == pin["sha256"], target
        assert pin["scikit_learn"] == sklearn.__version__, target
        assert ("training_digest" in pin) == (target in training.SHIPPED_BY_DIGEST), target


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_a_fresh_demo_installation_installs_the_shipped_models_instead_of_training(
    settings, tmp_path, monkeypatch, capsys
):
    """The demo's category and answer models ship trained on its examples by this code: when
    the demo data or the training code changes, re-export them (`load_demo` on a fresh
    installation, then `train_models --export-shipped`) or the first run trains for minutes.
    Fresh sequences: the answer labels are the articles' ids, as on a fresh installation."""
    from triage import registry

    settings.MODELS_DIR = tmp_path / "models"
    monkeypatch.setenv("DEMO_TICKETS", "0")
    call_command("load_demo")
    monkeypatch.setattr(
        "triage.engine.train_and_save", lambda *a, **k: pytest.fail("trained instead")
    )

    for target in training.SHIPPED_BY_DIGEST:
        call_command("train_models", "--target", target, "--if-missing")

    out = capsys.readouterr().out
    for target in training.SHIPPED_BY_DIGEST:
        assert f"{target}: installed the shipped model" in out, out
        version = ModelVersion.objects.get(target=target, is_active=True)
        assert version.metrics["shipped"] == 1.0
        assert version.example_count == LabelledExample.objects.filter(target=target).count() + (
            0 if target == "category" else len(training.answers_from_articles())
        )
    registry._cached = None
    result = registry.get_triage_engine().analyse(
        TriageInput(text="Where is my parcel? The tracking has not moved for a week.")
    )
    assert result.category == "delivery"
    assert registry.get_answer_model() is not None  # stored and signed with this key


@pytest.fixture
def shipped_here(settings, tmp_path, monkeypatch):
    """Shipped models and pins in a folder of the test's own, and a small TF-IDF category model
    exported there from this installation's examples (`train_models --export-shipped`)."""
    monkeypatch.setenv("SUPPORTDESK_EMBEDDINGS", "off")  # small TF-IDF models: a fast test
    settings.MODELS_DIR = tmp_path / "models"
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setattr(training, "DATA", shipped)
    monkeypatch.setattr(training, "SHIPPED_PINS", shipped / "shipped_models.json")
    rows = [(f"where is my parcel {i}, tracking {i}", "delivery") for i in range(10)]
    rows += [(f"I want my money back for order {i}", "refund") for i in range(10)]
    examples_import(target="category", rows=rows)
    call_command("train_models", "--target", "category", "--export-shipped")
    ModelVersion.objects.all().delete()  # as on a fresh installation with these examples
    return shipped


def _train_category(capsys) -> str:
    call_command("train_models", "--target", "category")
    return capsys.readouterr().out


def test_the_shipped_model_is_installed_when_it_learnt_from_exactly_these_examples(
    shipped_here, monkeypatch, capsys
):
    capsys.readouterr()
    monkeypatch.setattr(
        "triage.engine.train_and_save", lambda *a, **k: pytest.fail("trained instead")
    )

    out = _train_category(capsys)

    assert "category: installed the shipped model" in out
    version = ModelVersion.objects.get(target="category", is_active=True)
    assert version.metrics["shipped"] == 1.0
    assert version.example_count == 20


def test_one_more_example_means_the_model_is_trained_here(shipped_here, capsys):
    examples_import(target="category", rows=[("parcel lost again", "delivery")])
    capsys.readouterr()

    out = _train_category(capsys)

    assert "it learnt from other examples than this installation's" in out
    assert "category: trained in" in out
    version = ModelVersion.objects.get(target="category", is_active=True)
    assert "shipped" not in version.metrics
    assert version.example_count == 21


def test_other_training_code_or_another_encoder_means_another_digest(shipped_here, monkeypatch):
    from triage.engine import local

    here = training.training_digest("category", oos_label=None)
    assert here == training.shipped_pins()["category"]["training_digest"]
    monkeypatch.setenv("SUPPORTDESK_EMBEDDINGS", "on")
    assert training.training_digest("category", oos_label=None) != here
    monkeypatch.setenv("SUPPORTDESK_EMBEDDINGS", "off")
    monkeypatch.setattr(local, "CATEGORY_TRAINING_CODE", local.CATEGORY_TRAINING_CODE[:-1])
    assert training.training_digest("category", oos_label=None) != here


def test_a_shipped_model_that_does_not_match_its_pin_is_never_unpickled(
    shipped_here, monkeypatch, capsys
):
    path = training.shipped_model_file("category")
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr("joblib.load", lambda *a, **k: pytest.fail("a tampered pickle was loaded"))
    capsys.readouterr()

    out = _train_category(capsys)

    assert "category_model.joblib does not match its pinned sha256" in out
    assert "category: trained in" in out
    with pytest.raises(ValueError, match="cannot be used"):
        training.model_install_shipped(target="category", oos_label=None)


def test_a_model_built_with_another_scikit_learn_is_trained_here(shipped_here, capsys):
    pins = training.shipped_pins()
    pins["category"]["scikit_learn"] = "0.24.2"
    training.SHIPPED_PINS.write_text(json.dumps(pins), encoding="utf-8")
    capsys.readouterr()

    out = _train_category(capsys)

    assert "it was built with scikit-learn 0.24.2" in out
    assert "category: trained in" in out


def test_export_refuses_a_sliced_model(shipped_here):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="every example"):
        call_command("train_models", "--export-shipped", "--max-per-label", "5")


def test_a_tampered_shipped_emotion_model_is_never_unpickled(settings, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    data = bytearray(training.shipped_model_file("emotion").read_bytes())
    data[-1] ^= 0xFF
    (shipped / "emotion_model.joblib").write_bytes(bytes(data))
    pins = shipped / "shipped_models.json"
    pins.write_text(training.SHIPPED_PINS.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(training, "DATA", shipped)
    monkeypatch.setattr(training, "SHIPPED_PINS", pins)
    monkeypatch.setattr("joblib.load", lambda *a, **k: pytest.fail("a tampered pickle was loaded"))

    assert "does not match its pinned sha256" in training.shipped_model_problem("emotion")
    with pytest.raises(ValueError, match="cannot be used"):
        training.emotion_install_shipped()
