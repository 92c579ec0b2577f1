"""Quality assurance on top of the public `store.Store` API: export selection, review,
adjudication and merging another annotator's store.

Nothing here touches TinyDB directly; it only combines the store's public methods, so the
storage engine stays the store's business.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.models import GoldRecord, Proposal


@contextlib.contextmanager
def open_store(path: Path, *, read_only: bool = False, annotator: str | None = None) -> Iterator:
    from store import Store

    store = Store.open(path, read_only=read_only, annotator=annotator)
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class ExportEntry:
    letter_id: str
    record: GoldRecord
    status: str
    proposal: Proposal | None = None


def export_records(
    store, *, statuses: Iterable[str] | None = None, annotator: str | None = None
) -> list[ExportEntry]:
    """The records an export writes, in the store's queue order.

    Without ``annotator`` each letter contributes its final record (the adjudicated one when there
    is one); with it, that annotator's own version.
    """
    wanted = set(statuses or ())
    entries = []
    for summary in store.summaries():
        if wanted and summary.status not in wanted:
            continue
        record = store.get_gold(summary.letter_id, annotator=annotator)
        if record is None:
            continue
        proposal = store.get_draft(summary.letter_id) or store.get_proposal(summary.letter_id)
        entries.append(ExportEntry(summary.letter_id, record, summary.status, proposal))
    return entries


DEIDENTIFY_KEY = "deidentify_key"


def deidentify_key(store) -> str:
    """The store's secret for pseudonyms and date offsets, made on first use.

    Kept in the store (not derived from its contents) so pseudonyms stay stable across exports
    of the same store and cannot be recomputed by someone who only has the letters.
    """
    import os
    import secrets

    env = os.environ.get("IMRGOLD_DEIDENTIFY_KEY")
    if env:
        return env
    key = store.meta(DEIDENTIFY_KEY)
    if not key:
        key = secrets.token_hex(32)
        store.set_meta(DEIDENTIFY_KEY, key)
    return key
