"""`imrgold agreement`: how far annotators agree with each other and the machine with gold."""

from __future__ import annotations

import argparse
import json

from imrgold.cli.common import UserError, db_path

NAME = "agreement"
HELP = (
    "per-field agreement between annotators (kappa, alpha, Gwet's AC1, exact, F1) and machine "
    "vs gold"
)
EXAMPLES = """examples:
  imrgold agreement
  imrgold agreement --json > agreement.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--machine",
        choices=("current", "stored", "none"),
        default="current",
        help="machine side of machine-vs-gold: the extractor run now (current), the proposal "
        "stored at ingest (stored), or leave it out (none)",
    )
    parser.add_argument(
        "--all-fields",
        action="store_true",
        help="show every field in the tables, not only those with values to compare",
    )


def gather(store, machine: str):
    """(versions by letter, machine flat by letter, gold flat by letter) from a store."""
    from imrgold.core.agreement import flat_of
    from imrgold.core.models import flat_values

    letters, machines, gold = {}, {}, {}
    for summary in store.summaries():
        lid = summary.letter_id
        record, versions = store.gold_and_versions(lid)
        if not versions:
            continue
        flats = {a: flat_of(r) for a, r in versions.items()}
        letters[lid] = flats
        if summary.status == "adjudication" and not store.final_annotator(lid):
            continue  # no settled gold to score the machine against yet
        # The gold record is usually one of the versions: its flat map is shared, not copied.
        same = [a for a, r in versions.items() if r is record]
        gold[lid] = flats[same[0]] if same else flat_of(record)
        if machine == "stored":
            values = store.proposal_values(lid)
            if values is not None:
                machines[lid] = flat_values(values)
        elif machine == "current":
            from imrgold.core.extract import extract

            machines[lid] = flat_of(extract(store.get_letter(lid).text, lid))
    return letters, machines, gold


def run(args: argparse.Namespace) -> int:
    from imrgold.core.agreement import agreement_report

    path = db_path(args.db)
    if not path.exists():
        raise UserError(f"no store at {path}")
    from imrgold.store.qa import open_store
    from imrgold.store.storage import paused_gc

    # Every letter's versions are held until the coefficients are computed: with the collector
    # running, rescanning them cost as much as the work (they make no reference cycles).
    with paused_gc(freeze=True):
        with open_store(path, read_only=True) as store:
            letters, machines, gold = gather(store, args.machine)
        report = agreement_report(letters, machines or None, gold or None)
    if args.json:
        print(json.dumps([c.to_dict() for c in report], indent=1))
        return 0
    _print_tables(report, args.all_fields)
    return 0


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_tables(report, all_fields: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not report:
        console.print(
            "nothing to compare: no letter has two gold versions, nor gold to score "
            "the machine against"
        )
        return
    for comparison in report:
        table = Table(title=f"{comparison.name} ({comparison.letters} letter(s))")
        table.add_column("field")
        table.add_column("kind")
        table.add_column("n", justify="right")
        table.add_column("exact", justify="right")
        coefficient = "alpha" if comparison.b is None else "kappa"
        table.add_column(coefficient, justify="right")
        table.add_column("AC1", justify="right")
        table.add_column("F1", justify="right")
        for f in comparison.fields:
            if not all_fields and not f.n:
                continue
            value = f.alpha if comparison.b is None else f.kappa
            table.add_row(
                f.field, f.kind, str(f.n), _fmt(f.exact), _fmt(value), _fmt(f.ac1), _fmt(f.f1)
            )
        console.print(table)
