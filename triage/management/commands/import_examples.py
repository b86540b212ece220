import csv
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from triage.models import LabelledExample


class Command(BaseCommand):
    help = "Import labelled examples from a CSV (or .jsonl) file for training."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--target", choices=["category", "emotion"], default="category")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="category")
        parser.add_argument("--out-of-scope-label", default=None)
        parser.add_argument("--replace", action="store_true", help="Drop earlier imports first.")

    def handle(
        self, *args, file, target, text_column, label_column, out_of_scope_label, replace, **opts
    ):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"No such file: {file}")
        csv.field_size_limit(sys.maxsize)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if path.suffix == ".jsonl":
                import json

                records = [json.loads(line) for line in handle if line.strip()]
            else:
                records = list(csv.DictReader(handle))
        if records and (text_column not in records[0] or label_column not in records[0]):
            raise CommandError(
                f"Columns {text_column!r} and {label_column!r} are required; "
                f"found {list(records[0])}"
            )
        rows = [
            LabelledExample(
                target=target, text=str(r[text_column]).strip(), label=str(r[label_column]).strip()
            )
            for r in records
            if str(r.get(text_column) or "").strip() and str(r.get(label_column) or "").strip()
        ]
        with transaction.atomic():
            if replace:
                LabelledExample.objects.filter(
                    target=target, source=LabelledExample.Source.IMPORT
                ).delete()
            LabelledExample.objects.bulk_create(rows, batch_size=1000)
        labels = len({r.label for r in rows})
        self.stdout.write(
            f"Imported {len(rows)} {target} examples with {labels} labels from {path.name}."
        )
