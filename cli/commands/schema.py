"""`imrgold schema`: print the gold record's JSON Schema (or its columns, or its `datasets`
features)."""

from __future__ import annotations

import argparse
import json

from imrgold.core.models import gold_json_schema

NAME = "schema"
HELP = "print the gold record's JSON Schema"
EXAMPLES = """examples:
  imrgold schema > gold-record.schema.json
  imrgold schema --columns                       # the Parquet export's columns and types
  imrgold schema --features > gold.features.json # datasets features of the JSONL export
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--indent", type=int, default=2, help="indentation (default 2)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--columns",
        action="store_true",
        help="the columns of the Parquet export, one a line, with their types",
    )
    shown.add_argument(
        "--features",
        action="store_true",
        help="the Hugging Face datasets features the JSONL export loads with "
        "(datasets.Features.from_dict)",
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.core.columnar import column_lines, datasets_features

    if args.columns:
        print("\n".join(column_lines()))
    elif args.features:
        print(json.dumps(datasets_features(), indent=args.indent or None))
    else:
        print(json.dumps(gold_json_schema(), indent=args.indent or None))
    return 0
