"""Train the local triage models from the stored labelled examples and activate them.

Every model ships trained (see triage/training.py) and is installed in seconds when it fits:
emotion always (its support reading, which also learns agents' emotion corrections, is fitted
here), category and answer when this installation's examples are exactly the ones the shipped
model learnt from (the demo's, on a fresh installation). Otherwise the model is trained here;
`--retrain` trains every model here.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample, ModelVersion
from triage.registry import model_signing_key
from triage.training import (
    SHIPPED_BY_DIGEST,
    SHIPPED_PINS,
    TARGETS,
    emotion_install_shipped,
    model_export_shipped,
    model_install_shipped,
    model_train,
    shipped_model_file,
    shipped_model_problem,
    training_digest,
)


class Command(BaseCommand):
    help = "Install the shipped models where they fit, else train them; activate them."

    def add_arguments(self, parser):
        parser.add_argument("--target", choices=TARGETS, help="Train only this model.")
        parser.add_argument(
            "--if-missing", action="store_true", help="Skip targets that already have a model."
        )
        parser.add_argument(
            "--retrain",
            action="store_true",
            help="Train every model from the data here instead of installing a shipped one.",
        )
        parser.add_argument(
            "--max-per-label",
            type=int,
            default=None,
            help="Train on at most N examples per label (a quick model for trials and tests).",
        )
        parser.add_argument(
            "--export-shipped",
            action="store_true",
            help="Train the models here and make them the shipped ones, pinned (release builds: "
            "on a fresh installation after load_demo).",
        )

    def _progress(self, name: str):
        def report(done: int, total: int) -> None:
            self.stdout.write(f"\r{name}: embedding new examples {done}/{total}", ending="")
            if done >= total:
                self.stdout.write("")
            self.stdout.flush()

        return report

    def handle(
        self,
        *args,
        target=None,
        if_missing=False,
        retrain=False,
        max_per_label=None,
        export_shipped=False,
        **options,
    ):
        if export_shipped and max_per_label:
            raise CommandError("--export-shipped trains on every example: drop --max-per-label.")
        for name in [target] if target else TARGETS:
            started = time.monotonic()
            if if_missing:
                active = ModelVersion.objects.filter(target=name, is_active=True).first()
                problem = active and _load_problem(name, active.version)
                if active and not problem:
                    self.stdout.write(f"{name}: active model present, skipped")
                    continue
                if active:
                    # E.g. SECRET_KEY changed (the files are signed with a key derived from it)
                    # or MODELS_DIR was lost: retire the version so the new one replaces it.
                    self.stdout.write(f"{name}: active model {active.version} {problem}")
                    ModelVersion.objects.filter(pk=active.pk).update(is_active=False)
            if name == "answer" and not LabelledExample.objects.filter(target=name).exists():
                self.stdout.write(
                    "answer: no labelled answer examples yet, skipped (drafts match articles by "
                    "their words until there are)"
                )
                continue
            has_oos = LabelledExample.objects.filter(target=name, label=OUT_OF_SCOPE_LABEL).exists()
            oos_label = OUT_OF_SCOPE_LABEL if has_oos else None
            if not (retrain or export_shipped):
                if name == "emotion" and self._install_shipped_emotion(started):
                    continue
                if not max_per_label and self._install_shipped(name, oos_label, started):
                    continue
            # Taken before training: the examples the exported model learnt from.
            digest = (
                training_digest(name, oos_label=oos_label)
                if export_shipped and name in SHIPPED_BY_DIGEST
                else ""
            )
            self.stdout.write(f"{name}: training…")
            version = model_train(
                target=name,
                oos_label=oos_label,
                progress=self._progress(name),
                max_per_label=max_per_label,
                retrain=retrain or export_shipped,
            )
            if version is None:
                self.stdout.write(f"{name}: not enough labelled examples (need two labels)")
                continue
            state = "promoted to active" if version.is_active else "kept inactive"
            self.stdout.write(
                f"{name}: trained in {time.monotonic() - started:.0f} s: version "
                f"{version.version} {state} ({version.metrics['promotion']}); "
                f"{version.example_count} examples; held-out metrics: {_metrics(version)}"
            )
            if export_shipped:
                sha256 = model_export_shipped(version, digest=digest)
                self.stdout.write(
                    f"{name}: exported as the shipped model {shipped_model_file(name).name} "
                    f"(sha256 {sha256}), pinned in {SHIPPED_PINS.name}"
                )

    def _install_shipped(self, name: str, oos_label: str | None, started: float) -> bool:
        """Install the shipped category or answer model when it learnt from exactly this
        installation's examples."""
        if name not in SHIPPED_BY_DIGEST:
            return False
        problem = shipped_model_problem(name, digest=training_digest(name, oos_label=oos_label))
        if problem:
            self.stdout.write(f"{name}: the shipped model does not fit ({problem})")
            return False
        version = model_install_shipped(target=name, oos_label=oos_label)
        state = "promoted to active" if version.is_active else "kept inactive"
        self.stdout.write(
            f"{name}: installed the shipped model in {time.monotonic() - started:.0f} s, trained "
            f"by this release on exactly these {version.example_count} examples: version "
            f"{version.version} {state} ({version.metrics['promotion']}); held-out metrics: "
            f"{_metrics(version)}"
        )
        return True

    def _install_shipped_emotion(self, started: float) -> bool:
        problem = shipped_model_problem("emotion")
        if problem:
            self.stdout.write(f"emotion: cannot use the shipped model ({problem})")
            return False
        self.stdout.write("emotion: installing the shipped model and fitting its support reading…")
        version = emotion_install_shipped(self._progress("emotion"))
        support = version.metrics
        self.stdout.write(
            f"emotion: installed the shipped model in {time.monotonic() - started:.0f} s as "
            f"version {version.version} ({version.example_count} examples; held-out macro-F1 "
            f"{support.get('macro_f1', 0):.4f}; support reading: "
            f"{support.get('support_examples', 0):.0f} support-desk messages, out-of-fold "
            f"accuracy {support.get('support_accuracy', 0):.4f}, macro-F1 "
            f"{support.get('support_macro_f1', 0):.4f}, intensity error "
            f"{support.get('intensity_mae', 0):.3f})"
        )
        return True


def _metrics(version: ModelVersion) -> str:
    return ", ".join(
        f"{key} {value:.4f}" if isinstance(value, float) and value <= 1 else f"{key} {value}"
        for key, value in version.metrics.items()
        if key not in ("labels", "promotion", "shipped", "judged", "holds_back_corrections")
    )


def _load_problem(target: str, version: str) -> str:
    """Why the stored version cannot be used, or "" when it loads."""
    from triage.engine.store import ModelIntegrityError, load_model

    try:
        load_model(Path(settings.MODELS_DIR) / target / version, key=model_signing_key())
    except (ModelIntegrityError, OSError) as exc:
        return f"does not load ({exc}); training a new one"
    return ""
