"""`imrgold extract PATH... --json`: the machine's proposal for each letter, one JSON line each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "extract"
HELP = "print the machine's proposal for each letter as JSON Lines (gold-record shape)"
EXAMPLES = """examples:
  imrgold extract letter.pdf --json
  imrgold extract inbox/ --proposal > proposals.jsonl
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="letter files (.txt, .md, .pdf) or folders"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one gold-record JSON object a line, in argument order (the default output)",
    )
    parser.add_argument(
        "--proposal",
        action="store_true",
        help="print the full proposal (every field with its spans, source and confidence) instead",
    )


def _expand(paths: list[str]) -> list[Path]:
    """Files as given; a folder stands for its letter files in name order."""
    from imrgold.core.reading import SUFFIXES

    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES))
        else:
            out.append(path)
    return out


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from imrgold.core.extract import extract
    from imrgold.core.reading import LetterError, read_letter

    status = 0
    out = sys.stdout
    for path in _expand(args.paths):
        try:
            # Extraction reads whatever text a file holds: a cut-short letter still has fields.
            letter = read_letter(path, check=False)
        except LetterError as err:
            print(f"imrgold extract: error: {err}", file=sys.stderr)
            status = 1
            continue
        proposal = extract(letter.text, letter.letter_id)
        if args.proposal:
            out.write(proposal.model_dump_json() + "\n")
        else:
            try:
                record = proposal.to_record()
            except ValidationError as err:  # a rule's bug must not end the run
                problem = err.errors()[0]["msg"]
                print(
                    f"imrgold extract: error: {path}: invalid proposal ({problem})", file=sys.stderr
                )
                status = 1
                continue
            out.write(record.model_dump_json() + "\n")
        out.flush()
    return status
