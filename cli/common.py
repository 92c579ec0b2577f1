"""What every command shares: the store location and the one-line error."""

from __future__ import annotations

import os
from pathlib import Path


class UserError(Exception):
    """A problem the user can fix; printed as one line, exits non-zero."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def db_path(arg: str | None) -> Path:
    """--db, else $IMRGOLD_DB, else the default store in the user's data folder."""
    from store.paths import default_db_path

    if arg:
        return Path(arg).expanduser()
    env = os.environ.get("IMRGOLD_DB")
    if env:
        return Path(env).expanduser()
    return default_db_path()


def fixtures_dir() -> Path:
    """The letters bundled with the checkout (the project is installed editable)."""
    return Path(__file__).resolve().parent.parent / "fixtures"
