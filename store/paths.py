"""Where the store lives by default."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from imrgold.core.files import APP


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "imrgold.json"
