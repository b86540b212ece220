"""Train the local triage models from the stored labelled examples and activate them.

The emotion model ships trained (see triage/training.py): it is installed in seconds, with its
support reading (which also learns agents' emotion corrections) fitted here, instead of trained
for minutes; `--retrain` trains its base from the data here too.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample, ModelVersion
from triage.registry import model_signing_key
from triage.training import (
    TARGETS,
    emotion_export_shipped,
    emotion_install_shipped,
    model_train,
    shipped_emotion_problem,
)


class Command(BaseCommand):
    help = "Train the local triage models from labelled examples and print held-out metrics."

    def add_arguments(self, parser):
        parser.add_argument("--target", choices=TARGETS, help="Train only this model.")
        parser.add_argument(
            "--if-missing", action="store_true", help="Skip targets that already have a model."
        )
        parser.add_argument(
            "--retrain",
            action="store_true",
            help="Train the emotion model from the data instead of installing the shipped one.",
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
            help="After training the emotion model, make it the shipped one (release builds).",
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
        for name in [target] if target else TARGETS:
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
            shipped_allowed = name == "emotion" and not (retrain or export_shipped)
            if shipped_allowed and self._install_shipped_emotion():
                continue
            has_oos = LabelledExample.objects.filter(target=name, label=OUT_OF_SCOPE_LABEL).exists()
            self.stdout.write(f"{name}: training…")
            version = model_train(
                target=name,
                oos_label=OUT_OF_SCOPE_LABEL if has_oos else None,
                progress=self._progress(name),
                max_per_label=max_per_label,
                retrain=retrain or export_shipped,
            )
            if version is None:
                self.stdout.write(f"{name}: not enough labelled examples (need two labels)")
                continue
            if name == "emotion" and export_shipped:
                digest = emotion_export_shipped(version.version)
                self.stdout.write(
                    f"emotion: exported as the shipped model; pin SHIPPED_EMOTION_SHA256 = "
                    f'"{digest}" in triage/training.py'
                )
            metrics = ", ".join(
                f"{key} {value:.4f}"
                if isinstance(value, float) and value <= 1
                else f"{key} {value}"
                for key, value in version.metrics.items()
                if key not in ("labels", "promotion")
            )
            state = "promoted to active" if version.is_active else "kept inactive"
            self.stdout.write(
                f"{name}: version {version.version} {state} ({version.metrics['promotion']}); "
                f"{version.example_count} examples; held-out metrics: {metrics}"
            )

    def _install_shipped_emotion(self) -> bool:
        problem = shipped_emotion_problem()
        if problem:
            self.stdout.write(f"emotion: cannot use the shipped model ({problem}); training")
            return False
        version = emotion_install_shipped(self._progress("emotion"))
        support = version.metrics
        self.stdout.write(
            f"emotion: installed the shipped model as version {version.version} "
            f"({version.example_count} examples; held-out macro-F1 "
            f"{support.get('macro_f1', 0):.4f}; support reading: "
            f"{support.get('support_examples', 0):.0f} support-desk messages, out-of-fold "
            f"accuracy {support.get('support_accuracy', 0):.4f}, macro-F1 "
            f"{support.get('support_macro_f1', 0):.4f}, intensity error "
            f"{support.get('intensity_mae', 0):.3f})"
        )
        return True


def _load_problem(target: str, version: str) -> str:
    """Why the stored version cannot be used, or "" when it loads."""
    from triage.engine.store import ModelIntegrityError, load_model

    try:
        load_model(Path(settings.MODELS_DIR) / target / version, key=model_signing_key())
    except (ModelIntegrityError, OSError) as exc:
        return f"does not load ({exc}); training a new one"
    return ""
