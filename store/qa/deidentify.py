"""The store's secret for de-identified exports (the de-identifying is `core.deidentify`)."""

from __future__ import annotations

import secrets

from imrgold.core import environment

DEIDENTIFY_KEY = "deidentify_key"


def deidentify_key(store) -> str:
    """The store's secret for pseudonyms and date offsets, made on first use.

    Kept in the store (not derived from its contents) so pseudonyms stay stable across exports
    of the same store and cannot be recomputed by someone who only has the letters.
    """
    env = environment.get(environment.Var.DEIDENTIFY_KEY)
    if env:
        return env
    key = store.meta(DEIDENTIFY_KEY)
    if not key:
        key = secrets.token_hex(32)
        store.set_meta(DEIDENTIFY_KEY, key)
    return key
