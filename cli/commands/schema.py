"""`imrgold schema`: print the gold record's JSON Schema."""

from __future__ import annotations

import argparse
import json

from imrgold.core.models import gold_json_schema

NAME = "schema"
HELP = "print the gold record's JSON Schema"
EXAMPLES = """examples:
  imrgold schema > gold-record.schema.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--indent", type=int, default=2, help="indentation (default 2)")


def run(args: argparse.Namespace) -> int:
    print(json.dumps(gold_json_schema(), indent=args.indent or None))
    return 0
