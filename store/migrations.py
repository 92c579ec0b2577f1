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
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.models import GoldRecord, Letter, Proposal
from store.storage import copy_private, ensure_dir, fsync_dir, load_json

if TYPE_CHECKING:
    from store.store import Store

LEGACY_ANNOTATOR = "legacy"


def stored_version(data: Any) -> int | None:
    """The schema of a parsed catalog file; None for an empty (new) store."""
    if not data:
        return None
    meta = (data.get("meta") or {}).get("1") if isinstance(data, dict) else None
    if meta is None:
        return 1
    return meta.get("schema_version")


def migrate_if_needed(store: Store) -> int | None:
    """Migrate ``store`` in place when it is older; the version it had, or None."""
    from store.store import SCHEMA_VERSION

    if not store.path.exists():
        return None
    data = load_json(store.path)
    version = stored_version(data)
    if not isinstance(version, int) or version >= SCHEMA_VERSION:
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
    from store.store import SCHEMA_VERSION, now, open_db, put_one, storage

    # Left-overs can only come from an interrupted migration: start it over.
    for folder in (store.layout.records, store.layout.gold, store.layout.texts):
        shutil.rmtree(folder, ignore_errors=True)
    store.layout.journal.unlink(missing_ok=True)
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


MIGRATIONS: dict[int, Callable[[Store, dict[str, Any]], None]] = {1: _v1_to_v2}
