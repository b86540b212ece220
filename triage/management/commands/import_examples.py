"""Import labelled examples (CSV with a header row, or JSONL) for training the local models."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from triage.models import LabelledExample
from triage.services import examples_import


def read_records(path: Path) -> list[dict]:
    """Rows of a CSV (header row) or JSONL file as dicts. Raises CommandError on bad input."""
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
                records = []
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise CommandError(
                            f"{path.name} line {number}: invalid JSON ({exc})"
                        ) from None
                    if not isinstance(record, dict):
                        raise CommandError(f"{path.name} line {number}: expected a JSON object")
                    records.append(record)
                return records
            return list(csv.DictReader(handle))
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path.name} is not UTF-8 text ({exc})") from None


class Command(BaseCommand):
    help = "Import labelled examples for training. Importing the same file twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--target", choices=LabelledExample.Target.values, default="category")
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="category")
        parser.add_argument(
            "--out-of-scope-label",
            default=None,
            help="Label of examples that belong to no category (e.g. oos).",
        )
        parser.add_argument(
            "--realistic",
            action="store_true",
            help="The rows are real (or realistic) customer messages, not templates: training "
            "calibrates confidences and the out-of-scope cut on them.",
        )

    def handle(
        self, *args, file, target, text_column, label_column, out_of_scope_label, realistic, **opts
    ):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        records = read_records(path)
        if not records:
            raise CommandError(f"{path.name} has no rows.")
        missing = [c for c in (text_column, label_column) if c not in records[0]]
        if missing:
            raise CommandError(f"Missing column(s) {missing}; the file has {list(records[0])}.")
        result = examples_import(
            target=target,
            rows=((str(r.get(text_column) or ""), str(r.get(label_column) or "")) for r in records),
            oos_label=out_of_scope_label,
            source=LabelledExample.Source.REALISTIC if realistic else LabelledExample.Source.IMPORT,
        )
        self.stdout.write(
            f"Imported {path.name}: {result.created} new and {result.updated} updated {target} "
            f"examples, {result.labels} labels"
            + (f", {result.categories_created} new categories" if result.categories_created else "")
            + "."
        )
