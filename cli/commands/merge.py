"""`imrgold merge OTHER_STORE`: bring another annotator's letters and gold records in."""

from __future__ import annotations

import argparse
from pathlib import Path

from imrgold.cli.common import UserError, db_path, existing_store
from imrgold.cli.identity import add_annotator_argument

NAME = "merge"
HELP = "merge another store's letters and gold versions into this one (differences -> adjudication)"
EXAMPLES = """examples:
  imrgold merge team/bob.json
  imrgold merge team/bob.json --db team/ana.json --annotator ana
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-empty", action="store_true", help="exit 0 when the other store holds no letters"
    )
    parser.add_argument("other", metavar="OTHER_STORE", help="the other annotator's store file")
    add_annotator_argument(parser)
    parser.add_argument(
        "--name",
        default=None,
        help="what to call the other store in comments and renamed versions (default: its stem)",
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.store import Store
    from imrgold.store.qa.merge import merge

    target_path = db_path(args.db)
    other_path = existing_store(Path(args.other).expanduser())
    if other_path.resolve() == target_path.resolve():
        raise UserError("cannot merge a store into itself")
    source = args.name or other_path.stem
    from imrgold.cli.identity import resolve

    # The merge's own status changes are recorded under whoever runs it.
    annotator = resolve(args.annotator, required=False)
    with (
        Store.open(other_path, read_only=True) as other,
        Store.open(target_path, annotator=annotator) as target,
    ):
        report = merge(target, other, source=source)
    if not report.selected and not args.allow_empty:
        raise UserError(f"{other_path} holds no letters: nothing to merge (--allow-empty exits 0)",
                        exit_code=1)  # fmt: skip
    print(
        f"merged {source} into {target_path}: {report.letters_added} letter(s) added, "
        f"{report.versions_added} gold version(s) added, {report.versions_same} already present, "
        f"{report.finals_added} final record(s) added"
        + (
            f", {report.proposals_added} missing proposal(s) completed"
            if report.proposals_added
            else ""
        )
    )
    print(
        f"{len(report.to_adjudication)} letter(s) with differing versions -> adjudication; "
        f"{len(report.agreed)} letter(s) with a single version or agreeing versions"
    )
    for lid, old, new in report.renamed:
        print(
            f"  {lid[:12]}: both stores have a different version by {old!r}; "
            f"the incoming one is kept as {new!r}"
        )
    return 0
