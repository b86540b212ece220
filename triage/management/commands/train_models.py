"""Train the local triage models from the stored labelled examples and activate them."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from triage.models import OUT_OF_SCOPE_LABEL, LabelledExample, ModelVersion
from triage.registry import model_signing_key
from triage.training import TARGETS, model_train


class Command(BaseCommand):
    help = "Train the local triage models from labelled examples and print held-out metrics."

    def add_arguments(self, parser):
        parser.add_argument("--target", choices=TARGETS, help="Train only this model.")
        parser.add_argument(
            "--if-missing", action="store_true", help="Skip targets that already have a model."
        )

    def _progress(self, name: str):
        def report(done: int, total: int) -> None:
            self.stdout.write(f"\r{name}: embedding new examples {done}/{total}", ending="")
            if done >= total:
                self.stdout.write("")
            self.stdout.flush()

        return report

    def handle(self, *args, target=None, if_missing=False, **options):
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
            has_oos = LabelledExample.objects.filter(target=name, label=OUT_OF_SCOPE_LABEL).exists()
            self.stdout.write(f"{name}: training…")
            version = model_train(
                target=name,
                oos_label=OUT_OF_SCOPE_LABEL if has_oos else None,
                progress=self._progress(name),
            )
            if version is None:
                self.stdout.write(f"{name}: not enough labelled examples (need two labels)")
                continue
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


def _load_problem(target: str, version: str) -> str:
    """Why the stored version cannot be used, or "" when it loads."""
    from triage.engine.store import ModelIntegrityError, load_model

    try:
        load_model(Path(settings.MODELS_DIR) / target / version, key=model_signing_key())
    except (ModelIntegrityError, OSError) as exc:
        return f"does not load ({exc}); training a new one"
    return ""
