"""The store's engine: a small database of TinyDB files kept by a write-ahead journal.

The engine knows files, not letters' meaning.  Every change reaches it as one typed operation
(`store.operations`), built by the domain API (`store.store.Store`):

    engine.commit(op)   the operation as one journal line (the commit point, one fsync), then
                        applied to the in-memory TinyDB files: the letter's record, the queue row
                        and gold shard derived from it (`store.layout.row_of`, `shard_doc_of`);
    engine.checkpoint() every changed file written atomically, catalog last, then an empty journal.

Opening replays the journal past the catalog's checkpoint, so the same `apply` serves live writes,
crash recovery and read-only readers.  It also keeps the caches (a bounded number of parsed
record files, every gold shard once one is read), the index a pass over every letter reads
instead of the record files (`index_entry`: written with the records at each checkpoint, used
only while a record file is the one it was taken from), the backups taken at each open, and the
maintenance API the migrations use (`rebuilding`: an empty catalog filled without journaling).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tinydb import TinyDB
from tinydb.table import Document

from imrgold.core.files import os_problem
from imrgold.core.models import LetterSummary
from imrgold.store.errors import (
    NotAStore,
    ReadOnlyStore,
    StoreDamaged,
    StoreError,
    UnknownLetter,
    validation_problem,
)
from imrgold.store.journal import Journal
from imrgold.store.layout import (
    KV,
    LETTERS,
    META,
    SCHEMA_VERSION,
    SHARD_GOLD,
    Layout,
    holds_letters,
    index_entry_of,
    index_line,
    index_lines,
    last_good_backup,
    record_seq,
    row_of,
    shard_doc_of,
    shard_prefix,
    stamped_line,
    stored_version,
)
from imrgold.store.lock import WriterLock
from imrgold.store.operations import LetterOperation, Operation, SetValue, decode, get_one, put_one
from imrgold.store.storage import (
    AtomicJSONStorage,
    StoreDB,
    atomic_write,
    copy_private,
    dumps,
    ensure_dir,
    fsync_dir,
    load_json,
    parse_json,
    paused_gc,
)

KEEP_BACKUPS = 5
CHECKPOINT_OPS = 500
CHECKPOINT_BYTES = 8 << 20
# Each changed record costs an fsync at the checkpoint: cap them so no save waits for hundreds.
CHECKPOINT_RECORDS = 128
# Letter records kept parsed: what the interface revisits.  A record is 0.1 MB in memory, and a
# command over every letter reads each once, so more only raises its peak (by 90 MB at 1,024).
CACHE_RECORDS = 128

# Indexing a store this large takes a second or more: the person waiting is told why.
SAY_INDEXING_FROM = 2000

_ENTRY_KEYS = frozenset({"machine", "extractor", "history", "gold"})

log = logging.getLogger(__name__)

Upgrade = Callable[[Any, int], None]
"""Migrates a store from the parsed catalog of an older schema (given its version)."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def open_db(path: Path, *, read_only: bool, preloaded: dict[str, Any] | None = None) -> TinyDB:
    return StoreDB(
        path, storage=AtomicJSONStorage, buffered=True, read_only=read_only, preloaded=preloaded
    )


def storage(db: TinyDB) -> AtomicJSONStorage:
    return db.storage  # type: ignore[return-value]


def data(db: TinyDB) -> dict[str, Any]:
    """The parsed file of ``db``, as `store.layout`'s functions read it (read it, never
    change it: the TinyDB's own tables are this very object)."""
    return storage(db).read() or {}


class Engine:
    """The files of one store; `open` it, `commit` operations, `close` it."""

    def __init__(self, path: Path, *, read_only: bool) -> None:
        self.path = path
        self.layout = Layout(path)
        self.read_only = read_only
        self.journal = Journal(self.layout.journal)
        self.mutex = threading.RLock()
        """Held by every call of the domain API: one call at a time per store (the interface
        may save from a worker thread while it reads on another, and a half-applied change
        must never be seen)."""
        self.catalog: TinyDB | None = None
        self._lock = WriterLock(self.layout.lock, path)
        self._rows: dict[str, int] = {}  # letter id -> doc id of its queue row
        self._summaries: dict[str, LetterSummary] = {}
        self._kv: dict[str, int] = {}
        self._records: dict[str, TinyDB] = {}
        self._dirty_records: set[str] = set()
        self._shards: dict[str, TinyDB] = {}
        self._shard_ids: dict[str, dict[str, int]] = {}
        self._dirty_shards: set[str] = set()
        self._texts: dict[str, dict[str, Any]] = {}  # journaled, not yet in texts/
        # Index shards read, by prefix: letter id -> (size, mtime_ns, unparsed entry).
        self._index: dict[str, dict[str, tuple[int, int, bytes]]] = {}
        # The last entry read: a pass asks for a letter's machine values, then its history.
        self._last_entry: tuple[str, dict[str, Any] | None] | None = None
        self._seq = 0
        self._durable = True
        self._journaling = True
        self._closed = False
        self._replayed: list[dict[str, Any]] = []  # journal entries past the checkpoint
        self._prefetched = False

    # -- opening and closing ----------------------------------------------------------------

    def open(self, holder: str, upgrade: Upgrade) -> None:
        """Open (and for a writer, lock as ``holder``); an older schema is handed to
        ``upgrade``.  Whatever fails leaves nothing held."""
        try:
            self._open(holder, upgrade)
        except OSError as err:
            # A read-only disk, a folder one may not write, a planted link: one line.
            self.release()
            raise StoreError(f"cannot open the store {self.path}: {os_problem(err)}") from None
        except BaseException:
            self.release()
            raise

    def _open(self, holder: str, upgrade: Upgrade) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; give the store's file, e.g. imrgold.json")
        if not self.path.exists() and any(self.layout.records.glob("*/*.json")):
            raise self.damaged(
                StoreDamaged(
                    f"{self.path} is missing but {self.layout.dir} holds letters",
                    path=str(self.path),
                )
            )
        vetted = None
        if self.path.exists():
            # Before any folder or lock file is made beside it: a foreign file stays alone.
            vetted = self._vet_catalog()
        if self.read_only:
            if not self.path.exists():
                raise StoreError(f"no store at {self.path}")
        else:
            ensure_dir(self.path.parent)
            ensure_dir(self.layout.dir)
            self._lock.acquire(holder)
        try:
            with paused_gc(freeze=True):
                # A reader uses the catalog as vetted; a writer reads it again under the lock
                # (another writer may have checkpointed between the two).
                self._load(upgrade, vetted if self.read_only else None)
        except StoreDamaged as err:
            raise self.damaged(err) from None
        if not self.read_only:
            if self._replayed:
                self.checkpoint()
            self.journal.open_for_append()
            self._backup()
            if self._rows and not self.layout.index.is_dir():
                self._build_index()  # a store written before the index: once

    def _vet_catalog(self) -> tuple[Any, int | None]:
        """The catalog parsed and its schema version; refuses a file that is not this store's
        catalog: `NotAStore` for another file (some JSON, or not JSON and nothing of a store
        beside it), `StoreDamaged` for a catalog whose letters lie beside it."""
        try:
            parsed = load_json(self.path)
            return parsed, stored_version(parsed, self.layout)
        except StoreDamaged as err:
            if not holds_letters(self.layout) and not self.layout.backups.is_dir():
                problem = str(err.args[0]).rpartition("(")[2].rstrip(")")
                raise NotAStore(
                    f"{self.path} is not an imrgold store ({problem})", path=str(self.path)
                ) from None
            raise self.damaged(err) from None

    def _load(self, upgrade: Upgrade, vetted: tuple[Any, int | None] | None) -> None:
        # The catalog is vetted before anything is written: a foreign file or a damaged catalog
        # is refused here, never migrated or overwritten.
        if vetted is not None:
            parsed, version = vetted
        else:
            parsed = load_json(self.path) if self.path.exists() else None
            version = stored_version(parsed, self.layout)
        if version is not None and version < SCHEMA_VERSION:
            if self.read_only:
                raise StoreError(
                    f"{self.path} is an older store; open it once for writing to upgrade it"
                )
            upgrade(parsed, version)
            parsed = None  # rewritten: read it again
        elif isinstance(parsed, dict) and parsed.get(LETTERS) and not self.layout.records.is_dir():
            raise StoreDamaged(
                f"{self.layout.dir} is missing but {self.path} lists "
                f"{len(parsed[LETTERS])} letters (moved or deleted?)",
                path=str(self.layout.dir),
            )
        seq, entries = self._read_catalog_and_journal(parsed)
        self._index_catalog()
        self._seq = seq
        self._replayed = [e for e in entries if e.get("seq", 0) > seq]
        for number, entry in enumerate(self._replayed, 1):
            try:
                op = decode(entry)
            except ValueError as err:
                raise StoreDamaged(
                    f"{self.journal.path} is damaged (entry {number} after the checkpoint: {err})",
                    path=str(self.journal.path),
                ) from None
            self._apply(entry["seq"], op)

    def _read_catalog_and_journal(self, parsed: Any) -> tuple[int, list[dict[str, Any]]]:
        """The catalog's seq and the journal's entries, read as one consistent pair."""
        for _attempt in range(5):
            self.catalog = open_db(self.path, read_only=self.read_only, preloaded=parsed)
            parsed = None  # a second attempt reads the file again
            seq = self.schema_row()["seq"]
            base, entries = self.journal.read(repair=not self.read_only)
            # A writer's checkpoint between our two reads: the journal moved past our catalog.
            if base <= seq:
                return seq, entries
            if not self.read_only:  # we hold the lock: nobody is writing, the catalog is old
                raise StoreDamaged(
                    f"{self.path} is older than its journal (copied back from a backup?)",
                    path=str(self.path),
                )
        raise StoreError(f"{self.path} kept changing while being opened; try again")

    def schema_row(self) -> dict[str, Any]:
        """The catalog's ``meta`` row: schema version and the checkpoint's seq (not to be
        confused with the key-value table `value` reads)."""
        assert self.catalog is not None
        meta = get_one(self.catalog, META)
        if meta is None:
            # `stored_version` let only a new, empty catalog through without a schema row.
            meta = {"schema_version": SCHEMA_VERSION, "seq": 0, "created_at": now().isoformat()}
            if not self.read_only:
                put_one(self.catalog, META, meta)
                storage(self.catalog).flush()
        version = meta.get("schema_version")
        if not isinstance(version, int) or not isinstance(meta.get("seq"), int):
            raise StoreDamaged(f"{self.path} is damaged (bad meta row)", path=str(self.path))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer imrgold (schema {version}, "
                f"this one reads {SCHEMA_VERSION}); upgrade imrgold"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema {version}; open it for writing to migrate")
        return meta

    def _index_catalog(self) -> None:
        assert self.catalog is not None
        self._rows = {}
        self._summaries = {}
        for doc in self.catalog.table(LETTERS):
            try:
                summary = LetterSummary.model_validate(dict(doc))
            except ValidationError as err:
                raise StoreDamaged(
                    f"{self.path} is damaged (letter row {doc.doc_id}: {validation_problem(err)})",
                    path=str(self.path),
                ) from None
            self._rows[summary.letter_id] = doc.doc_id
            self._summaries[summary.letter_id] = summary
        self._kv = {str(doc.get("key")): doc.doc_id for doc in self.catalog.table(KV)}

    def damaged(self, err: StoreDamaged) -> StoreDamaged:
        """``err`` with the last good backup and the way to repair, still one line."""
        backup = last_good_backup(self.layout)
        hint = f"last good backup: {backup}" if backup else "no backup yet"
        return StoreDamaged(
            f"{err}; {hint}; run `imrgold doctor --repair --db {self.path}`",
            path=err.path,
            backup=str(backup) if backup else None,
        )

    def close(self) -> None:
        with self.mutex:
            if self._closed:
                return
            try:
                if not self.read_only and self.catalog is not None:
                    self.checkpoint()
            finally:
                self.release()

    def release(self) -> None:
        """Let go of the journal and the lock without a checkpoint (as a crash would)."""
        self._closed = True
        self.journal.close()
        self._lock.release()

    # -- reading ----------------------------------------------------------------------------

    def writable(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        if self.read_only:
            raise ReadOnlyStore(f"store {self.path} is open read-only")

    def has(self, letter_id: str) -> bool:
        return letter_id in self._rows

    def known(self, letter_id: str) -> None:
        if letter_id not in self._rows:
            raise UnknownLetter(f"no letter {letter_id} in {self.path}")

    def letter_ids(self) -> list[str]:
        return list(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def row(self, letter_id: str) -> dict[str, Any]:
        """The letter's queue row (read it, never change it)."""
        self.known(letter_id)
        assert self.catalog is not None
        return self.catalog.table(LETTERS).get(doc_id=self._rows[letter_id])  # type: ignore[return-value]

    def rows(self) -> list[dict[str, Any]]:
        """Every queue row, queue order; copies: the caller may write between two of them."""
        assert self.catalog is not None
        return [dict(doc) for doc in self.catalog.table(LETTERS)]

    def summary(self, letter_id: str) -> LetterSummary:
        """The letter's row validated, once (at open, or after the row changes): hand out
        copies."""
        cached = self._summaries.get(letter_id)
        if cached is None:
            cached = LetterSummary.model_validate(dict(self.row(letter_id)))
            self._summaries[letter_id] = cached
        return cached

    def record(self, letter_id: str) -> dict[str, Any]:
        """The letter's record file, parsed (`store.layout` reads it; never change it)."""
        return data(self._record(letter_id))

    def text(self, letter_id: str) -> Any:
        """The letter's text document: journaled, or read from its file (`FileNotFoundError`,
        `StoreDamaged` from the file as they come)."""
        self.known(letter_id)
        pending = self._texts.get(letter_id)
        if pending is not None:
            return pending
        return load_json(self.layout.text(letter_id))

    def text_pending(self, letter_id: str) -> bool:
        """Whether the letter's text is journaled and not yet written to its file."""
        return letter_id in self._texts

    def shard_doc(self, letter_id: str) -> dict[str, Any] | None:
        """The letter's gold shard document (versions by annotator, final), or None."""
        shard = self._shard(letter_id)
        doc_id = self._shard_ids[shard_prefix(letter_id)].get(letter_id)
        return shard.table(SHARD_GOLD).get(doc_id=doc_id) if doc_id else None

    def index_entry(self, letter_id: str) -> dict[str, Any] | None:
        """`store.layout.index_entry_of` the letter's record: from the index while its record
        file is the one the entry was taken from (same size and modification time), else from
        the record (parsed: the slow way, always right).  Read it, never change it."""
        if self._last_entry is not None and self._last_entry[0] == letter_id:
            return self._last_entry[1]
        self.known(letter_id)
        rec = self._records.get(letter_id)  # held: perhaps newer than its file (journaled)
        entry = None if rec is not None else self._indexed(letter_id)
        if entry is None:
            entry = index_entry_of(data(rec if rec is not None else self._record(letter_id)))
        self._last_entry = (letter_id, entry)
        return entry

    def index_annotators(self, letter_id: str) -> list[str] | None:
        """Who made the letter's gold versions (sorted), from the head of its index line (no
        entry parsed); None when the index cannot say (the gold shard then does)."""
        self.known(letter_id)
        body = None if letter_id in self._records else self._indexed_line(letter_id)
        if body is None:
            return None
        try:
            names = parse_json(body.partition(b"\t")[0], self.layout.index_shard(letter_id))
        except StoreDamaged:
            return None
        return names if isinstance(names, list) else None

    def _indexed(self, letter_id: str) -> dict[str, Any] | None:
        body = self._indexed_line(letter_id)
        if body is None:
            return None
        try:
            entry = parse_json(body.partition(b"\t")[2], self.layout.index_shard(letter_id))
        except StoreDamaged:
            return None  # a line cut short: the record is read instead
        # Read lines go (a pass reads each once; the last entry is kept): a shard's lines all
        # read, it is read again when asked, and the index is not held after a pass.
        prefix = shard_prefix(letter_id)
        lines = self._index[prefix]
        del lines[letter_id]
        if not lines:
            del self._index[prefix]
        return entry if isinstance(entry, dict) and entry.keys() >= _ENTRY_KEYS else None

    def _indexed_line(self, letter_id: str) -> bytes | None:
        """The letter's index line past its stamp, while the stamp is its record file's."""
        prefix = shard_prefix(letter_id)
        lines = self._index.get(prefix)
        if lines is None:
            lines = self._index[prefix] = self._read_index(self.layout.index_shard(letter_id))
        line = lines.get(letter_id)
        if line is None:
            return None
        try:
            stat = os.stat(self.layout.record_name(letter_id))
        except OSError:
            return None  # the record says what is wrong
        if (stat.st_size, stat.st_mtime_ns) != line[:2]:
            return None  # written since (by a repair, by hand, by an older imrgold)
        return line[2]

    @staticmethod
    def _read_index(path: Path) -> dict[str, tuple[int, int, bytes]]:
        try:
            return index_lines(path.read_bytes())
        except OSError:
            # Missing (a store written before the index) or unreadable: a cache only costs
            # speed, every letter is then read from its record.
            return {}

    def value(self, key: str, default: Any = None) -> Any:
        """The value under ``key`` in the catalog's key-value table (`SetValue` writes it)."""
        assert self.catalog is not None
        doc_id = self._kv.get(key)
        if doc_id is None:
            return default
        doc = self.catalog.table(KV).get(doc_id=doc_id)
        return doc["value"] if doc else default

    def cached_records(self) -> int:
        """How many record files are held parsed."""
        return len(self._records)

    # -- writing ----------------------------------------------------------------------------

    def commit(self, op: Operation) -> None:
        """Journal ``op`` (durably, unless in a `batch`) and apply it."""
        self.writable()
        if isinstance(op, LetterOperation):
            # Load what the change touches first: a damaged file must stop it before the
            # journal holds a change that could never be applied.
            self._record(op.letter_id, create=True)
            if op.changes_gold:
                self._shard(op.letter_id)
        self._seq += 1
        if self._journaling:
            entry = {"seq": self._seq, "at": now().isoformat(), **op.entry()}
            self.journal.append(entry, durable=self._durable)
        self._apply(self._seq, op)
        if self._journaling and self._journal_full():
            self.checkpoint()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes, one sync at the end: for ingesting or building a store in bulk."""
        self.writable()
        self._durable = False
        try:
            yield
        finally:
            self._durable = True
            os.sync()
            self.journal.sync()

    @contextlib.contextmanager
    def rebuilding(self, **meta: Any) -> Iterator[None]:
        """Maintenance: replace the catalog by an empty one (its schema row holds ``meta``
        besides the schema and seq), apply what is committed inside without journaling or
        syncing each change, and checkpoint once at the end (a migration's bulk load; the old
        files must be out of the way)."""
        self.writable()
        catalog = open_db(self.path, read_only=False)
        storage(catalog).start_empty()
        schema = {"schema_version": SCHEMA_VERSION, "seq": 0, "created_at": now().isoformat()}
        put_one(catalog, META, {**schema, **meta})
        self.catalog, self._rows, self._summaries, self._kv = catalog, {}, {}, {}
        self._journaling, self._durable = False, False
        try:
            yield
            self.checkpoint()
        finally:
            self._journaling, self._durable = True, True

    def checkpoint(self) -> None:
        """Write every changed TinyDB file atomically, then start an empty journal."""
        with self.mutex:
            self.writable()
            assert self.catalog is not None
            if not self._changed_since_checkpoint():
                return  # spare the fsyncs
            indexed = self._write_changed_files()
            # The catalog goes last: its seq says the records and shards above are complete.
            storage(self.catalog).flush()
            self.journal.reset(self._seq)
            self._replayed = []
            self._write_index(indexed)
            self._evict()

    def _write_changed_files(self) -> dict[str, bytes | None]:
        """Writes them; returns the index lines of the records written (None: no entry)."""
        indexed: dict[str, bytes | None] = {}
        folders: set[Path] = set()
        for lid, text in sorted(self._texts.items()):
            path = self.layout.text(lid)
            atomic_write(path, dumps(text), durable=self._durable, sync_dir=False)
            folders.add(path.parent)
        for lid in sorted(self._dirty_records):
            storage(self._records[lid]).flush(durable=self._durable, sync_dir=False)
            folders.add(self.layout.record(lid).parent)
            indexed[lid] = self._index_line(lid, data(self._records[lid]))
        for prefix in sorted(self._dirty_shards):
            storage(self._shards[prefix]).flush(durable=self._durable, sync_dir=False)
            folders.add(self.layout.gold)
        self._texts.clear()
        self._dirty_records.clear()
        self._dirty_shards.clear()
        if self._durable:
            for folder in sorted(folders):
                fsync_dir(folder)
        else:
            os.sync()
        return indexed

    def _index_line(self, lid: str, record: dict[str, Any]) -> bytes | None:
        """The index line of ``record``, just written to its file (stamped with that file)."""
        entry = index_entry_of(record)
        if entry is None:
            return None
        stat = os.stat(self.layout.record(lid))
        names = sorted(entry["gold"]["versions"])
        return index_line(lid, stat.st_size, stat.st_mtime_ns, names, dumps(entry))

    def _write_index(self, indexed: dict[str, bytes | None]) -> None:
        """Each index shard with a line of ``indexed`` rewritten with it.  Not synced: after a
        crash a line that outlived its record's write (or the reverse) does not match the
        record file, and the record is read instead."""
        by_prefix: dict[str, list[str]] = {}
        for lid in indexed:
            by_prefix.setdefault(shard_prefix(lid), []).append(lid)
        for prefix, lids in sorted(by_prefix.items()):
            path = self.layout.index_shard(lids[0])
            lines = {lid: stamped_line(lid, *line) for lid, line in self._read_index(path).items()}
            for lid in lids:
                line = indexed[lid]
                if line is None:
                    lines.pop(lid, None)
                else:
                    lines[lid] = line
            ensure_dir(self.layout.index)
            atomic_write(path, b"".join(lines.values()), durable=False)
            self._index.pop(prefix, None)  # read again when needed

    def _build_index(self) -> None:
        """Index every letter's record: for a store written before there was an index (or
        before this version of it, whose folder goes: the index is the engine's own cache)."""
        for stale in self.layout.stale_indexes():
            shutil.rmtree(stale)
        if len(self._rows) >= SAY_INDEXING_FROM:
            # Seconds at 10,000 letters, before a command or the app starts: say why.
            log.warning(
                "imrgold: indexing the %d letter(s) of %s, once (written by an earlier version)",
                len(self._rows),
                self.path,
            )
        indexed: dict[str, bytes | None] = {}
        with paused_gc():
            for lid in self._rows:
                path = self.layout.record(lid)
                try:
                    indexed[lid] = self._index_line(lid, load_json(path))
                except (OSError, StoreDamaged):
                    indexed[lid] = None  # its record says what is wrong when it is read
        self._write_index(indexed)

    def _changed_since_checkpoint(self) -> bool:
        assert self.catalog is not None
        return bool(
            self.journal.count
            or self._replayed
            or self._dirty_records
            or self._dirty_shards
            or self._texts
            or storage(self.catalog).dirty
        )

    def _journal_full(self) -> bool:
        return (
            self.journal.count >= CHECKPOINT_OPS
            or self.journal.size >= CHECKPOINT_BYTES
            or (self._durable and len(self._dirty_records) >= CHECKPOINT_RECORDS)
        )

    def _apply(self, seq: int, op: Operation) -> None:
        assert self.catalog is not None
        if isinstance(op, SetValue):
            self._apply_kv({"key": op.key, "value": op.value})
        else:
            self._apply_letter(seq, op)
        meta = get_one(self.catalog, META) or {}
        put_one(self.catalog, META, {**meta, "seq": seq})
        self._seq = max(self._seq, seq)

    def _apply_letter(self, seq: int, op: LetterOperation) -> None:
        lid = op.letter_id
        self._last_entry = None
        text = op.new_text()
        if text is not None:  # written at the next checkpoint (again, if replayed)
            self._texts[lid] = text
        rec = self._record(lid, create=True)
        # Replaying after a checkpoint that was cut short: this record already has it.
        if record_seq(data(rec)) < seq:
            op.apply(rec, seq)
            self._dirty_records.add(lid)
        if op.changes_gold:
            self._put_shard_doc(lid, shard_doc_of(lid, data(rec), seq))
        self._put_row(lid, row_of(lid, data(rec)))

    def _apply_kv(self, kv: dict[str, Any]) -> None:
        assert self.catalog is not None
        table = self.catalog.table(KV)
        doc_id = self._kv.get(kv["key"])
        if doc_id is None:
            self._kv[kv["key"]] = table.insert(kv)
        else:
            table.upsert(Document(kv, doc_id=doc_id))

    def _put_row(self, lid: str, row: dict[str, Any]) -> None:
        assert self.catalog is not None
        table = self.catalog.table(LETTERS)
        doc_id = self._rows.get(lid)
        self._summaries.pop(lid, None)
        if doc_id is None:
            self._rows[lid] = table.insert(row)
        else:
            table.upsert(Document(row, doc_id=doc_id))

    # -- files and their caches -------------------------------------------------------------

    def _record(self, letter_id: str, *, create: bool = False) -> TinyDB:
        rec = self._records.get(letter_id)
        if rec is not None:
            return rec
        if not create:
            self.known(letter_id)
        rec = open_db(self.layout.record(letter_id), read_only=self.read_only)
        try:
            rec.storage.read()
        except StoreDamaged as err:
            raise self.damaged(err) from None
        # Readers too keep at most CACHE_RECORDS records: an export of every letter's spans
        # would otherwise hold the whole store in memory.
        self._evict()
        self._records[letter_id] = rec
        return rec

    def _evict(self) -> None:
        # Changed records stay until the checkpoint writes them: only the others are counted.
        if len(self._records) > CACHE_RECORDS + len(self._dirty_records):
            for lid in [k for k in self._records if k not in self._dirty_records]:
                del self._records[lid]

    def _shard(self, letter_id: str) -> TinyDB:
        prefix = shard_prefix(letter_id)
        if prefix not in self._shards:
            if not self._prefetched:
                self._prefetch_shards()
            if prefix not in self._shards:
                self._load_shard(prefix)
        return self._shards[prefix]

    def _prefetch_shards(self) -> None:
        """Load every gold shard in one pass, the first time any is needed.

        Whoever reads one gold record usually reads many (export, agreement, review), and one
        pass with the collector paused costs a fraction of 256 lazy loads interleaved with the
        caller's own allocations.  A damaged shard is left to fail when its letters are read.
        """
        self._prefetched = True
        if not self.layout.gold.is_dir():
            return
        with paused_gc(freeze=True):
            for path in self.layout.gold.glob("*.json"):
                with contextlib.suppress(StoreDamaged):
                    self._load_shard(path.stem)

    def _load_shard(self, prefix: str) -> None:
        path = self.layout.shard(prefix)
        shard = open_db(path, read_only=self.read_only)
        try:
            ids = {d["letter_id"]: d.doc_id for d in shard.table(SHARD_GOLD)}
        except StoreDamaged as err:
            raise self.damaged(err) from None
        except (KeyError, TypeError):
            raise self.damaged(
                StoreDamaged(f"{path} is damaged (bad gold row)", path=str(path))
            ) from None
        self._shards[prefix] = shard
        self._shard_ids[prefix] = ids

    def _put_shard_doc(self, lid: str, doc: dict[str, Any]) -> None:
        shard = self._shard(lid)
        prefix = shard_prefix(lid)
        ids = self._shard_ids[prefix]
        if lid in ids:
            shard.table(SHARD_GOLD).upsert(Document(doc, doc_id=ids[lid]))
        else:
            ids[lid] = shard.table(SHARD_GOLD).insert(doc)
        self._dirty_shards.add(prefix)

    def _backup(self) -> None:
        """Copy the catalog and gold shards: small, and all a rebuild cannot recover.

        A file unchanged since the previous backup is hard-linked to that backup's copy rather
        than copied again (never to the live file, which a hand edit could change in place),
        and when nothing changed no new backup is taken, so opening stays quick at 10,000
        letters.
        """
        previous = next(iter(self.layout.backup_dirs()), None)
        files = [self.path]
        if self.layout.gold.is_dir():
            files += sorted(self.layout.gold.glob("*.json"))

        def kept(live: Path) -> Path | None:
            if previous is None:
                return None
            old = previous / live.relative_to(
                self.path.parent if live == self.path else self.layout.dir
            )
            return old if _same_file_content(live, old) else None

        olds = [kept(f) for f in files]
        if previous is not None and all(olds):
            n_before = len(self.layout.backup_shards(previous))
            if n_before == len(files) - 1:
                return
        stamp = now().strftime("%Y%m%dT%H%M%S.%fZ")
        target = ensure_dir(ensure_dir(self.layout.backups) / stamp)
        for live, old in zip(files, olds, strict=True):
            copy = target / (live.name if live == self.path else live.relative_to(self.layout.dir))
            ensure_dir(copy.parent)
            if old is not None:
                os.link(old, copy)
            else:
                copy_private(live, copy)
        for old_backup in self.layout.backup_dirs()[KEEP_BACKUPS:]:
            shutil.rmtree(old_backup, ignore_errors=True)


def _same_file_content(live: Path, copy: Path) -> bool:
    """The copy was taken of this very version: our writes always make a new file (rename)."""
    try:
        a, b = live.stat(), copy.stat()
    except OSError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns
