"""Durable storage of letters, proposals, drafts and gold records (TinyDB; never Textual).

    with Store.open(path, annotator="ana") as store:      # the single writer; StoreLocked if taken
        store.add_letter(letter, proposal)                # False if already there
        store.summaries()                                 # the queue, without letter texts
        store.save_draft(proposal)                        # each call durable; history kept
        record = store.mark_gold(proposal)                # validated; this annotator's version
        store.history(letter_id); store.restore(letter_id, 3)
    Store.open(path, read_only=True)                      # while someone else writes

Every change is one fsynced journal line before the call returns (`store.journal`); TinyDB files
are written atomically at checkpoints (`store.storage`); the layout is in `store.layout`, damage
and repair in `store.doctor`, schema versions in `store.migrations`.  Errors are `StoreError`s
whose message is one line: `StoreLocked` (who holds the store, since when), `StoreDamaged` (which
file, the last good backup, and how to repair), `NotAStore` (another file named as the store,
left untouched), `ReadOnlyStore`, `UnknownLetter`.
"""

from imrgold.store.errors import (
    NotAStore,
    ReadOnlyStore,
    StoreDamaged,
    StoreError,
    StoreLocked,
    UnknownLetter,
)
from imrgold.store.store import SCHEMA_VERSION, Store

__all__ = [
    "SCHEMA_VERSION",
    "NotAStore",
    "ReadOnlyStore",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreLocked",
    "UnknownLetter",
]
