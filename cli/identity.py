"""Who is annotating: ``--annotator``, else ``$IMRGOLD_ANNOTATOR``, else the annotator the store
was made for (`imrgold assign`), else the name remembered in the user's config folder, else asked
once (on a terminal) and remembered there.

The file is created 0600 in a 0700 folder: a name is personal data, and on a shared machine it
is nobody else's business who annotated what.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal, overload

from imrgold.cli.common import UserError
from imrgold.core import environment

ENV = environment.Var.ANNOTATOR
FILE_NAME = "annotator"
_VALID = re.compile(r"^[\w.@+-][\w .@+-]{0,62}$")


def config_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("imrgold", appauthor=False)) / FILE_NAME


def add_annotator_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--annotator",
        metavar="NAME",
        default=None,
        help=f"who is working (default: ${ENV}, else the name remembered in the config folder)",
    )


def clean(name: str) -> str:
    name = " ".join(name.split())
    if not _VALID.match(name):
        raise UserError(
            f"annotator name {name!r} must be 1-63 letters, digits, spaces or . @ + - _"
        )
    return name


def remembered() -> str | None:
    path = config_file()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def remember(name: str) -> Path:
    from imrgold.core.files import atomic_write

    path = config_file()
    atomic_write(path, (name + "\n").encode("utf-8"))
    return path


@overload
def resolve(
    arg: str | None,
    *,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
    assigned: str | None = None,
    required: Literal[True] = True,
) -> str: ...
@overload
def resolve(
    arg: str | None,
    *,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
    assigned: str | None = None,
    required: bool,
) -> str | None: ...
def resolve(
    arg: str | None,
    *,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
    assigned: str | None = None,
    required: bool = True,
) -> str | None:
    """The annotator's name; asks (and remembers the answer) only on a terminal. ``assigned``:
    whom the store being opened was made for."""
    if arg:
        return clean(arg)
    env = (environment.get(ENV) or "").strip()
    if env:
        return clean(env)
    if assigned:
        # A store made for one annotator is theirs: on a shared account the remembered name
        # may be someone else's.
        return clean(assigned)
    known = remembered()
    if known:
        return clean(known)
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        if not required:
            return None
        raise UserError(f"who is annotating? pass --annotator NAME or set {ENV}")
    answer = clean((ask or input)("Your name as annotator (remembered for next time): "))
    path = remember(answer)
    print(f"remembered annotator {answer!r} in {path}", file=sys.stderr)
    return answer


def current() -> str | None:
    """Who is working, without asking: for commands that open a store but do not annotate
    (the store itself must not reach into cli/ for the remembered name)."""
    return resolve(None, interactive=False, required=False)
