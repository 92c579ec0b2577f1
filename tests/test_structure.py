"""The layers as the design card draws them, checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

_LOADED = """
import importlib, json, pkgutil, sys
import imrgold.{part} as part
for info in pkgutil.walk_packages(part.__path__, part.__name__ + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def _top_modules_after_importing(part: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _LOADED.format(part=part)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out))


def test_every_core_module_loads_neither_textual_nor_tinydb():
    loaded = _top_modules_after_importing("core")
    assert {"textual", "tinydb"} & loaded == set()
    assert "imrgold" in loaded


def test_every_store_module_loads_no_textual():
    loaded = _top_modules_after_importing("store")
    assert "textual" not in loaded
    assert "tinydb" in loaded  # the store is where TinyDB lives


def test_no_bare_core_store_tui_or_cli_package_is_imported():
    """Everything is reached as imrgold.*: a bare `core` would be a second copy of it."""
    loaded = _top_modules_after_importing("cli")
    assert {"core", "store", "tui", "cli"} & loaded == set()


def test_the_environment_is_read_in_one_module():
    """Every variable imrgold reads is named in core/environment.py; no other module reads the
    environment (one place to document and to test them)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    reads = re.compile(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[")
    readers = sorted(
        str(path.relative_to(root))
        for part in ("core", "store", "tui", "cli", "imrgold")
        for path in (root / part).rglob("*.py")
        if reads.search(path.read_text(encoding="utf-8"))
    )
    assert readers == ["core/environment.py"]
