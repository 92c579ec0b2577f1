"""A non-editable install opens the bundled letters and the gold conventions (run by .ci/run in
a venv of `pip install .`).

Run from outside the checkout, so nothing can be imported from the working tree.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import tempfile
from functools import partial
from pathlib import Path

home = Path(tempfile.mkdtemp())
for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
    os.environ[name] = str(home / name.lower())

import imrgold  # noqa: E402
from imrgold.cli.commands.annotate import bundled_letters, ingest_files  # noqa: E402
from imrgold.store import Store  # noqa: E402
from imrgold.tui.app import ImrGoldApp  # noqa: E402
from imrgold.tui.screens.conventions import conventions_path  # noqa: E402
from imrgold.tui.widgets.queue_table import QueueTable  # noqa: E402

assert "site-packages" in imrgold.__file__, imrgold.__file__
for bare in ("core", "store", "tui", "cli"):
    assert importlib.util.find_spec(bare) is None, f"a bare '{bare}' package is installed"
conventions = conventions_path()
assert "site-packages" in str(conventions) and "## Items" in conventions.read_text(), conventions
letters = bundled_letters()
assert len(letters) == 20 and all("site-packages" in str(p) for p in letters), letters[:2]

with Store.open(home / "store.json", annotator="ci") as store:
    assert ingest_files(store, letters) == 20
    app = ImrGoldApp(store, offer=[], ingest=partial(ingest_files, store), store_label="ci")

    async def look() -> int:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            return app.screen.query_one(QueueTable).row_count

    rows = asyncio.run(look())
assert rows == 20, rows
print(f"non-editable install of imrgold {imrgold.__version__}: {rows} bundled letters open")
sys.exit(0)
