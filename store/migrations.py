"""Schema versions and the migrations between them.

The catalog's ``meta`` row records the schema version.  Opening an older store for writing first
copies it into ``backups/<time>-schema<N>/``, then runs each step up to `SCHEMA_VERSION`.  Every
step writes the new catalog last, in one atomic rename, so a crash mid-migration leaves the old
store in place and the next open simply migrates again.

Schema 1 is the first, naive layout: one TinyDB file (TinyDB's default `JSONStorage`) with tables
``letters`` (`Letter`), ``proposals`` (`Proposal`) and ``gold`` (`GoldRecord`, optionally with an
``annotator`` key).  Schema 2 is the split, journaled layout of `store.layout`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any, Protocol

from imrgold.core.models import GoldRecord, Letter, Proposal
from imrgold.store.engine import Engine
from imrgold.store.layout import SCHEMA_VERSION, Layout
from imrgold.store.storage import copy_private, ensure_dir, fsync_dir

LEGACY_ANNOTATOR = "legacy"


class Writer(Protocol):
    """What a migration needs of the store: its engine and the domain calls that rebuild it
    (`store.store.Store`, which opens the engine with `migrate` as its upgrade)."""

    @property
    def engine(self) -> Engine: ...

    def add_letter(self, letter: Letter, proposal: Proposal | None = None) -> bool: ...

    def put_proposal(self, proposal: Proposal) -> None: ...

    def put_gold(
        self, record: GoldRecord, annotator: str, at: dt.datetime | None = None
    ) -> GoldRecord: ...


def migrate(store: Writer, data: Any, version: int) -> None:
    """Migrate ``store``, whose catalog parsed to ``data`` is of schema ``version``, to
    `SCHEMA_VERSION`, after copying the catalog into a backup."""
    backup_before_migration(store.engine.layout, version)
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](store, data)


def backup_before_migration(layout: Layout, version: int) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = ensure_dir(ensure_dir(layout.backups) / f"{stamp}-schema{version}")
    target = folder / layout.db.name
    copy_private(layout.db, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(folder)


def _v1_to_v2(store: Writer, data: dict[str, Any]) -> None:
    # Left-overs can only come from an interrupted migration: it starts over, and they are
    # moved into a backup folder, never deleted.
    _move_aside(store.engine.layout)
    with store.engine.rebuilding(migrated_from=1):
        for doc in (data.get("letters") or {}).values():
            store.add_letter(Letter.model_validate(doc))
        for doc in (data.get("proposals") or {}).values():
            store.put_proposal(Proposal.model_validate(doc))
        for doc in (data.get("gold") or {}).values():
            doc = dict(doc)
            annotator = doc.pop("annotator", None) or LEGACY_ANNOTATOR
            store.put_gold(GoldRecord.model_validate(doc), annotator)


def _move_aside(layout: Layout) -> None:
    parts = [p for p in (layout.records, layout.gold, layout.texts, layout.journal) if p.exists()]
    if not parts:
        return
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = ensure_dir(ensure_dir(layout.backups) / f"{stamp}-interrupted-migration")
    for part in parts:
        os.replace(part, aside / part.name)
    fsync_dir(aside)
    fsync_dir(layout.dir)


MIGRATIONS: dict[int, Callable[[Writer, dict[str, Any]], None]] = {1: _v1_to_v2}
