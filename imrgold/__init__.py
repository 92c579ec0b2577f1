"""imrgold: IMR final determination letters turned into gold-standard structured data.

The code lives in the design card's folders, mapped under this one name space by
`pyproject.toml` (``package-dir``): ``core/`` is `imrgold.core` (schema, reading, extraction,
lexicon, evaluation; no Textual, no TinyDB), ``store/`` is `imrgold.store` (the only TinyDB
user), ``tui/`` is `imrgold.tui` (the Textual interface), ``cli/`` is `imrgold.cli` (the
``imrgold`` command) and ``fixtures/letters/`` ships as `imrgold.letters`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imrgold")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
