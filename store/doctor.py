"""Check a store file by file, and repair what can be repaired without losing a gold record.

The per-letter record files are the truth; the catalog (queue rows) and the gold shards are
derived from them, and the journal holds what a checkpoint has not yet written.  So a repair:

1. moves every damaged file aside (``<name>.damaged-<time>``; nothing is deleted);
2. rebuilds a damaged record from what else knows it: the gold shard (or the newest backup's)
   for its gold versions and final, the old catalog row (or the backup's) for its status;
3. rewrites the catalog and every gold shard from the records, keeping the key-value table;
4. keeps every intact journal line, then opens the store normally, which replays them.

Only drafts, proposals and history of a record that was itself damaged can be lost, and the
report says so.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from imrgold.core.files import move_aside, user_cache_dir, user_config_dir, user_data_dir
from imrgold.core.models import Letter, LetterSummary
from imrgold.store.errors import (
    NotAStore,
    StoreDamaged,
    StoreError,
    StoreLocked,
    validation_problem,
)
from imrgold.store.journal import Journal, decode, encode
from imrgold.store.layout import (
    FINAL,
    GOLD,
    KV,
    LATER_ROW_KEYS,
    LETTERS,
    META,
    ONE,
    SCHEMA_VERSION,
    SHARD_GOLD,
    STATE,
    Layout,
    catalog_seq,
    has_gold,
    holds_letters,
    record_seq,
    row_of,
    shard_doc_of,
    shard_prefix,
    stored_version,
    table,
    version_doc,
)
from imrgold.store.lock import WriterLock
from imrgold.store.storage import (
    DIR_MODE,
    FILE_MODE,
    atomic_write,
    dumps,
    ensure_dir,
    load_json,
    paused_gc,
    tinydb_shaped,
)
from imrgold.store.store import Store


@dataclass
class Problem:
    path: str
    message: str
    repairable: bool = True

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class Report:
    db: Path
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    letters: int = 0
    gold: int = 0

    @property
    def healthy(self) -> bool:
        return not self.problems

    def add(self, path: Path | str, message: str, *, repairable: bool = True) -> None:
        self.problems.append(Problem(str(path), message, repairable))


@dataclass(frozen=True)
class _Digest:
    """What the checks need of a record file: its queue row, gold versions and last change.
    Only this is kept, so checking 10,000 letters holds one record in memory at a time."""

    row: dict[str, Any]
    versions: frozenset[str]
    seq: int


@dataclass
class _Scan:
    """What could be read of a store."""

    catalog: dict[str, Any] | None = None
    texts: dict[str, Path] = field(default_factory=dict)
    records: dict[str, _Digest | None] = field(default_factory=dict)  # None: damaged
    shard_versions: dict[str, frozenset[str]] = field(default_factory=dict)  # letter_id ->
    gold_ids: set[str] = field(default_factory=set)  # letters whose shard doc holds gold
    # The gold shards' whole documents, kept only for a repair (which rebuilds records from them).
    shard_docs: dict[str, dict[str, Any]] | None = None
    damaged_files: list[Path] = field(default_factory=list)
    journal_bad: int = 0
    journal_ids: set[str] = field(default_factory=set)
    journal_base: int | None = None
    old_schema: bool = False
    leftovers: list[Path] = field(default_factory=list)


def check(db: Path) -> Report:
    """Read every file of the store; holds the writer lock meanwhile when it is free, so no
    checkpoint runs mid-check (a writer that holds it is named in ``report.notes``)."""
    layout = Layout(db)
    report = Report(db)
    lock = WriterLock(layout.lock, db)
    if layout.dir.is_dir():
        try:
            lock.acquire("imrgold doctor")
        except StoreLocked as err:
            report.notes.append(f"{err}: changes in progress may show as problems")
    try:
        # Nothing read makes a reference cycle: the collector would only rescan the catalog.
        with paused_gc(freeze=True):
            _scan(layout, report)
    finally:
        lock.release()
    return report


def _scan(layout: Layout, report: Report, *, for_repair: bool = False) -> _Scan:
    """Every file of the store read by the checker of its kind, then checked against each
    other: the records are the truth the queue rows and gold shards must agree with."""
    scan = _Scan(shard_docs={} if for_repair else None)
    rows = _check_catalog(layout, report, scan)
    if rows is None:
        return scan  # not a store this imrgold may read: nothing else is looked at
    _check_texts(layout, report, scan)
    _check_records(layout, report, scan)
    _check_shards(layout, report, scan)
    _check_journal(layout, report, scan)
    _check_files_of_rows(layout, report, scan, rows)
    _check_derived(layout, report, scan, rows)
    _check_modes(layout, report)
    _check_leftovers(layout, report, scan)
    report.letters = len(rows) or len(scan.records)
    report.gold = len(scan.gold_ids)
    return scan


def _check_catalog(layout: Layout, report: Report, scan: _Scan) -> dict[str, Any] | None:
    """The catalog's valid queue rows by letter id; None when the store must not be read
    further (no store, a foreign file, another schema)."""
    if not layout.db.exists():
        if not any(layout.records.glob("*/*.json")):
            report.add(layout.db, "no store here", repairable=False)
            return None
        report.add(layout.db, "missing (the letters' records are there)")
        return {}
    if _foreign(layout, report):
        return None
    scan.catalog = _load_tinydb(layout.db, report, scan)
    if scan.catalog is None:
        return {}
    if not _check_schema(layout, report, scan):
        return None
    rows: dict[str, dict[str, Any]] = {}
    for doc_id, row in table(scan.catalog, LETTERS).items():
        try:
            summary = LetterSummary.model_validate(row)
        except ValidationError as err:
            report.add(layout.db, f"letter row {doc_id} is not valid ({validation_problem(err)})")
            continue
        rows[summary.letter_id] = row
    return rows


def _check_schema(layout: Layout, report: Report, scan: _Scan) -> bool:
    """Whether the catalog's rows are this schema's (else the problem is reported)."""
    try:
        version = stored_version(scan.catalog, layout)
    except NotAStore:
        report.add(layout.db, _FOREIGN, repairable=False)
        return False
    except StoreDamaged as err:
        # Rebuilt from the records beside it; its letter rows still give each one's status.
        report.add(layout.db, str(err).removeprefix(f"{layout.db} is "))
        scan.damaged_files.append(layout.db)
        return True
    if version is not None and version > SCHEMA_VERSION:
        report.add(
            layout.db,
            f"written by a newer imrgold (schema {version}, this one reads {SCHEMA_VERSION}); "
            "upgrade imrgold",
            repairable=False,
        )
        return False
    if version is not None and version < SCHEMA_VERSION:
        report.add(layout.db, f"schema {version}, not {SCHEMA_VERSION}: --repair migrates it")
        scan.old_schema = True
        return False
    return True


def _check_texts(layout: Layout, report: Report, scan: _Scan) -> None:
    for path in sorted(layout.texts.glob("*/*.json")):
        try:
            letter = Letter.model_validate(load_json(path))
        except (StoreDamaged, ValidationError) as err:
            report.add(
                path,
                f"letter text damaged ({_why(err)}; `imrgold ingest` of the original file "
                "restores it)",
                repairable=False,
            )
            continue
        if letter.letter_id != path.stem:
            report.add(path, "letter text holds another letter's id", repairable=False)
            continue
        scan.texts[letter.letter_id] = path


def _check_records(layout: Layout, report: Report, scan: _Scan) -> None:
    for path in sorted(layout.records.glob("*/*.json")):
        record = _load_tinydb(path, report, scan)
        scan.records[path.stem] = None if record is None else _digest(path.stem, record)


def _check_shards(layout: Layout, report: Report, scan: _Scan) -> None:
    for path in sorted(layout.gold.glob("*.json")):
        data = _load_tinydb(path, report, scan)
        for doc in table(data, SHARD_GOLD).values():
            if not isinstance(doc.get("letter_id"), str):
                continue
            lid = doc["letter_id"]
            scan.shard_versions[lid] = frozenset(doc.get("versions") or {})
            if has_gold(doc):
                scan.gold_ids.add(lid)
            else:
                scan.gold_ids.discard(lid)
            if scan.shard_docs is not None:
                scan.shard_docs[lid] = doc


def _check_files_of_rows(layout: Layout, report: Report, scan: _Scan, rows: dict[str, Any]) -> None:
    """Each queue row has its text and record, each record its row, and the catalog is not
    older than the journal."""
    # Letters the journal still holds changes for are only not checkpointed yet, not damaged.
    pending = scan.journal_ids
    for lid in rows.keys() - pending:
        if lid not in scan.texts:
            report.add(
                layout.text(lid),
                "letter text missing (`imrgold ingest` of the original file restores it)",
                repairable=False,
            )
        if lid not in scan.records:
            report.add(layout.record(lid), "record file missing")
    if scan.catalog is None:
        return
    for lid in scan.records.keys() - rows.keys() - pending:
        report.add(layout.db, f"letter {lid[:12]} has a record but no queue row")
    if scan.journal_base is not None and scan.journal_base > catalog_seq(scan.catalog):
        report.add(layout.db, "older than its journal (copied back from a backup?)")


def _check_derived(layout: Layout, report: Report, scan: _Scan, rows: dict[str, Any]) -> None:
    """Queue rows and gold shards say what the records they are derived from say."""
    older = 0
    for lid, digest in scan.records.items():
        if digest is None or lid in scan.journal_ids:
            continue
        if lid in rows:
            older += _check_row(layout, report, lid, digest, rows[lid])
        if digest.versions != scan.shard_versions.get(lid, frozenset()):
            report.add(layout.gold_shard(lid), f"gold versions of {lid[:12]} disagree with record")
    if older:
        report.add(
            layout.db,
            f"{older} queue row(s) written before the queue kept expected corrections and "
            "gold times (the queue cannot order them; --repair fills them in)",
        )


def _check_row(
    layout: Layout, report: Report, lid: str, digest: _Digest, stored: dict[str, Any]
) -> bool:
    """Whether the stored row is an older one (lacking `LATER_ROW_KEYS`); reports a row that
    disagrees with its record."""
    # A row written before "edited" existed lacks it: read as not edited.  One written
    # before the queue's orders lacks their keys: it is older, not wrong.
    row = dict(digest.row)  # the digest's row is what a repair writes: not trimmed
    missing = [k for k in LATER_ROW_KEYS if k not in stored]
    for key in missing:
        row.pop(key)
    if row != {"edited": False, **stored}:
        report.add(layout.db, f"queue row of {lid[:12]} disagrees with its record")
    return bool(missing)


def _check_leftovers(layout: Layout, report: Report, scan: _Scan) -> None:
    scan.leftovers = _leftovers(layout)
    if scan.leftovers:
        report.notes.append(
            f"{len(scan.leftovers)} temporary file(s) left by interrupted writes "
            "(harmless; --repair removes them)"
        )


def _digest(lid: str, record: dict[str, Any]) -> _Digest:
    versions = frozenset(d.get("annotator") for d in table(record, GOLD).values())
    return _Digest(row_of(lid, record), versions, record_seq(record))


def _leftovers(layout: Layout) -> list[Path]:
    """Temporary files of `atomic_write` whose rename never happened: never acknowledged data."""
    found = [p for p in layout.dir.rglob(".*.tmp") if p.is_file()]
    found += [p for p in layout.db.parent.glob(f".{layout.db.name}.*.tmp") if p.is_file()]
    return found


_FOREIGN = "not an imrgold store; doctor leaves it untouched"


def _foreign(layout: Layout, report: Report) -> bool:
    """Whether the file named as the store is some other JSON file (then reported, untouched):
    one that parses but is neither a catalog nor, with letters beside it, a damaged one."""
    try:
        data = load_json(layout.db)
    except (StoreDamaged, OSError):
        return False  # unreadable: `_load_tinydb` reports it
    if tinydb_shaped(data):
        try:
            stored_version(data, layout)
            return False
        except NotAStore:
            pass
        except StoreDamaged:
            return False
    elif holds_letters(layout):
        return False
    report.add(layout.db, _FOREIGN, repairable=False)
    return True


def _load_tinydb(path: Path, report: Report, scan: _Scan) -> dict[str, Any] | None:
    try:
        data = load_json(path)
    except StoreDamaged as err:
        report.add(path, str(err).removeprefix(f"{path} is "))
        scan.damaged_files.append(path)
        return None
    if not tinydb_shaped(data):
        report.add(path, "not a TinyDB table layout (edited by hand?)")
        scan.damaged_files.append(path)
        return None
    return data


def _check_journal(layout: Layout, report: Report, scan: _Scan) -> None:
    if not layout.journal.exists():
        return
    lines = layout.journal.read_bytes().splitlines(keepends=True)
    entries = [decode(line) for line in lines]
    if entries and entries[0] and "base" in entries[0]:
        scan.journal_base = int(entries[0]["base"])
    scan.journal_ids = {e["letter"] for e in entries if e and e.get("letter")}
    try:
        Journal(layout.journal).read()
    except StoreDamaged as err:
        scan.journal_bad = sum(1 for e in entries if e is None)
        report.add(layout.journal, f"{scan.journal_bad} of {len(lines)} lines altered ({err})")


def _check_modes(layout: Layout, report: Report) -> None:
    for root, dirs, files in os.walk(layout.dir):
        # One stat an entry (20,000 of them at 10,000 letters), and no Path unless reported.
        for names, wanted, kind in ((dirs, DIR_MODE, "folder"), (files, FILE_MODE, "file")):
            for name in names:
                mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
                if mode != wanted:
                    report.add(Path(root, name), f"{kind} mode {mode:o}, not {wanted:o}")
    if layout.db.exists() and stat.S_IMODE(layout.db.stat().st_mode) != FILE_MODE:
        report.add(layout.db, f"file mode {stat.S_IMODE(layout.db.stat().st_mode):o}, not 600")
    for path, wanted in _user_files():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != wanted:
            kind = "folder" if wanted == DIR_MODE else "file"
            report.add(path, f"{kind} mode {mode:o}, not {wanted:o} (others may read it)")


def _user_files() -> list[tuple[Path, int]]:
    """The user's own imrgold folders (learned drug names, caches, keymap) and the files directly
    in them, with the mode each should have: an older version, or a command run before the
    first store, may have made them with the umask's 0755."""
    found = []
    for folder in {user_data_dir(), user_cache_dir(), user_config_dir()}:
        if not folder.is_dir() or folder.is_symlink():
            continue
        found.append((folder, DIR_MODE))
        for entry in folder.iterdir():
            if entry.is_file() and not entry.is_symlink():
                found.append((entry, FILE_MODE))
    return sorted(found)


# -- repair ---------------------------------------------------------------------------------------


def repair(db: Path) -> Report:
    """Repair ``db`` in place; the report lists what was found, done and lost."""
    layout = Layout(db)
    if db.exists() and not layout.dir.exists():
        report = Report(db)
        if _foreign(layout, report):
            return report  # before any folder or lock is made beside it
    ensure_dir(layout.dir)
    lock = WriterLock(layout.lock, db)
    lock.acquire("imrgold doctor")
    try:
        report = Report(db)
        scan = _scan(layout, report, for_repair=True)
        for path in scan.leftovers:
            path.unlink(missing_ok=True)
            report.repaired.append(f"removed {path.name}, left by an interrupted write")
        if report.healthy or not any(p.repairable for p in report.problems):
            return report
        if scan.old_schema:
            report.repaired.append("migrated to the current schema (the old file is backed up)")
        else:
            _rebuild(layout, scan, report)
    finally:
        lock.release()
    try:
        Store.open(db, annotator="imrgold doctor").close()
    except StoreError as err:
        report.add(db, f"still does not open: {err}", repairable=False)
        return report
    after = check(db)
    report.problems = after.problems
    report.letters, report.gold = after.letters, after.gold
    return report


def _rebuild(layout: Layout, scan: _Scan, report: Report) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = _newest_backup(layout)
    old_rows = _rows(scan.catalog) or _rows(backup.get("catalog")) or {}
    for path in scan.damaged_files:
        aside = move_aside(path)
        report.repaired.append(f"moved damaged {path} to {aside.name}")
    shard_docs = {**backup.get("shards", {}), **(scan.shard_docs or {})}
    # The index is a cache of the records about to be rewritten: the open after the repair
    # builds it again (its lines would not match them anyway, unless written in the same tick).
    if layout.index.is_dir():
        shutil.rmtree(layout.index)
    # Every letter anything still knows of: a gold version alone is reason enough to keep one.
    ids = set(scan.records) | set(scan.texts) | set(old_rows) | set(shard_docs)
    for lid in sorted(ids):
        digest = scan.records.get(lid)
        if digest is None:
            record = _reconstruct(lid, scan, old_rows.get(lid), shard_docs.get(lid))
            atomic_write(layout.record(lid), dumps(record))
            what = "gold versions and status" if shard_docs.get(lid) else "status"
            report.repaired.append(f"rebuilt record of {lid[:12]} from its {what}")
            if lid in scan.records:
                report.lost.append(f"{lid[:12]}: proposal, drafts and history")
            scan.records[lid] = _digest(lid, record)
    _write_shards(layout, sorted(scan.records))
    kv = table(scan.catalog or backup.get("catalog"), KV)
    # New changes must number after everything any record has seen, and every journal entry
    # after the last complete checkpoint must replay: the journal's base is that point.
    base = scan.journal_base
    if base is None:
        base = max((d.seq for d in scan.records.values() if d is not None), default=0)
    rows = {
        str(i): d.row for i, (lid, d) in enumerate(sorted(scan.records.items()), 1) if d is not None
    }
    catalog = {
        META: {str(ONE): {"schema_version": SCHEMA_VERSION, "seq": base, "rebuilt_at": stamp}},
        LETTERS: rows,
        KV: kv,
    }
    atomic_write(layout.db, dumps(catalog))
    report.repaired.append(f"rebuilt {layout.db.name} from {len(rows)} records")
    _keep_good_journal_lines(layout, base)
    if scan.journal_bad:
        report.repaired.append(f"dropped {scan.journal_bad} altered journal lines")
        report.lost.append(f"{scan.journal_bad} journal entries (changes since the last save)")
    _fix_modes(layout, report)


def _reconstruct(
    lid: str, scan: _Scan, row: dict[str, Any] | None, shard: dict[str, Any] | None
) -> dict[str, Any]:
    name = (row or {}).get("name")
    if name is None and lid in scan.texts:
        name = Letter.model_validate(load_json(scan.texts[lid])).name
    state = {k: (row or {}).get(k) for k in ("status", "comment", "annotator", "updated_at")}
    status = state["status"] or ("gold" if shard and shard.get("versions") else "new")
    state.update({"name": name or lid, "status": status, "seq": 0})
    record: dict[str, Any] = {STATE: {str(ONE): state}}
    if shard:
        versions = shard.get("versions") or {}
        record[GOLD] = {
            str(i): version_doc(a, v["record"], v["at"])
            for i, (a, v) in enumerate(sorted(versions.items()), 1)
        }
        if shard.get("final"):
            record[FINAL] = {str(ONE): shard["final"]}
    return record


def _write_shards(layout: Layout, ids: list[str]) -> None:
    """Every gold shard from the records of ``ids`` (sorted), read again one at a time and
    written shard by shard: the whole store's gold is never in memory at once."""
    for prefix, lids in itertools.groupby(ids, key=shard_prefix):
        docs: dict[str, Any] = {}
        for lid in lids:
            record = load_json(layout.record(lid))
            if record:
                docs[str(len(docs) + 1)] = shard_doc_of(lid, record, 0)
        if docs:
            atomic_write(layout.shard(prefix), dumps({SHARD_GOLD: docs}))


def _keep_good_journal_lines(layout: Layout, base: int) -> None:
    if not layout.journal.exists():
        return
    lines = layout.journal.read_bytes().splitlines(keepends=True)
    good = [e for line in lines if (e := decode(line)) is not None and "base" not in e]
    atomic_write(layout.journal, encode({"base": base}) + b"".join(encode(e) for e in good))


def _fix_modes(layout: Layout, report: Report) -> None:
    for root, dirs, files in os.walk(layout.dir):
        for name in dirs:
            os.chmod(Path(root, name), DIR_MODE)
        for name in files:
            os.chmod(Path(root, name), FILE_MODE)
    os.chmod(layout.dir, DIR_MODE)
    if layout.db.exists():
        os.chmod(layout.db, FILE_MODE)
    for path, wanted in _user_files():
        if stat.S_IMODE(path.stat().st_mode) != wanted:
            os.chmod(path, wanted)
            report.repaired.append(f"{path}: mode {wanted:o}")


def _newest_backup(layout: Layout) -> dict[str, Any]:
    """The newest backup's catalog and gold shard docs that parse."""
    out: dict[str, Any] = {}
    for folder in layout.backup_dirs():
        try:
            out["catalog"] = load_json(folder / layout.db.name)
        except (OSError, StoreDamaged):
            continue
        shards: dict[str, Any] = {}
        for path in layout.backup_shards(folder):
            try:
                for doc in table(load_json(path), SHARD_GOLD).values():
                    shards[doc["letter_id"]] = doc
            except (OSError, StoreDamaged, AttributeError, KeyError):
                continue
        out["shards"] = shards
        return out
    return out


def _rows(catalog: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    if not catalog:
        return {}
    return {
        r["letter_id"]: r
        for r in table(catalog, LETTERS).values()
        if isinstance(r, dict) and isinstance(r.get("letter_id"), str)
    }


def _why(err: Exception) -> str:
    return validation_problem(err) if isinstance(err, ValidationError) else str(err)
