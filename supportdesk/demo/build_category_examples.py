"""Build the category model's demo training data from the Bitext sample.

Reads the Bitext customer-support dataset sample
(bitext/customer-support-llm-chatbot-training-dataset, 2023 sample,
licensed CDLA-Sharing-1.0 -- see NOTICE.md at the repository root) and
writes a two-column CSV, ``text,category``:

* ``text``     -- the customer utterance (the source ``instruction`` column),
                  with runs of whitespace collapsed to single spaces;
* ``category`` -- the source ``category`` column as a lower-case slug
                  (``SHIPPING_ADDRESS`` -> ``shipping_address``), matching the
                  slugs in ``supportdesk/demo/categories.json``.

Rows are de-duplicated on the normalised text (case-insensitive).  If the
same text appears under more than one category it is dropped entirely,
because it would be a contradictory training example.  Output rows keep
the order of first appearance in the source file.

Usage::

    python supportdesk/demo/build_category_examples.py SOURCE_CSV [OUTPUT_CSV]

``SOURCE_CSV`` is the path to
``Bitext_Sample_Customer_Support_Training_Dataset.csv`` (columns include
``instruction`` and ``category``).  ``OUTPUT_CSV`` defaults to
``category_examples.csv`` next to this script.  Per-category counts are
printed to stderr.
"""

import argparse
import csv
import sys
from collections import Counter, OrderedDict
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "category_examples.csv"


def normalise(text):
    return " ".join(text.split())


def build(source, output):
    examples = OrderedDict()  # key -> [text, category]
    conflicts = set()
    skipped_empty = 0
    with open(source, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"instruction", "category"} - set(reader.fieldnames or ())
        if missing:
            raise SystemExit(f"{source}: missing column(s): {', '.join(sorted(missing))}")
        for row in reader:
            text = normalise(row["instruction"] or "")
            category = (row["category"] or "").strip().lower()
            if not text or not category:
                skipped_empty += 1
                continue
            key = text.casefold()
            if key in examples:
                if examples[key][1] != category:
                    conflicts.add(key)
                continue
            examples[key] = [text, category]

    for key in conflicts:
        del examples[key]

    with open(output, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["text", "category"])
        writer.writerows(examples.values())

    counts = Counter(category for _, category in examples.values())
    print(f"wrote {len(examples)} examples to {output}", file=sys.stderr)
    if skipped_empty or conflicts:
        print(
            f"skipped {skipped_empty} empty rows, dropped {len(conflicts)} "
            f"texts with conflicting categories",
            file=sys.stderr,
        )
    for category, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {category:<18} {n}", file=sys.stderr)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="path to the Bitext sample CSV")
    parser.add_argument(
        "output", nargs="?", default=str(DEFAULT_OUTPUT), help="output CSV (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    build(args.source, args.output)


if __name__ == "__main__":
    main()
