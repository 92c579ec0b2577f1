"""An export's letters rendered where they are read: in the worker processes.

With workers, the exporting process only chooses the records (the gold shards) and writes; each
worker opens the store read-only once and reads what a letter needs besides its record: for the
spans format its text and the proposal its spans are labelled from (`selection.proposal_for`),
then renders it (`core.render.spans_of`); for a de-identified record, its text, for the names
its header labels (`core.render.record_of`).  Reading those in the exporting process made it
the bottleneck: two files and a proposal's validation a letter, about 0.6 ms, while the
workers waited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imrgold.core import render
from imrgold.store.qa.selection import proposal_for

if TYPE_CHECKING:
    from imrgold.core.models import GoldRecord
    from imrgold.store import Store

_store: Store | None = None

Stored = tuple["GoldRecord", str, str | None]
"""What the exporting process sends a worker for a letter: its record, status and whose record
it is (`selection.exported_annotator`: the gold shards stay in the exporting process)."""


def start(db: str, key: bytes | str | None) -> None:
    """Set up a worker: the renderer under the export's key, and the store, read-only."""
    global _store
    from imrgold.store import Store

    render.start(key)
    _store = Store.open(db, read_only=True)


def letter_text(store: Store, letter_id: str) -> str | None:
    """A letter's text for de-identifying its record: None when the store has lost it (the
    record's own patterns still apply)."""
    from imrgold.store import StoreError

    try:
        return store.get_letter(letter_id).text
    except StoreError:
        return None


def record_of_stored(record: GoldRecord) -> render.Rendered:
    """A record de-identified (`core.render.record_of`), its letter's text read here."""
    assert _store is not None, "a worker reads its letters from the store `start` opened"
    return render.record_of((record, letter_text(_store, record.letter_id)))


def letter_of(store: Store, item: Stored) -> render.Letter:
    """What a letter's spans are made of (`core.render.Letter`): its record, its text, the
    proposal they are labelled from (`selection.proposal_for`) and its meta."""
    record, status, who = item
    lid = record.letter_id
    text = store.get_letter(lid).text
    return record, text, proposal_for(store, lid, who), {"status": status}


def spans_of_stored(item: Stored) -> render.Rendered:
    """A letter's spans line (`core.render.spans_of`), its text and proposal read here."""
    assert _store is not None, "a worker reads its letters from the store `start` opened"
    return render.spans_of(letter_of(_store, item))
