"""What every command shares: the store location and the one-line error."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from imrgold.core import environment
from imrgold.core.parallel import PARALLEL_FROM, default_jobs


class UserError(Exception):
    """A problem the user can fix; printed as one line, exits non-zero."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def check_statuses(statuses: list[str] | None) -> None:
    """Refuse a ``--status`` that names no letter status."""
    from imrgold.core.models import LETTER_STATUSES

    for status in statuses or ():
        if status not in LETTER_STATUSES:
            raise UserError(f"unknown status {status!r}; one of {', '.join(LETTER_STATUSES)}")


def db_path(arg: str | None) -> Path:
    """--db, else $IMRGOLD_DB, else the default store in the user's data folder."""
    from imrgold.store.paths import default_db_path

    if arg:
        return Path(arg).expanduser()
    env = environment.get(environment.Var.DB)
    if env:
        return Path(env).expanduser()
    return default_db_path()


def existing_store(path: Path, hint: str = "") -> Path:
    """``path`` when a store is there; else the one line that says none is (a command that
    opened it for writing would make an empty one)."""
    if not path.exists():
        raise UserError(f"no store at {path}{hint}")
    return path


def fixtures_dir() -> Path | None:
    """The repository's ``fixtures/`` when running from a checkout (an editable install)."""
    folder = Path(__file__).resolve().parent.parent / "fixtures"
    return folder if folder.is_dir() else None


def bundled_letters_dir() -> Path | None:
    """The real letters shipped with imrgold: the installed `imrgold.letters` package data, or
    ``fixtures/letters`` of a checkout."""
    from importlib.util import find_spec

    try:
        # A folder of data, no module: its spec names where it was installed.
        spec = find_spec("imrgold.letters")
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location)
        if any(folder.glob("*.txt")):
            return folder
    checkout = fixtures_dir()
    return checkout / "letters" if checkout is not None else None


def add_jobs_argument(parser: argparse.ArgumentParser, work: str) -> None:
    """``-j/--jobs N``: how many processes do ``work`` (resolved by `jobs_for`)."""
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=f"{work} in N processes (0: one per CPU; default: one per CPU from {PARALLEL_FROM} "
        "letters, else 1)",
    )


def jobs_for(asked: int | None, letters: int) -> int:
    """The processes ``--jobs`` asks for (None: one a CPU for `PARALLEL_FROM` letters or more,
    where starting workers pays off, else one)."""
    if asked is not None and asked < 0:
        raise UserError("--jobs must be 0 or more")
    if asked is None:
        return default_jobs(letters)
    return asked or os.cpu_count() or 1
