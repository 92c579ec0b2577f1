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
from imrgold.store.errors import NotAStore, StoreDamaged
from imrgold.store.layout import Layout
from imrgold.store.storage import copy_private, ensure_dir, fsync_dir, tinydb_shaped

if TYPE_CHECKING:
    from imrgold.store.store import Store

LEGACY_ANNOTATOR = "legacy"


# Schema 1's tables; its letter rows carry the letter's text.
_V1_TABLES = frozenset({"letters", "proposals", "gold", "_default"})


def holds_letters(layout: Layout) -> bool:
    """Whether the store's folder holds any letter, record, gold shard or journal."""
    return layout.journal.is_file() or any(
        any(folder.glob(pattern))
        for folder, pattern in (
            (layout.records, "*/*.json"),
            (layout.texts, "*/*.json"),
            (layout.gold, "*.json"),
        )
    )


def stored_version(data: Any, layout: Layout) -> int | None:
    """The schema of a parsed catalog file; None for a new (absent or empty) store.

    Refuses what it cannot recognize rather than guessing: a file that is not an imrgold store
    raises `NotAStore` (nothing may write it), and a catalog without its schema row beside a
    folder of letters raises `StoreDamaged` (`imrgold doctor --repair` rebuilds it from them).
    Only a file shaped as schema 1 (letter rows carrying their text) is schema 1.  An empty
    file or ``{}`` is a new store only when no letters lie beside it.
    """
    path = str(layout.db)
    meta = data.get("meta") if isinstance(data, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("1"), dict):
        version = meta["1"].get("schema_version")
        if not isinstance(version, int):
            raise StoreDamaged(f"{path} is damaged (bad schema row)", path=path)
        return version
    if _is_schema_1(data):
        return 1  # left-overs of an interrupted migration beside it are moved aside
    if holds_letters(layout):
        problem = "empty" if data is None or data == {} else "no schema row"
        raise StoreDamaged(f"{path} is damaged ({problem}; {layout.dir} holds letters)", path=path)
    if data is None or data == {}:
        return None
    raise NotAStore(
        f"{path} is not an imrgold store (left untouched); name a store file or a new path",
        path=path,
    )


def _is_schema_1(data: Any) -> bool:
    if not (tinydb_shaped(data) and set(data) <= _V1_TABLES and {"letters", "gold"} & set(data)):
        return False
    rows = [doc for name in ("letters", "proposals", "gold") for doc in data.get(name, {}).values()]
    letters = data.get("letters", {}).values()
    return all(isinstance(d.get("letter_id"), str) for d in rows) and all(
        isinstance(d.get("text"), str) for d in letters
    )


def migrate_if_needed(store: Store, data: Any) -> int | None:
    """Migrate ``store`` (whose catalog parsed to ``data``) when it is older; the version it
    had, or None."""
    from imrgold.store.store import SCHEMA_VERSION

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
    from imrgold.store.store import SCHEMA_VERSION, now, open_db, put_one, storage

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
