"""Confidences and the out-of-scope cut are calibrated on messages written the way customers
write, not on a slice of templated examples (which saturate and set the cut too high).

Trained on the demo company's own files, TF-IDF only so the test stays fast: the templated
Bitext-derived examples and the written examples in eight languages.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from triage.engine.category import _costed_threshold, train_category_model
from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample
from triage.training import training_examples

DEMO = Path(__file__).resolve().parents[2] / "supportdesk" / "demo"

# Written for this test, in no training file: how customers actually ask.
FRESH = [
    ("hi, the $49 lumen plus renewal hit my card and i never wanted it?? money back pls", "refund"),
    (
        "Cobraron dos veces mi pedido LM-553201, necesito que me devuelvan uno de los cargos",
        "payment",
    ),
    (
        "Hallo, wo bleibt mein Paket? Bestellt vor 10 Tagen, Sendungsverfolgung zeigt nichts",
        "delivery",
    ),
    (
        "bonjour je n'arrive plus a me connecter, mot de passe refusé alors que c'est le bon",
        "account",
    ),
    ("can u send me the receipt for order LM-220931, need it for my expense report", "invoice"),
    ("Oi, como faço pra parar de receber os e-mails de promoção de vocês?", "newsletter"),
]


def _rows(name: str) -> list[tuple[str, str]]:
    with (DEMO / name).open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def demo_rows() -> tuple[list, list]:
    return _rows("category_examples.csv"), _rows("category_examples_written.csv")


def test_the_written_examples_cover_every_language_and_category(demo_rows):
    _, written = demo_rows
    with (DEMO / "category_examples_written.csv").open(newline="", encoding="utf-8") as handle:
        languages = {row["language"] for row in csv.DictReader(handle)}
    assert languages == {"en", "zh-Hant", "zh-Hans", "ja", "es", "de", "fr", "pt"}
    assert {label for _, label in written} >= {"refund", "payment", OUT_OF_SCOPE_LABEL}


def test_metrics_and_the_cut_come_from_realistic_rows_not_flattering_templates(demo_rows):
    templated, written = demo_rows
    on_templates = train_category_model(templated + written, oos_label=OUT_OF_SCOPE_LABEL)
    on_realistic = train_category_model(
        templated, oos_label=OUT_OF_SCOPE_LABEL, calibration=written
    )

    # Measured on the realistic rows, each predicted by a model that never saw it: far below
    # what a slice of the templates claims for the very same training data.
    assert on_realistic.metrics["heldout"] == on_realistic.metrics["realistic"] == len(written)
    assert on_realistic.metrics["accuracy"] < on_templates.metrics["accuracy"] - 0.2
    # Real questions score lower than templates, so the cut that turns them away is lower too.
    assert on_realistic.oos_threshold < on_templates.oos_threshold
    predictions = on_realistic.predict_many([text for text, _ in FRESH])
    assert not any(p.out_of_scope for p in predictions)


def test_too_few_realistic_rows_fall_back_to_a_held_out_slice(demo_rows):
    templated, written = demo_rows
    some = templated[::8]
    model = train_category_model(some, oos_label=OUT_OF_SCOPE_LABEL, calibration=written[:10])

    assert model.metrics["heldout"] == pytest.approx(0.2 * (len(some) + 10), abs=2)


@pytest.mark.django_db
def test_realistic_imports_and_corrections_are_what_training_calibrates_on(tmp_path):
    written = tmp_path / "written.csv"
    written.write_text("text,category\nwhere's my parcel LM-1,delivery\nasdf,oos\n")
    templated = tmp_path / "templated.csv"
    templated.write_text("text,category\nwhere is my order 123,delivery\n")
    call_command("import_examples", str(written), "--realistic", "--out-of-scope-label", "oos")
    call_command("import_examples", str(templated))
    LabelledExample.objects.create(
        target="category",
        text="my parcel never came",
        label="delivery",
        source=LabelledExample.Source.CORRECTION,
        text_hash="c",
    )

    assert sorted(training_examples("category", realistic=True)) == [
        ("asdf", OUT_OF_SCOPE_LABEL),
        ("my parcel never came", "delivery"),
        ("where's my parcel LM-1", "delivery"),
    ]
    assert training_examples("category", realistic=False) == [("where is my order 123", "delivery")]


def test_the_costlier_a_wrong_answer_the_more_the_cut_turns_away():
    # Out-of-fold scores of right answers and of wrong ones (wrong article, or no answer).
    top = np.array([0.95, 0.9, 0.85, 0.6, 0.5, 0.45, 0.4, 0.3])
    predicted = np.array(["a", "b", "a", "b", "a", "b", "a", "b"])
    correct = np.array([True, True, True, False, True, True, False, False])

    assert _costed_threshold(top, predicted, correct, OUT_OF_SCOPE_LABEL, 1.0) == 0.45
    # A wrong answer three times as costly: the cut rises above the wrong one at 0.6.
    assert _costed_threshold(top, predicted, correct, OUT_OF_SCOPE_LABEL, 3.0) == 0.85
