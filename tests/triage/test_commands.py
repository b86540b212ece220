"""The command-line contract: import_examples, train_models, triage_file."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from supportdesk.models import Category
from triage.engine.types import EMOTIONS
from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample

pytestmark = pytest.mark.django_db

CSV = (
    "text,intent\n"
    "where is my card,card_arrival\n"
    "my card has not arrived yet,card_arrival\n"
    "what is the weather tomorrow,oos\n"
    '"Hello, how do I top up my account?",top_up\n'
)


def test_importing_the_same_file_twice_keeps_one_example_per_text(tmp_path):
    path = tmp_path / "examples.csv"
    path.write_text(CSV, encoding="utf-8")
    for _ in range(2):
        call_command(
            "import_examples", str(path), "--target", "category", "--text-column", "text",
            "--label-column", "intent", "--out-of-scope-label", "oos",
        )  # fmt: skip

    examples = LabelledExample.objects.filter(target="category")
    assert examples.count() == 4
    assert examples.get(text="what is the weather tomorrow").label == OUT_OF_SCOPE_LABEL
    # The taxonomy learns the installation's own categories, but not the out-of-scope label.
    assert set(Category.objects.values_list("slug", flat=True)) == {"card_arrival", "top_up"}


def test_a_relabelled_text_keeps_its_newest_label(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.jsonl"
    first.write_text("text,category\nI was charged twice,payment\n", encoding="utf-8")
    second.write_text(json.dumps({"text": "I was  charged TWICE", "category": "refund"}) + "\n")
    call_command("import_examples", str(first))
    call_command("import_examples", str(second))
    assert list(LabelledExample.objects.values_list("label", flat=True)) == ["refund"]


def test_bad_files_get_clear_errors_and_import_nothing(tmp_path):
    missing_column = tmp_path / "x.csv"
    missing_column.write_text("body,category\nhello,a\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Missing column"):
        call_command("import_examples", str(missing_column))
    broken = tmp_path / "x.jsonl"
    broken.write_text('{"text": "ok", "category": "a"}\n{not json\n', encoding="utf-8")
    with pytest.raises(CommandError, match="line 2: invalid JSON"):
        call_command("import_examples", str(broken))
    binary = tmp_path / "y.csv"
    binary.write_bytes(b"text,category\n\xff\xfe\x00garbage,a\n")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_examples", str(binary))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_examples", str(tmp_path / "nope.csv"))
    assert not LabelledExample.objects.exists()


def test_triage_file_writes_one_result_per_row_in_order(tmp_path, triage_engine):
    source = tmp_path / "in.jsonl"
    rows = [
        {"id": "a1", "text": "Where is my parcel? The tracking has not moved for a week."},
        {"id": "a2", "text": "我不知道怎麼取消自動續訂，我現在帳戶裡被扣了錢。"},
        {"id": "a3", "text": ""},
        {"id": "a4", "text": "x" * 100_000, "subject": "long"},
    ]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"

    call_command("triage_file", "--input", str(source), "--output", str(out))

    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in results] == ["a1", "a2", "a3", "a4"]
    assert list(results[0]) == [
        "id", "language", "language_confidence", "category", "category_confidence",
        "out_of_scope", "emotion", "emotion_confidence", "emotion_intensity", "urgency",
        "urgency_reasons", "needs_human", "needs_human_reasons",
    ]  # fmt: skip
    assert results[0]["language"] == "en"
    assert results[1]["language"] == "zh-Hant"
    for result in results:
        assert (result["category"] is None) == result["out_of_scope"] or result["category"] is None
        assert result["urgency"] in {"high", "medium", "low"}


def test_triage_file_on_a_fresh_installation_reads_all_but_the_category(tmp_path, settings, capsys):
    settings.MODELS_DIR = tmp_path / "models"
    source = tmp_path / "in.csv"
    source.write_text("text\nI was charged twice and nobody answers. Fix it now!\n")
    out = tmp_path / "o.jsonl"

    call_command("triage_file", "--input", str(source), "--output", str(out))

    [result] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert result["category"] is None
    assert result["language"] == "en"
    assert result["emotion"] in EMOTIONS and result["emotion_confidence"] > 0
    assert result["urgency"] in {"high", "medium", "low"}
    assert "train_models" in capsys.readouterr().err


def test_every_nth_correction_schedules_background_retraining(
    agent, categories, settings, monkeypatch
):
    from tests.factories import MessageFactory, TicketFactory
    from triage import services

    settings.RETRAIN_EVERY = 2
    queued: list[tuple] = []
    monkeypatch.setattr(services, "enqueue_on_commit", lambda *args: queued.append(args))
    for n in range(4):
        ticket = TicketFactory(subject=f"ticket {n}")
        MessageFactory(ticket=ticket, direction="in", body_text=f"my parcel {n} is late")
        # The emotion is corrected on the first two tickets only: counted apart from categories.
        emotion = "anxious" if n < 2 else ticket.emotion
        services.triage_correct(
            ticket_id=ticket.pk, actor=agent, category="delivery", emotion=emotion, urgency="low"
        )
    assert queued == [
        ("triage.tasks.retrain_models", "category"),
        ("triage.tasks.retrain_models", "emotion"),
        ("triage.tasks.retrain_models", "category"),
    ]


def test_a_worse_model_is_stored_but_not_promoted(settings, tmp_path):
    from triage.models import ModelVersion
    from triage.training import should_promote

    active = ModelVersion(
        target="category", version="v1", metrics={"accuracy": 0.9, "labels": ["a", "b"]}
    )
    worse = should_promote(
        target="category", new_metrics={"accuracy": 0.8}, new_labels={"a", "b"}, active=active
    )
    better = should_promote(
        target="category", new_metrics={"accuracy": 0.9}, new_labels={"a", "b"}, active=active
    )
    new_taxonomy = should_promote(
        target="category", new_metrics={"accuracy": 0.5}, new_labels={"a", "c"}, active=active
    )
    assert worse == (
        False,
        "no held-back corrections to compare on; "
        "held-out accuracy 0.8000 vs active 0.9000, more than 0.005 lower",
    )
    assert better[0] and new_taxonomy[0]
    assert should_promote(target="emotion", new_metrics={}, new_labels=set(), active=None)[0]


def test_agents_corrections_change_the_next_model_version(agent, settings, tmp_path, monkeypatch):
    """Train, correct a ticket the model gets wrong, retrain: the new version has learned it."""
    from tests.factories import CategoryFactory, MessageFactory, TicketFactory
    from triage import services
    from triage.models import ModelVersion, example_text_hash
    from triage.registry import get_triage_engine
    from triage.tasks import retrain_models
    from triage.training import HOLD_BACK_BELOW, model_train

    monkeypatch.setenv("SUPPORTDESK_EMBEDDINGS", "off")  # small TF-IDF models: a fast test
    settings.MODELS_DIR = tmp_path
    settings.RETRAIN_EVERY = 1000  # retrain by hand below
    for slug in ("delivery", "refund", "gift_wrap"):
        CategoryFactory(slug=slug, name=slug)
    seed = [(f"where is my parcel {i}, tracking number {i}", "delivery") for i in range(12)]
    seed += [(f"I want my money back for order {i}", "refund") for i in range(12)]
    seed += [(f"can you wrap present number {i} in gift paper", "gift_wrap") for i in range(12)]
    services.examples_import(target="category", rows=seed)
    first = model_train(target="category")

    for n in range(6):  # agents keep filing this kind of question under gift wrapping
        other = TicketFactory(subject="Ribbon")
        MessageFactory(ticket=other, direction="in", body_text=f"ribbon and card please {n}")
        services.triage_correct(
            ticket_id=other.pk, actor=agent, category="gift_wrap", emotion="neutral", urgency="low"
        )
    retrain_models("category")

    latest = ModelVersion.objects.filter(target="category").latest("created_at")
    assert latest.version != first.version
    # About a fifth of corrections (chosen by their text) are held back to judge the version on.
    texts = [f"Ribbon\nribbon and card please {n}" for n in range(6)]
    held = [t for t in texts if example_text_hash(t) < HOLD_BACK_BELOW]
    assert len(held) == 1
    assert latest.example_count == first.example_count + 6 - len(held)
    assert latest.is_active, latest.metrics["promotion"]
    assert latest.metrics["judged"]["corrections"] == len(held)
    assert latest.metrics["judged"]["corrections_score"] == 1.0
    from triage.engine.types import TriageInput

    # The running engine picks the new version up and answers the way agents taught it.
    result = get_triage_engine().analyse(TriageInput(text="ribbon and card please"))
    assert result.category == "gift_wrap"


def test_triage_file_reads_emotion_even_when_only_categories_were_trained(
    tmp_path, settings, monkeypatch
):
    """Emotion ships trained: `train_models --target category` alone is enough to triage."""
    from triage import registry
    from triage.models import ModelVersion

    monkeypatch.setenv("SUPPORTDESK_EMBEDDINGS", "off")  # small TF-IDF models: a fast test
    settings.MODELS_DIR = tmp_path / "models"
    registry._cached = None
    source = tmp_path / "examples.csv"
    source.write_text(
        "text,intent\n"
        + "".join(f"where is my card number {i},card_arrival\n" for i in range(8))
        + "".join(f"how do I top up account {i},top_up\n" for i in range(8)),
        encoding="utf-8",
    )
    call_command("import_examples", str(source), "--label-column", "intent")
    call_command("train_models", "--target", "category")
    assert not ModelVersion.objects.filter(target="emotion").exists()
    rows = tmp_path / "in.csv"
    rows.write_text("text\nThank you so much, this is wonderful!\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"

    call_command("triage_file", "--input", str(rows), "--output", str(out))

    emotion = ModelVersion.objects.get(target="emotion", is_active=True)
    assert emotion.metrics["promotion"] == "shipped with this release"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["emotion"] == "positive" and result["emotion_confidence"] > 0


def test_if_missing_replaces_an_active_model_that_no_longer_loads(settings, tmp_path, capsys):
    """After SECRET_KEY changes (model files are signed with a key derived from it) the active
    model cannot be loaded; `make run`'s `train_models --if-missing` must train a new one
    instead of skipping a model the worker cannot use."""
    from triage.models import ModelVersion
    from triage.registry import get_triage_engine

    settings.MODELS_DIR = tmp_path / "models"
    source = tmp_path / "examples.csv"
    source.write_text(CSV, encoding="utf-8")
    call_command(
        "import_examples", str(source), "--target", "category", "--text-column", "text",
        "--label-column", "intent", "--out-of-scope-label", "oos",
    )  # fmt: skip
    call_command("train_models", "--target", "category")
    first = ModelVersion.objects.get(target="category", is_active=True)

    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    call_command("train_models", "--target", "category", "--if-missing")

    out = capsys.readouterr().out
    assert f"active model {first.version} does not load" in out
    second = ModelVersion.objects.get(target="category", is_active=True)
    assert second.version != first.version
    assert get_triage_engine() is not None  # loads with the new key

    call_command("train_models", "--target", "category", "--if-missing")
    assert "active model present, skipped" in capsys.readouterr().out


def test_the_emotion_model_is_installed_from_the_release_in_seconds(settings, tmp_path, capsys):
    from triage import registry, training
    from triage.models import ModelVersion

    settings.MODELS_DIR = tmp_path / "models"
    call_command("train_models", "--target", "emotion")

    assert "emotion: installed the shipped model" in capsys.readouterr().out
    version = ModelVersion.objects.get(target="emotion", is_active=True)
    assert version.metrics["promotion"] == "shipped with this release"
    assert set(version.metrics["labels"]) == {
        "angry", "anxious", "sad", "confused", "positive", "neutral",
    }  # fmt: skip
    assert version.metrics["macro_f1"] > 0.6
    # Stored and signed like a model trained here: the engine loads it with this key.
    registry._cached = None
    engine = registry.get_triage_engine()
    assert engine is not None
    assert training.shipped_model_problem("emotion") == ""


def test_agents_emotion_corrections_teach_the_support_reading_in_seconds(settings, tmp_path):
    from triage.engine.emotion import load_support_examples
    from triage.models import ModelVersion

    settings.MODELS_DIR = tmp_path / "models"
    LabelledExample.objects.create(target="emotion", text="this is a joke, fix it", label="angry")

    call_command("train_models", "--target", "emotion")

    version = ModelVersion.objects.get(target="emotion", is_active=True)
    assert version.metrics["promotion"] == "shipped with this release"
    assert version.metrics["support_examples"] == len(load_support_examples()) + 1


def test_the_emotion_data_header_row_is_not_an_example():
    from triage.training import training_examples

    assert "emotion" not in {label for _, label in training_examples("emotion")}
