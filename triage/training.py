"""Train the local models from labelled examples and keep their versions.

Category examples live in the database (imported files and agents' corrections). Emotion ships
trained from the bundled GoEmotions-derived file, plus agents' emotion corrections.
"""

from __future__ import annotations

import csv
import hashlib
import random
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from knowledge.models import Article
from knowledge.text import split_passages
from triage.engine.types import EMOTIONS
from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample, ModelVersion
from triage.registry import model_signing_key

DATA = Path(__file__).resolve().parent / "data"
EMOTION_DATA = DATA / "emotion_examples.tsv"
TARGETS = ("category", "emotion", "answer")

# The emotion model trained from EMOTION_DATA, shipped so that an installation does not spend
# minutes of CPU training it (`train_models` installs it; `--retrain` trains it from the data).
# It is a pickle: it is loaded only when its sha256 is exactly this pinned value, and only with
# the scikit-learn release it was built with. Rebuild it with `manage.py train_models --target
# emotion --retrain --export-shipped`, then update these two constants.
SHIPPED_EMOTION_MODEL = DATA / "emotion_model.joblib"
SHIPPED_EMOTION_SHA256 = "d4e61befa891b3303a58a9f9def2a8bcad438647ad9a80bf2c0beb66a626ed65"
SHIPPED_EMOTION_SKLEARN = "1.9.1"


# Rows that read like real traffic: what confidences are calibrated on (triage/engine/category).
REALISTIC_SOURCES = (LabelledExample.Source.REALISTIC, LabelledExample.Source.CORRECTION)


def training_examples(
    target: str, *, max_per_label: int | None = None, realistic: bool | None = None
) -> list[tuple[str, str]]:
    """Every labelled example of `target`: the bundled file (emotion) and the database's.

    `realistic` True keeps only realistic messages and agents' corrections, False only the
    others (None: all). `max_per_label` keeps a fixed-seed random slice of each label (a quick
    model for tests and trials; the product trains on everything)."""
    stored = LabelledExample.objects.filter(target=target).order_by("pk")
    if realistic is not None:
        which = {"source__in": REALISTIC_SOURCES}
        stored = stored.filter(**which) if realistic else stored.exclude(**which)
    rows = list(stored.values_list("text", "label"))
    if target == "answer":
        # Only answers the knowledge base still publishes; its own text teaches every article
        # from the moment it is published, in each language it is written in.
        answers = published_answers()
        rows = [(t, label) for t, label in rows if label in answers or label == OUT_OF_SCOPE_LABEL]
        if not realistic:
            rows = answers_from_articles() + rows
    if target == "emotion" and not realistic:
        with EMOTION_DATA.open(encoding="utf-8", newline="") as handle:
            # The label check also drops the file's header row.
            shipped = [
                (r[0], r[1])
                for r in csv.reader(handle, delimiter="\t")
                if len(r) == 2 and r[1] in EMOTIONS
            ]
        rows = shipped + rows
    if max_per_label:
        rows = _slice_per_label(rows, max_per_label)
    return rows


def answer_label(article: Article) -> str:
    """An article's answer label: its source's id, so a translation teaches the same answer."""
    return str(article.translation_of_id or article.pk)


def published_answers() -> set[str]:
    return {answer_label(a) for a in Article.objects.filter(published=True)}


def answers_from_articles() -> list[tuple[str, str]]:
    """Each published article's title, and each of its passages under its title, labelled
    with the answer it gives."""
    rows: list[tuple[str, str]] = []
    for article in Article.objects.filter(published=True).order_by("pk"):
        label = answer_label(article)
        rows.append((article.title, label))
        rows.extend((f"{article.title}\n{p}", label) for p in split_passages(article.body))
    return rows


def answer_model_refresh() -> ModelVersion | None:
    """Train the answer model again when the published articles are not the answers the active
    one knows (an article was published, retired, or approved from an FAQ suggestion). Runs on
    a clock; returns the new version, or None when nothing changed or there is nothing to learn
    from yet (no labelled answer examples: drafts then match articles by their words)."""
    if not LabelledExample.objects.filter(target="answer").exists():
        return None
    active = ModelVersion.objects.filter(target="answer", is_active=True).first()
    known = set(active.metrics.get("labels", [])) - {OUT_OF_SCOPE_LABEL} if active else None
    if known == published_answers():
        return None
    has_no_answer = LabelledExample.objects.filter(target="answer", label=OUT_OF_SCOPE_LABEL)
    return model_train(
        target="answer", oos_label=OUT_OF_SCOPE_LABEL if has_no_answer.exists() else None
    )


def _slice_per_label(rows: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    counts: Counter[str] = Counter()
    kept = []
    for text, label in shuffled:
        if counts[label] < limit:
            counts[label] += 1
            kept.append((text, label))
    return kept


def shipped_emotion_problem() -> str:
    """Why the shipped emotion model cannot be used here, or "" when it can."""
    import sklearn

    if sklearn.__version__ != SHIPPED_EMOTION_SKLEARN:
        return (
            f"it was built with scikit-learn {SHIPPED_EMOTION_SKLEARN}, "
            f"this is {sklearn.__version__}"
        )
    if not SHIPPED_EMOTION_MODEL.is_file():
        return f"{SHIPPED_EMOTION_MODEL.name} is missing"
    digest = hashlib.sha256(SHIPPED_EMOTION_MODEL.read_bytes()).hexdigest()
    if digest != SHIPPED_EMOTION_SHA256:
        return f"{SHIPPED_EMOTION_MODEL.name} does not match its pinned sha256"
    return ""


def emotion_support_examples() -> list[tuple[str, str, float | None]]:
    """What the emotion model's support reading learns from: the bundled messages written to
    support desks (with intensity) and every emotion agents corrected (intensity unknown)."""
    from triage.engine.emotion import load_support_examples

    corrected = LabelledExample.objects.filter(target="emotion").order_by("pk")
    return load_support_examples() + [
        (text, label, None)
        for text, label in corrected.values_list("text", "label")
        if label in EMOTIONS
    ]


def _shipped_emotion_model():
    import joblib

    from triage.engine.model import TrainedModel

    problem = shipped_emotion_problem()
    if problem:
        raise ValueError(f"the shipped emotion model cannot be used: {problem}")
    model = joblib.load(SHIPPED_EMOTION_MODEL)  # checked against the pinned sha256 above
    if not isinstance(model, TrainedModel) or model.target != "emotion":
        raise ValueError("the shipped emotion model is not an emotion model")
    return model


def _emotion_from_shipped(progress: Callable[[int, int], None] | None = None) -> tuple[str, dict]:
    """The shipped emotion model with a support reading fitted here (on the bundled support
    messages and agents' corrections: seconds, not the minutes of a full training), saved as a
    new, inactive version. Returns (version, metrics)."""
    from triage.engine.local import add_support_reading, support_cache
    from triage.engine.store import save_model

    model = _shipped_emotion_model()
    cache = support_cache(Path(settings.MODELS_DIR), progress)
    if cache is not None:
        add_support_reading(model, emotion_support_examples(), cache)
    version = save_model(model, Path(settings.MODELS_DIR) / "emotion", key=model_signing_key())
    return version, dict(model.metrics)


def emotion_install_shipped(
    progress: Callable[[int, int], None] | None = None,
) -> ModelVersion:
    """Install the shipped emotion model as this installation's active emotion version: saved
    under MODELS_DIR and signed with this installation's key like a model trained here, with
    its support reading fitted here. Call `shipped_emotion_problem()` first; raises ValueError
    if it is not usable."""
    from triage.engine import set_active

    version, metrics = _emotion_from_shipped(progress)
    with transaction.atomic():
        ModelVersion.objects.filter(target="emotion", is_active=True).update(is_active=False)
        set_active(Path(settings.MODELS_DIR) / "emotion", version)
        return ModelVersion.objects.create(
            target="emotion",
            version=version,
            metrics={
                **metrics,
                "labels": sorted(EMOTIONS),
                "promotion": "shipped with this release",
            },
            example_count=int(metrics.get("examples", 0) + metrics.get("support_examples", 0)),
            is_active=True,
        )


def emotion_export_shipped(version: str) -> str:
    """Copy a stored emotion version's model file to the shipped location; returns its sha256
    (to pin in SHIPPED_EMOTION_SHA256)."""
    source = Path(settings.MODELS_DIR) / "emotion" / version / "model.joblib"
    shutil.copyfile(source, SHIPPED_EMOTION_MODEL)
    return hashlib.sha256(SHIPPED_EMOTION_MODEL.read_bytes()).hexdigest()


# The held-out score each target is judged by when deciding whether to promote a new version.
PROMOTION_METRIC = {"category": "accuracy", "emotion": "macro_f1", "answer": "accuracy"}


def should_promote(
    *, target: str, new_metrics: dict, new_labels: set[str], active: ModelVersion | None
) -> tuple[bool, str]:
    """A new version replaces the active one only if it scores at least as well on its held-out
    slice, unless the label set changed (a new taxonomy cannot be compared with the old)."""
    if active is None:
        return True, "no active model"
    if set(active.metrics.get("labels", [])) != new_labels:
        return True, "the set of labels changed"
    metric = PROMOTION_METRIC[target]
    new, old = new_metrics.get(metric, 0.0), active.metrics.get(metric, 0.0)
    if new >= old:
        return True, f"{metric} {new:.4f} ≥ {old:.4f}"
    return False, f"{metric} {new:.4f} < active {old:.4f}"


def model_train(
    *,
    target: str,
    oos_label: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_per_label: int | None = None,
    retrain: bool = False,
) -> ModelVersion | None:
    """Train a new version and store it; promote it if `should_promote` says so. None when
    there is nothing to learn. The returned row's `is_active` and `metrics["promotion"]` tell
    what happened.

    `progress(done, total)` reports the one-time embedding of examples not embedded before
    (stored under MODELS_DIR/embeddings; the shipped emotion rows come with their vectors).

    Emotion is the shipped base model with its support reading refitted on agents' corrections,
    unless `retrain` (or `max_per_label`) asks for the base to be trained here too."""
    from triage.engine import train_and_save

    if target == "emotion" and not (retrain or max_per_label or shipped_emotion_problem()):
        version, metrics = _emotion_from_shipped(progress)
        return _record(target, version, metrics, set(EMOTIONS), int(metrics.get("examples", 0)))

    # Category and answer confidences are calibrated on realistic rows; emotion keeps its
    # held-out slice.
    split = target in ("category", "answer")
    examples = training_examples(
        target, max_per_label=max_per_label, realistic=False if split else None
    )
    calibration = training_examples(target, realistic=True) if split else []
    labels = {label for _, label in examples + calibration}
    if len(labels) < 2:
        return None
    version, metrics = train_and_save(
        target,
        examples,
        settings.MODELS_DIR,
        oos_label=oos_label,
        key=model_signing_key(),
        progress=progress,
        activate=False,
        calibration=calibration,
        support=emotion_support_examples() if target == "emotion" else (),
    )
    return _record(target, version, metrics, labels, len(examples) + len(calibration))


def _record(
    target: str, version: str, metrics: dict, labels: set[str], example_count: int
) -> ModelVersion:
    """Store a newly saved version; make it the active one if `should_promote` says so."""
    from triage.engine import set_active

    with transaction.atomic():
        active = (
            ModelVersion.objects.select_for_update().filter(target=target, is_active=True).first()
        )
        promote, why = should_promote(
            target=target, new_metrics=metrics, new_labels=labels, active=active
        )
        if promote:
            ModelVersion.objects.filter(target=target, is_active=True).update(is_active=False)
            set_active(Path(settings.MODELS_DIR) / target, version)
        return ModelVersion.objects.create(
            target=target,
            version=version,
            metrics={**metrics, "labels": sorted(labels), "promotion": why},
            example_count=example_count,
            is_active=promote,
        )
