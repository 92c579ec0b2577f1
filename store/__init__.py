"""Durable storage of letters, proposals, drafts and gold records (TinyDB; never Textual)."""

from store.errors import ReadOnlyStore, StoreDamaged, StoreError, StoreLocked, UnknownLetter
from store.store import SCHEMA_VERSION, Store

__all__ = [
    "SCHEMA_VERSION",
    "ReadOnlyStore",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreLocked",
    "UnknownLetter",
]
