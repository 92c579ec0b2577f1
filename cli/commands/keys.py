"""`imrgold keys`: every key of the interface with its id, as the keymap file remaps them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from imrgold.cli.common import UserError

if TYPE_CHECKING:
    from imrgold.tui.keymap import KeySpec

NAME = "keys"
HELP = "list the interface's keys with their ids, after the user's keymap file"
EXAMPLES = """examples:
  imrgold keys
  imrgold keys --json

remap a key: put its id in the keymap file (path printed at the top), e.g.
  [keys]
  "annotate.flag" = "f8"
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object a key")
    parser.add_argument(
        "--keymap", metavar="FILE", help="read this keymap file instead of the user's"
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.tui.keymap import keymap_path, keys_with, load_keymap

    path = Path(args.keymap) if args.keymap else keymap_path()
    if args.keymap and not path.is_file():
        raise UserError(f"{path}: no such keymap file")
    keymap, problems = load_keymap(path)
    specs = keys_with(keymap)
    if args.json:
        for spec in specs:
            print(json.dumps({**spec.__dict__, "remapped": spec.id in keymap}))
    else:
        _print(specs, keymap, path)
    import sys

    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _print(specs: list[KeySpec], keymap: dict[str, str], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    state = "in use" if path.exists() else "none yet: create it to remap keys"
    table = Table(title=f"keys (keymap: {path}, {state})", title_justify="left")
    table.add_column("where", max_width=12)
    table.add_column("keys", max_width=16, overflow="fold")
    table.add_column("id", no_wrap=True)
    table.add_column("does", min_width=16)
    for spec in specs:
        keys = Text(spec.keys, style="bold" if spec.id in keymap else "")
        table.add_row(spec.where, keys, spec.id, Text(spec.tooltip or spec.description))
    Console(highlight=False).print(table)
