"""`imrgold diagnoses`: link a diagnosis as a letter writes it to ICD-10-CM."""

from __future__ import annotations

import argparse
import json

from imrgold.cli.common import UserError

NAME = "diagnoses"
HELP = "suggest ICD-10-CM codes for a diagnosis as a letter writes it"

EXAMPLES = """examples:
  imrgold diagnoses suggest "lumbar strain"
  imrgold diagnoses suggest "right CTS" --limit 3 --json
  imrgold diagnoses suggest "L4-L5 disc protrusion" --letter letter.pdf
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="diagnoses_command", metavar="ACTION")
    sub.required = True
    suggest = sub.add_parser(
        "suggest",
        help="ranked billable ICD-10-CM codes with their official descriptions",
        description="Ranked billable ICD-10-CM codes for a diagnosis as a letter writes it "
        "(abbreviations, spinal levels and sides understood; injuries default to the initial "
        "encounter).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    suggest.add_argument("query", help='the diagnosis as written, e.g. "left shoulder impingement"')
    suggest.add_argument(
        "--letter",
        metavar="FILE",
        help="the letter it comes from: a side the query leaves out is taken from the letter "
        "when it writes only one side before that body part",
    )
    suggest.add_argument("--limit", type=int, default=10, help="how many candidates (default 10)")
    suggest.add_argument(
        "--json", action="store_true", help="one JSON object a line: code, description, score"
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.core import icd10

    if args.limit < 1:
        raise UserError("--limit must be 1 or more")
    query = " ".join(args.query.split())
    if not query:
        raise UserError("give a diagnosis to look up")
    context = _letter_text(args.letter) if args.letter else None
    for candidate in icd10.suggest(query, limit=args.limit, context=context):
        if args.json:
            print(json.dumps({"code": candidate.code, "description": candidate.description,
                              "score": candidate.score}))  # fmt: skip
        else:
            print(f"{candidate.code:<9} {candidate.score:5.1f}  {candidate.description}")
    return 0


def _letter_text(path: str) -> str:
    from imrgold.core.reading import LetterError, read_letter

    try:
        return read_letter(path, check=False).text
    except LetterError as err:
        raise UserError(str(err)) from None
