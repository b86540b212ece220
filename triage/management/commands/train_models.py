from django.core.management.base import BaseCommand

from triage.models import ModelVersion
from triage.training import TARGETS, model_train


class Command(BaseCommand):
    help = "Train the local triage models from labelled examples and activate them."

    def add_arguments(self, parser):
        parser.add_argument("--target", choices=TARGETS, help="Train only this model.")
        parser.add_argument("--out-of-scope-label", default=None)
        parser.add_argument(
            "--if-missing", action="store_true", help="Skip targets that already have a model."
        )

    def handle(self, *args, target=None, out_of_scope_label=None, if_missing=False, **options):
        for name in [target] if target else TARGETS:
            if if_missing and ModelVersion.objects.filter(target=name, is_active=True).exists():
                self.stdout.write(f"{name}: active model present, skipped")
                continue
            self.stdout.write(f"{name}: training…")
            version = model_train(target=name, oos_label=out_of_scope_label)
            if version is None:
                self.stdout.write(f"{name}: not enough labelled examples (need two labels)")
            else:
                self.stdout.write(
                    f"{name}: version {version.version} active, metrics {version.metrics}"
                )
