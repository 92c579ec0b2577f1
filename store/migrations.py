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
from typing import TYPE_CHECKING, Any

from imrgold.core.models import GoldRecord, Letter, Proposal
from imrgold.store.layout import SCHEMA_VERSION, Layout, stored_version
from imrgold.store.storage import copy_private, ensure_dir, fsync_dir

if TYPE_CHECKING:
    from imrgold.store.store import Store

LEGACY_ANNOTATOR = "legacy"


def migrate_if_needed(store: Store, data: Any) -> int | None:
    """Migrate ``store`` (whose catalog parsed to ``data``) when it is older; the version it
    had, or None."""
    version = stored_version(data, store.layout)
    if version is None or version >= SCHEMA_VERSION:
        return None
    backup_before_migration(store, version)
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](store, data)
    return version


def backup_before_migration(store: Store, version: int) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = ensure_dir(ensure_dir(store.layout.backups) / f"{stamp}-schema{version}")
    target = folder / store.path.name
    copy_private(store.path, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(folder)


def _v1_to_v2(store: Store, data: dict[str, Any]) -> None:
    from imrgold.store.operations import put_one
    from imrgold.store.store import now, open_db, storage

    # Left-overs can only come from an interrupted migration: it starts over, and they are
    # moved into a backup folder, never deleted.
    _move_aside(store.layout)
    catalog = open_db(store.path, read_only=False)
    storage(catalog).start_empty()
    put_one(
        catalog,
        "meta",
        {
            "schema_version": SCHEMA_VERSION,
            "seq": 0,
            "created_at": now().isoformat(),
            "migrated_from": 1,
        },
    )
    store._catalog, store._rows, store._kv = catalog, {}, {}
    store._journaling, store._durable = False, False
    annotator = store.annotator
    try:
        for doc in (data.get("letters") or {}).values():
            store.add_letter(Letter.model_validate(doc))
        for doc in (data.get("proposals") or {}).values():
            store.put_proposal(Proposal.model_validate(doc))
        for doc in (data.get("gold") or {}).values():
            doc = dict(doc)
            store.annotator = doc.pop("annotator", None) or LEGACY_ANNOTATOR
            store.mark_gold(Proposal.from_record(GoldRecord.model_validate(doc)))
        store.checkpoint()
    finally:
        store.annotator = annotator
        store._journaling, store._durable = True, True


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


MIGRATIONS: dict[int, Callable[[Store, dict[str, Any]], None]] = {1: _v1_to_v2}
