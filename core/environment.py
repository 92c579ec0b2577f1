"""Every environment variable imrgold reads, named once (the README lists them).

Each is read when it is needed, not at import, so a test's or a session's setting applies to
the next call.  An empty value counts as unset, as a shell's `VAR= imrgold ...` means it.
"""

from __future__ import annotations

import os
from enum import StrEnum


class Var(StrEnum):
    DB = "IMRGOLD_DB"
    """The store file, when --db is not given."""
    ANNOTATOR = "IMRGOLD_ANNOTATOR"
    """Who is working, when --annotator is not given."""
    DATA_DIR = "IMRGOLD_DATA_DIR"
    """The user's data folder (the default store, learned drug names, supplements)."""
    CONFIG_DIR = "IMRGOLD_CONFIG_DIR"
    """The user's settings (keymap, the remembered annotator)."""
    CACHE_DIR = "IMRGOLD_CACHE_DIR"
    """Derived tables kept between runs (the lexicon's index, ICD-10-CM, the machine's
    proposals `agreement` compares with gold)."""
    DRUG_DICTIONARY = "IMRGOLD_DRUG_DICTIONARY"
    """Another copy of drug-named-entity-recognition's data file."""
    DEIDENTIFY_KEY = "IMRGOLD_DEIDENTIFY_KEY"
    """The secret for pseudonyms and date shifts, instead of the store's own."""


def get(var: Var) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    return os.environ.get(var.value) or None
