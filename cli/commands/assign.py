"""`imrgold assign --to ann1,ann2 --overlap 0.2 --out DIR`: one store per annotator."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from imrgold.cli.common import UserError, check_statuses, db_path, existing_store
from imrgold.cli.identity import add_annotator_argument

if TYPE_CHECKING:
    from imrgold.core.assign import Assignment

NAME = "assign"
HELP = (
    "split the store's letters into one store per annotator, a share of them given to two "
    "(for agreement)"
)
EXAMPLES = """examples:
  imrgold assign --to ana,bob,eve --overlap 0.2 --out team
  imrgold assign --to ana,bob --overlap 0.1 --status new --seed 7 --out week2
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to", required=True, metavar="NAMES", help="the annotators, comma-separated"
    )
    parser.add_argument(
        "--overlap",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of the letters given to two annotators, 0-1 (default 0)",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="new or empty folder for the stores"
    )
    parser.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="only letters in this status (repeatable; default: every letter)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the same seed gives the same split (default: a new one, printed)",
    )
    add_annotator_argument(parser)


def annotators(to: str) -> list[str]:
    from imrgold.cli.identity import clean

    names = [n.strip() for n in to.split(",")]
    if not any(names):
        raise UserError("--to names no annotators; give them comma-separated, e.g. ana,bob")
    if not all(names):
        raise UserError(f"--to {to!r} has an empty name")
    return [clean(n) for n in names]


def run(args: argparse.Namespace) -> int:
    import secrets

    from imrgold.cli.identity import resolve
    from imrgold.core.assign import assign, check
    from imrgold.store import Store
    from imrgold.store.assign import usable_out, write_stores
    from imrgold.store.errors import StoreError

    names = annotators(args.to)
    try:
        check(names, args.overlap)
    except ValueError as err:
        raise UserError(str(err)) from None
    check_statuses(args.status)
    source_path = existing_store(db_path(args.db))
    out = Path(args.out).expanduser()
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    # Who makes the stores: named in their history as the one who copied the letters in.
    by = resolve(args.annotator, required=False)
    try:
        usable_out(out)
        with Store.open(source_path, read_only=True) as source:
            wanted = set(args.status or ())
            ids = [s.letter_id for s in source.summaries() if not wanted or s.status in wanted]
            if not ids:
                which = f" with status {' or '.join(args.status)}" if wanted else ""
                raise UserError(f"{source_path} holds no letters{which}: nothing to assign", 1)
            assignment = assign(ids, names, args.overlap, seed)
            stores = write_stores(source, assignment, out, by=by)
    except StoreError as err:
        raise UserError(str(err)) from None
    _report(source_path, out, ids, assignment, stores, seed)
    return 0


def _report(
    source_path: Path,
    out: Path,
    ids: list[str],
    assignment: Assignment,
    stores: dict[str, Path],
    seed: int,
) -> None:
    print(
        f"assigned {len(ids)} letter(s) of {source_path} to {len(stores)} annotator(s) in {out}: "
        f"{len(assignment.shared)} given to two for agreement (seed {seed}; the same --seed "
        "gives the same split)"
    )
    for name, path in stores.items():
        share = assignment.shares[name]
        both = sum(lid in assignment.shared for lid in share)
        print(f"  {name}: {path}, {len(share)} letter(s), {both} shared")
    if assignment.shared:
        pairs = sorted(assignment.pairs().items())
        print("  shared by " + ", ".join(f"{a} and {b}: {n}" for (a, b), n in pairs))
    if len(ids) < len(stores):
        idle = [n for n, share in assignment.shares.items() if not share]
        empty = f"; {', '.join(idle)} get(s) an empty store" if idle else ""
        print(f"note: fewer letters ({len(ids)}) than annotators ({len(stores)}){empty}")
    print(
        f"next: each annotator runs `imrgold annotate --db {out}/NAME.json`; back here, "
        f"`imrgold merge {out}/NAME.json --db {source_path}` for each, then `imrgold agreement` "
        "and `imrgold review --adjudicate` on that store"
    )
