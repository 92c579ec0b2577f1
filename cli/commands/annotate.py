"""`imrgold annotate`: the keyboard-driven annotation interface on the store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from imrgold.cli.common import UserError, bundled_letters_dir, db_path, existing_store
from imrgold.cli.identity import add_annotator_argument, resolve
from imrgold.core import environment

if TYPE_CHECKING:
    from imrgold.store import Store

NAME = "annotate"
HELP = "open the annotation interface on the store's letters"
EXAMPLES = """examples:
  imrgold annotate
  imrgold annotate --db team/ana.json --annotator ana
  imrgold annotate --read-only
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_annotator_argument(parser)
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="open without taking the writer lock (look, do not change)",
    )


def bundled_letters() -> list[Path]:
    folder = bundled_letters_dir()
    if folder is None:
        return []
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in (".txt", ".md", ".pdf"))


def ingest_files(store: Store, paths: Sequence[Path]) -> int:
    """Add letters with their proposals as `imrgold ingest` does; returns how many were new."""
    from imrgold.cli.commands.ingest import StoreSink
    from imrgold.core.ingest import ingest

    outcomes = ingest(list(paths), StoreSink(store), known=store.letter_ids())
    return sum(outcome.status == "added" for outcome in outcomes)


def _explicit_store(arg: str | None) -> bool:
    return bool(arg or environment.get(environment.Var.DB))


def run(args: argparse.Namespace) -> int:
    from imrgold.cli.identity import ENV
    from imrgold.store import Store
    from imrgold.store.assign import assignee
    from imrgold.store.errors import StoreLocked

    path = db_path(args.db)
    # Whom the store was made for is read only when no name is given outright: a second open.
    named = args.annotator or (environment.get(ENV) or "").strip()
    annotator = resolve(args.annotator, assigned=None if named else assignee(path))
    if args.read_only:
        existing_store(path)
    try:
        store = Store.open(path, read_only=args.read_only, annotator=annotator)
    except StoreLocked as err:
        raise UserError(f"{err}; to look without changing anything add --read-only") from None

    from imrgold.tui.app import ImrGoldApp

    with store:
        offer: list[Path] = []
        if not args.read_only and not store.letter_ids():
            if _explicit_store(args.db):
                offer = bundled_letters()
            else:
                # The README's first command: a fresh machine's default store gets the examples.
                letters = bundled_letters()
                print(
                    f"imrgold: a new store at {path}; adding the {len(letters)} example "
                    "letters bundled with imrgold ...",
                    file=sys.stderr,
                    flush=True,
                )
                ingest_files(store, letters)
        label = f"{path}{' (read-only)' if args.read_only else ''} · {store.annotator}"
        app = ImrGoldApp(
            store,
            offer=offer,
            ingest=partial(ingest_files, store),
            store_label=label,
            settle_heap=True,
        )
        app.run()
        if not args.read_only:
            # However the app ended, what it still held is written before the store closes.
            app.flush_drafts()
            app.flush_gold()
    return 0
