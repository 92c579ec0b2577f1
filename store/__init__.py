"""Durable storage of letters, proposals, drafts and gold records (TinyDB; never Textual).

    with Store.open(path, annotator="ana") as store:      # the single writer; StoreLocked if taken
        store.add_letter(letter, proposal)                # False if already there
        store.summaries()                                 # the queue, without letter texts
        store.save_draft(proposal)                        # each call durable; history kept
        record = store.mark_gold(proposal)                # validated; this annotator's version
        store.history(letter_id); store.restore(letter_id, 3)
    Store.open(path, read_only=True)                      # while someone else writes

`Store` (`store.store`) is the domain API: each change it makes is one typed operation
(`store.operations`) that the engine (`store.engine`) journals, one fsynced line before the call
returns (`store.journal`), and applies to TinyDB files written atomically at checkpoints
(`store.storage`).  The on-disk layout is `store.layout`'s alone; damage and repair are in
`store.doctor`, schema versions in `store.migrations`.  Errors are `StoreError`s
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
from imrgold.store.store import SCHEMA_VERSION, Restored, Store

__all__ = [
    "SCHEMA_VERSION",
    "NotAStore",
    "ReadOnlyStore",
    "Restored",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreLocked",
    "UnknownLetter",
]
