"""`imrgold export`: write the gold data set as JSON Lines, CSV or text-plus-spans."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imrgold.cli.common import UserError, db_path

NAME = "export"
HELP = "write the gold data set (jsonl, csv or spans) to a file"
EXAMPLES = """examples:
  imrgold export --format jsonl --out gold.jsonl
  imrgold export --format csv --status reviewed --out reviewed.csv
  imrgold export --format spans --deidentify --out spans.jsonl
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv", "spans"),
        default="jsonl",
        help="jsonl: one docs/gold-record.md record a line; csv: one row per disputed item; "
        "spans: letter text with labelled character spans (spaCy/Prodigy style)",
    )
    parser.add_argument(
        "--out", metavar="FILE", default="-", help="file to write (default: standard output)"
    )
    parser.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="only letters in this status (repeatable; default: every letter with a gold record)",
    )
    parser.add_argument(
        "--annotator",
        metavar="NAME",
        default=None,
        help="export this annotator's version instead of the final one",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="write the rest when the store has lost some gold records (they are named)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="write an empty data set (exit 0) when nothing matches the filters",
    )
    parser.add_argument(
        "--deidentify",
        action="store_true",
        help="remove what identifies a person (HIPAA Safe Harbor as far as letters hold it): "
        "names of the labelled header and every later mention, honorifics' names, street "
        "addresses, cities, ZIP codes, phone and fax numbers, e-mail, URLs, IP addresses, SSN, "
        "MRN, claim, policy and WCAB ADJ numbers (each as [KIND]); case numbers in any spacing "
        "as a stable pseudonym; every date shifted by a per-letter offset (31-365 days); ages "
        "over 89 (digits or words) as 90 and such birth dates removed; letter ids hashed",
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.core.models import LETTER_STATUSES

    for status in args.status or ():
        if status not in LETTER_STATUSES:
            raise UserError(f"unknown status {status!r}; one of {', '.join(LETTER_STATUSES)}")
    path = db_path(args.db)
    if not path.exists():
        raise UserError(f"no store at {path}; run `imrgold ingest` first")

    from imrgold.cli.identity import current
    from imrgold.store.qa import awaiting_adjudication, export_records, open_store

    # The deidentification key is created on first use and kept in the store.
    with open_store(path, read_only=not args.deidentify, annotator=current()) as store:
        missing: list[str] | None = [] if args.allow_missing else None
        entries = export_records(
            store,
            statuses=args.status,
            annotator=args.annotator,
            with_proposals=args.format == "spans",
            missing=missing,
        )
        if not entries and not args.allow_empty:
            raise UserError(
                f"nothing to export: no gold record {_filters(args)} (--allow-empty "
                "writes an empty data set)",
                exit_code=1,
            )
        lines, report = _render(store, entries, args)
        if missing:
            report.insert(
                0,
                f"left out {len(missing)} letter(s) whose gold record is lost: "
                + "; ".join(missing),
            )
        if not args.status and not args.annotator and (waiting := awaiting_adjudication(store)):
            report.insert(
                0,
                f"left out {waiting} letter(s) awaiting adjudication "
                "(`imrgold review --adjudicate`, or --status adjudication)",
            )
    _write(args.out, lines)
    where = "standard output" if args.out == "-" else args.out
    print(f"exported {len(entries)} letter(s) as {args.format} to {where}", file=sys.stderr)
    for line in report:
        print(line, file=sys.stderr)
    return 0


def _render(store, entries, args) -> tuple[list[str], list[str]]:
    from imrgold.core import export

    deid = None
    if args.deidentify:
        from imrgold.core.deidentify import Deidentifier
        from imrgold.store.qa import deidentify_key

        deid = Deidentifier(deidentify_key(store))
    records = [e.record for e in entries]
    if args.format == "spans":
        lines = []
        for entry in entries:
            letter = store.get_letter(entry.letter_id)
            text = letter.text if letter is not None else ""
            obj = export.spans_object(entry.record, text, entry.proposal, {"status": entry.status})
            if deid is not None:
                obj = deid.spans_object(obj, entry.record)
            lines.append(json.dumps(obj, ensure_ascii=False))
    else:
        if deid is not None:
            # With each letter's text: the names its header labels leave the record too.
            records = [deid.record(r, _text_of(store, r.letter_id)) for r in records]
        if args.format == "jsonl":
            lines = list(export.jsonl_lines(records))
        else:
            lines = [export.csv_text(records).rstrip("\n")]
    return lines, deid.summary() if deid is not None else []


def _text_of(store, letter_id: str) -> str | None:
    from imrgold.store import StoreError

    try:
        return store.get_letter(letter_id).text
    except StoreError:
        return None  # a lost letter text: the record's own patterns still apply


def _filters(args: argparse.Namespace) -> str:
    said = [f"with status {' or '.join(args.status)}" if args.status else "",
            f"by annotator {args.annotator!r}" if args.annotator else ""]  # fmt: skip
    return " and ".join(s for s in said if s) or "in the store"


def _write(out: str, lines: list[str]) -> None:
    from imrgold.core.files import UnsafeTarget, atomic_write

    body = "".join(line + "\n" for line in lines)
    if out == "-":
        sys.stdout.write(body)
        return
    target = Path(out).expanduser()
    if target.parent and not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    # A new 0600 file under a random name, renamed over the target: an interrupted export never
    # leaves half a data set, and a link planted in the folder is never written through.
    try:
        atomic_write(target, body.encode("utf-8"))
    except UnsafeTarget as err:
        raise UserError(f"{err}; give a file name, or --out - for standard output") from None
    except OSError as err:
        raise UserError(f"cannot write {target}: {err.strerror or err}") from None
