"""Train the local models from labelled examples and keep their versions.

Category and answer examples live in the database (imported files, the knowledge base and
agents' corrections). Emotion learns from the bundled GoEmotions-derived file, plus agents'
emotion corrections.

Every model also ships trained with the release, so that an installation does not spend
minutes of CPU training it: `train_models` installs a shipped model (saved and signed like one
trained here) when it can, and trains otherwise. Each shipped file is a pickle, loaded only when
its sha256 is exactly the one pinned in SHIPPED_PINS and only with the scikit-learn release it
was built with. A shipped category or answer model stands in for training only when it learnt
from exactly the examples training here would use, by the same training code (its pinned
`training_digest`): the demo company's models on a fresh demo installation, never a model for
other examples. `manage.py train_models --export-shipped` rebuilds them and their pins.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
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
# target -> {"sha256", "scikit_learn", and for category and answer "training_digest"} of the
# shipped model file DATA / f"{target}_model.joblib".
SHIPPED_PINS = DATA / "shipped_models.json"
SHIPPED_BY_DIGEST = ("category", "answer")


# Rows that read like real traffic: what confidences are calibrated on (triage/engine/category).
REALISTIC_SOURCES = (LabelledExample.Source.REALISTIC, LabelledExample.Source.CORRECTION)

# Agents' corrections held back from training: a new version is judged on them (`should_promote`).
# Which ones is decided by the text's hash (`example_text_hash`, hex): those below this prefix,
# 51 of 256 first bytes, about 20 %. The same text is held back on every run and every
# installation, and a correction once held back is never trained on, by any version.
HOLD_BACK_BELOW = "33"
# A version is judged on at most this many held-back corrections, the most recent first: what
# agents correct now says more about today's traffic than what they corrected a year ago, and
# scoring stays a few seconds however many corrections pile up.
HELD_BACK_LIMIT = 500
# How much a new version may score below the active one on its held-out slice and still be
# promoted (absolute, on a 0-1 score). That slice is mostly templated rows on which every
# version scores near 1: 0.9978 against 0.9989 is noise, not a worse model, and it used to keep
# out a version that fixed what agents corrected.
HELDOUT_TOLERANCE = 0.005
# In a version's metrics: it trained without the held-back corrections, so its score on them is
# a fair one. A version trained before corrections were held back has seen them.
HOLDS_BACK = "holds_back_corrections"


def _not_held_back(examples):
    return examples.exclude(source=LabelledExample.Source.CORRECTION, text_hash__lt=HOLD_BACK_BELOW)


def held_back_corrections(target: str) -> list[tuple[str, str]]:
    """The most recent agents' corrections of `target` that no version trains on (at most
    HELD_BACK_LIMIT): the slice new versions are judged on."""
    rows = (
        LabelledExample.objects.filter(
            target=target,
            source=LabelledExample.Source.CORRECTION,
            text_hash__lt=HOLD_BACK_BELOW,
        )
        .order_by("-created_at", "-pk")
        .values_list("text", "label")[:HELD_BACK_LIMIT]
    )
    if target == "emotion":
        return [(text, label) for text, label in rows if label in EMOTIONS]
    return list(rows)


def training_examples(
    target: str, *, max_per_label: int | None = None, realistic: bool | None = None
) -> list[tuple[str, str]]:
    """Every labelled example of `target`: the bundled file (emotion) and the database's, less
    the agents' corrections held back to judge new versions on (`held_back_corrections`).

    `realistic` True keeps only realistic messages and agents' corrections, False only the
    others (None: all). `max_per_label` keeps a fixed-seed random slice of each label (a quick
    model for tests and trials; the product trains on everything)."""
    stored = _not_held_back(LabelledExample.objects.filter(target=target)).order_by("pk")
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


def shipped_model_file(target: str) -> Path:
    return DATA / f"{target}_model.joblib"


def shipped_pins() -> dict[str, dict[str, str]]:
    try:
        return json.loads(SHIPPED_PINS.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def shipped_model_problem(target: str, *, digest: str = "") -> str:
    """Why the shipped `target` model cannot be used here, or "" when it can. For category and
    answer, `digest` is the training digest of this installation's examples
    (`training_digest`)."""
    import sklearn

    pin = shipped_pins().get(target)
    if pin is None:
        return "none ships with this release"
    if target in SHIPPED_BY_DIGEST and digest != pin["training_digest"]:
        return "it learnt from other examples than this installation's, or by other code"
    if sklearn.__version__ != pin["scikit_learn"]:
        built = pin["scikit_learn"]
        return f"it was built with scikit-learn {built}, this is {sklearn.__version__}"
    path = shipped_model_file(target)
    if not path.is_file():
        return f"{path.name} is missing"
    if hashlib.sha256(path.read_bytes()).hexdigest() != pin["sha256"]:
        return f"{path.name} does not match its pinned sha256"
    return ""


def _shipped_model(target: str, *, digest: str = ""):
    """The shipped model, unpickled from the very bytes checked against its pin."""
    import joblib

    from triage.engine.model import TrainedModel

    problem = shipped_model_problem(target, digest=digest)
    if problem:
        raise ValueError(f"the shipped {target} model cannot be used: {problem}")
    data = shipped_model_file(target).read_bytes()
    if hashlib.sha256(data).hexdigest() != shipped_pins()[target]["sha256"]:
        raise ValueError(f"the shipped {target} model changed while it was being loaded")
    model = joblib.load(io.BytesIO(data))
    if not isinstance(model, TrainedModel) or model.target != target:
        raise ValueError(f"the shipped {target} model is not a {target} model")
    return model


def training_digest(target: str, *, oos_label: str | None) -> str:
    """The digest of what a category or answer model trained here now would learn from
    (`triage.engine.local.training_digest`)."""
    return _digest(target, *_training_rows(target), oos_label=oos_label)


def _digest(
    target: str,
    examples: list[tuple[str, str]],
    calibration: list[tuple[str, str]],
    *,
    oos_label: str | None,
) -> str:
    from triage.engine.embed import default_embedder
    from triage.engine.local import training_digest as digest_of

    embedder = default_embedder()
    return digest_of(
        target,
        examples,
        oos_label=oos_label,
        calibration=calibration,
        embedder=embedder.name if embedder else None,
    )


def model_install_shipped(*, target: str, oos_label: str | None) -> ModelVersion:
    """Install the shipped category or answer model, trained by this release on exactly this
    installation's examples, as a new version (saved and signed like a model trained here,
    promoted as `model_train` would promote it). Raises ValueError when it does not fit; check
    `shipped_model_problem(target, digest=training_digest(...))` first."""
    from triage.engine.store import save_model

    if target not in SHIPPED_BY_DIGEST:
        raise ValueError(f"{target} models are not installed by digest")
    examples, calibration = _training_rows(target)
    model = _shipped_model(
        target, digest=_digest(target, examples, calibration, oos_label=oos_label)
    )
    version = save_model(model, Path(settings.MODELS_DIR) / target, key=model_signing_key())
    labels = {label for _, label in examples + calibration}
    metrics = {**model.metrics, "shipped": 1.0}
    return _record(target, version, metrics, labels, len(examples) + len(calibration))


def model_export_shipped(version: ModelVersion, *, digest: str = "") -> str:
    """Make a stored version the shipped model of its target and pin it (with `digest`, the
    training digest it learnt from, for category and answer); returns the file's sha256."""
    import sklearn

    if version.target in SHIPPED_BY_DIGEST and not digest:
        raise ValueError(f"a shipped {version.target} model needs its training digest")
    source = Path(settings.MODELS_DIR) / version.target / version.version / "model.joblib"
    shutil.copyfile(source, shipped_model_file(version.target))
    sha256 = hashlib.sha256(shipped_model_file(version.target).read_bytes()).hexdigest()
    pin = {"sha256": sha256, "scikit_learn": sklearn.__version__}
    if digest:
        pin["training_digest"] = digest
    pins = shipped_pins() | {version.target: pin}
    SHIPPED_PINS.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return sha256


def emotion_support_examples() -> list[tuple[str, str, float | None]]:
    """What the emotion model's support reading learns from: the bundled messages written to
    support desks (with intensity) and the emotions agents corrected (intensity unknown), but
    for the corrections held back to judge new versions on."""
    from triage.engine.emotion import load_support_examples

    corrected = _not_held_back(LabelledExample.objects.filter(target="emotion")).order_by("pk")
    return load_support_examples() + [
        (text, label, None)
        for text, label in corrected.values_list("text", "label")
        if label in EMOTIONS
    ]


def _emotion_from_shipped(progress: Callable[[int, int], None] | None = None) -> tuple[str, dict]:
    """The shipped emotion model with a support reading fitted here (on the bundled support
    messages and agents' corrections: seconds, not the minutes of a full training), saved as a
    new, inactive version. Returns (version, metrics)."""
    from triage.engine.local import add_support_reading, support_cache
    from triage.engine.store import save_model

    model = _shipped_model("emotion")
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
    its support reading fitted here. Call `shipped_model_problem("emotion")` first; raises
    ValueError if it is not usable."""
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
                HOLDS_BACK: True,
            },
            example_count=int(metrics.get("examples", 0) + metrics.get("support_examples", 0)),
            is_active=True,
        )


# The held-out score each target is judged by when no reference slice can be read by both
# versions (the answer model; emotion, whose base is the same shipped model in both).
PROMOTION_METRIC = {"category": "accuracy", "emotion": "macro_f1", "answer": "accuracy"}
# The category examples (not corrections) both versions are scored on, to show that the new one
# has not forgotten what it was taught: a fixed slice, the same rows for both (each version's own
# held-out figure comes from a different split, and from realistic rows once there are enough:
# comparing those compared different questions).
REFERENCE_LIMIT = 500


@dataclass(frozen=True)
class Comparison:
    """How the new and the active version read the same `examples` rows: the share each reads
    as labelled."""

    examples: int
    new: float
    active: float


def should_promote(
    *,
    target: str,
    new_metrics: dict,
    new_labels: set[str],
    active: ModelVersion | None,
    corrections: Comparison | None = None,
    reference: Comparison | None = None,
) -> tuple[bool, str]:
    """Whether a new version replaces the active one, and why (readable by an admin).

    It must read agents' held-back corrections at least as well as the active version, and may
    score at most HELDOUT_TOLERANCE below it on the reference slice both are scored on
    (`reference`; without one, on their own held-out figures). Without held-back corrections to
    compare on (none yet, or the active version trained on them) the second test decides alone.
    A changed label set is promoted outright: a new taxonomy cannot be compared with the old."""
    if active is None:
        return True, "no active model"
    if set(active.metrics.get("labels", [])) != new_labels:
        return True, "the set of labels changed"
    if reference is not None and reference.examples:
        new, old = reference.new, reference.active
        kept = (
            f"{reference.examples} examples it was taught read right {new:.4f} vs active {old:.4f}"
        )
    else:
        metric = PROMOTION_METRIC[target]
        new, old = new_metrics.get(metric, 0.0), active.metrics.get(metric, 0.0)
        kept = f"held-out {metric} {new:.4f} vs active {old:.4f}"
    kept_ok = new >= old - HELDOUT_TOLERANCE
    kept += (
        f" (within {HELDOUT_TOLERANCE})" if kept_ok else f", more than {HELDOUT_TOLERANCE} lower"
    )
    if corrections is None or not corrections.examples:
        return kept_ok, f"no held-back corrections to compare on; {kept}"
    fixed = (
        f"{corrections.examples} held-back corrections read right {corrections.new:.4f}"
        f" vs active {corrections.active:.4f}"
    )
    if corrections.new < corrections.active:
        return False, f"worse on agents' corrections: {fixed}; {kept}"
    return kept_ok, f"{fixed}; {kept}"


def reference_examples(target: str) -> list[tuple[str, str]]:
    """The fixed slice of `target`'s stored examples, corrections aside, that a new and the
    active version are both scored on: those in the hold-back share of hashes, by hash, at
    most REFERENCE_LIMIT (read along the (target, text_hash) unique index)."""
    rows = (
        LabelledExample.objects.filter(target=target, text_hash__lt=HOLD_BACK_BELOW)
        .exclude(source=LabelledExample.Source.CORRECTION)
        .order_by("text_hash")
        .values_list("text", "label")[:REFERENCE_LIMIT]
    )
    return list(rows)


def _compare(
    target: str, version: str, active: ModelVersion | None
) -> tuple[Comparison | None, Comparison | None]:
    """Score the new `version` and the active one on the held-back corrections of `target`, and
    (category) on the reference slice: (corrections, reference). None where there is nothing
    to score, and for corrections when the active version's score on them would not be fair (it
    is older than the hold-back, and trained on them). An active version that no longer loads
    scores 0: the engine cannot use it either."""
    from triage.engine import ModelIntegrityError
    from triage.engine.local import (
        load_active_model,
        read_as_labelled,
        read_vectors_from,
        support_cache,
    )

    if target not in ("category", "emotion") or active is None:
        return None, None
    models_dir, key = Path(settings.MODELS_DIR), model_signing_key()
    languages = tuple(settings.SUPPORTED_LANGUAGES)
    # Both versions read the same rows: each text is embedded once, most of them long before
    # (when they were trained on).
    cache = support_cache(models_dir)
    try:
        old_model = load_active_model(models_dir, target, version=active.version, key=key)
    except (ModelIntegrityError, OSError):
        old_model = None
    new_model = load_active_model(models_dir, target, version=version, key=key)
    for model in (old_model, new_model):
        if model is not None:
            read_vectors_from(model, cache)

    def compare(examples: list[tuple[str, str]]) -> Comparison | None:
        if not examples:
            return None
        read = {
            name: read_as_labelled(
                model, target, examples, languages=languages, out_of_scope_label=OUT_OF_SCOPE_LABEL
            )
            if model is not None
            else 0.0
            for name, model in (("new", new_model), ("active", old_model))
        }
        return Comparison(examples=len(examples), new=read["new"], active=read["active"])

    fair = bool(active.metrics.get(HOLDS_BACK))
    corrections = compare(held_back_corrections(target)) if fair else None
    reference = compare(reference_examples(target)) if target == "category" else None
    return corrections, reference


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

    if target == "emotion" and not (retrain or max_per_label or shipped_model_problem(target)):
        version, metrics = _emotion_from_shipped(progress)
        return _record(target, version, metrics, set(EMOTIONS), int(metrics.get("examples", 0)))

    examples, calibration = _training_rows(target, max_per_label=max_per_label)
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


def _training_rows(
    target: str, *, max_per_label: int | None = None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(examples, calibration rows) a model of `target` trains on. Category and answer
    confidences are calibrated on realistic rows; emotion keeps its held-out slice."""
    if target == "emotion":
        return training_examples(target, max_per_label=max_per_label), []
    examples = training_examples(target, max_per_label=max_per_label, realistic=False)
    return examples, training_examples(target, realistic=True)


def _record(
    target: str, version: str, metrics: dict, labels: set[str], example_count: int
) -> ModelVersion:
    """Store a newly saved version; make it the active one if `should_promote` says so. The
    figures it was judged by go in its metrics under "judged" (`_judgement`), the reason under
    "promotion"."""
    from triage.engine import set_active

    with transaction.atomic():
        active = (
            ModelVersion.objects.select_for_update().filter(target=target, is_active=True).first()
        )
        corrections, reference = (None, None)
        if active is not None and set(active.metrics.get("labels", [])) == labels:
            corrections, reference = _compare(target, version, active)
        promote, why = should_promote(
            target=target,
            new_metrics=metrics,
            new_labels=labels,
            active=active,
            corrections=corrections,
            reference=reference,
        )
        if promote:
            ModelVersion.objects.filter(target=target, is_active=True).update(is_active=False)
            set_active(Path(settings.MODELS_DIR) / target, version)
        return ModelVersion.objects.create(
            target=target,
            version=version,
            metrics={
                **metrics,
                "labels": sorted(labels),
                "promotion": why,
                "judged": _judgement(target, metrics, active, corrections, reference, promote),
                HOLDS_BACK: True,
            },
            example_count=example_count,
            is_active=promote,
        )


def _judgement(
    target: str,
    metrics: dict,
    active: ModelVersion | None,
    corrections: Comparison | None,
    reference: Comparison | None,
    promoted: bool,
) -> dict:
    """The figures a version was judged by, for admins and the learning-curve bench."""
    metric = PROMOTION_METRIC[target]
    return {
        "promoted": promoted,
        "against": active.version if active else None,
        "tolerance": HELDOUT_TOLERANCE,
        "corrections": corrections.examples if corrections else 0,
        "corrections_score": corrections.new if corrections else None,
        "corrections_score_active": corrections.active if corrections else None,
        "reference": reference.examples if reference else 0,
        "reference_score": reference.new if reference else None,
        "reference_score_active": reference.active if reference else None,
        "heldout_metric": metric,
        "heldout": metrics.get(metric, 0.0),
        "heldout_active": active.metrics.get(metric, 0.0) if active else None,
    }


def default_oos_label(target: str) -> str | None:
    """The out-of-scope label a category or answer model learns, when examples carry it."""
    if target == "emotion":
        return None
    has_oos = LabelledExample.objects.filter(target=target, label=OUT_OF_SCOPE_LABEL)
    return OUT_OF_SCOPE_LABEL if has_oos.exists() else None
