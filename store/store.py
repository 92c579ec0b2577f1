"""The store: letters, proposals, drafts, gold versions and their history, on TinyDB.

Every change is one *operation*: a dict appended to the journal (the commit point, one fsync) and
then applied to in-memory TinyDB files, which a checkpoint writes atomically.  Opening replays the
journal, so the same `_apply` serves live writes, crash recovery and read-only readers.  The queue
row and the gold shard of a letter are derived from its record file when an operation is applied,
so they can always be rebuilt from the records (see `store.doctor`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from tinydb import Query, TinyDB
from tinydb.table import Document

from imrgold.core.files import move_aside, os_problem
from imrgold.core.models import (
    LETTER_STATUSES,
    Change,
    GoldRecord,
    Letter,
    LetterSummary,
    Proposal,
    unflatten,
)
from imrgold.core.queue import GOLD_STATUSES
from imrgold.store import history as hist
from imrgold.store.errors import (
    NotAStore,
    ReadOnlyStore,
    StoreDamaged,
    StoreError,
    UnknownLetter,
)
from imrgold.store.journal import Journal
from imrgold.store.layout import (
    META,
    SCHEMA_VERSION,
    Layout,
    has_gold,
    holds_letters,
    last_good_backup,
    pick,
    record_seq,
    row_of,
    shard_doc_of,
    stored_version,
)
from imrgold.store.lock import WriterLock
from imrgold.store.operations import (
    AddLetter,
    LetterOperation,
    MarkGold,
    Operation,
    PutProposal,
    RestoreText,
    SaveDraft,
    SetFinal,
    SetStatus,
    SetValue,
    decode,
    get_one,
    put_one,
)
from imrgold.store.storage import (
    AtomicJSONStorage,
    StoreDB,
    atomic_write,
    copy_private,
    dumps,
    ensure_dir,
    fsync_dir,
    load_json,
    paused_gc,
)

KEEP_BACKUPS = 5
CHECKPOINT_OPS = 500
CHECKPOINT_BYTES = 8 << 20
# Each changed record costs an fsync at the checkpoint: cap them so no save waits for hundreds.
CHECKPOINT_RECORDS = 128
# Letter records kept parsed: what the interface revisits.  A record is 0.1 MB in memory, and a
# command over every letter reads each once, so more only raises its peak (by 90 MB at 1,024).
_CACHE_RECORDS = 128
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _serialized(method: Callable[..., T]) -> Callable[..., T]:
    """One call at a time per store: the interface may save from a worker thread while it
    reads on another, and a half-applied change must never be seen."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> T:
        with self._mutex:
            return method(self, *args, **kwargs)

    return wrapper


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def open_db(path: Path, *, read_only: bool, preloaded: dict[str, Any] | None = None) -> TinyDB:
    return StoreDB(
        path, storage=AtomicJSONStorage, buffered=True, read_only=read_only, preloaded=preloaded
    )


def storage(db: TinyDB) -> AtomicJSONStorage:
    return db.storage  # type: ignore[return-value]


def default_annotator() -> str:
    name = os.environ.get("IMRGOLD_ANNOTATOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "annotator"


class Store:
    """One store; use `Store.open` (a context manager)."""

    def __init__(self, path: Path, *, read_only: bool, annotator: str | None) -> None:
        self.path = path
        self.layout = Layout(path)
        self.read_only = read_only
        self.annotator = annotator or default_annotator()
        self._lock = WriterLock(self.layout.lock, path)
        self._journal = Journal(self.layout.journal)
        self._catalog: TinyDB | None = None
        self._rows: dict[str, int] = {}
        self._summaries: dict[str, LetterSummary] = {}
        self._kv: dict[str, int] = {}
        self._records: dict[str, TinyDB] = {}
        self._dirty_records: set[str] = set()
        self._shards: dict[str, TinyDB] = {}
        self._shard_ids: dict[str, dict[str, int]] = {}
        self._dirty_shards: set[str] = set()
        self._texts: dict[str, dict[str, Any]] = {}  # journaled, not yet in texts/
        self._seq = 0
        self._durable = True
        self._journaling = True
        self._closed = False
        self._journal_entries: list[dict[str, Any]] = []
        self._mutex = threading.RLock()
        self._prefetched = False
        self.restored_track: str | None = None

    # -- opening and closing ----------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path, *, read_only: bool = False, annotator: str | None = None
    ) -> Store:
        store = cls(Path(path).expanduser(), read_only=read_only, annotator=annotator)
        try:
            store._open()
        except OSError as err:
            # A read-only disk, a folder one may not write, a planted link: one line.
            store._release()
            raise StoreError(f"cannot open the store {store.path}: {os_problem(err)}") from None
        except BaseException:
            store._release()
            raise
        return store

    def _open(self) -> None:
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
            self._lock.acquire(self.annotator)
        try:
            with paused_gc(freeze=True):
                # A reader uses the catalog as vetted; a writer reads it again under the lock
                # (another writer may have checkpointed between the two).
                self._load(vetted if self.read_only else None)
        except StoreDamaged as err:
            raise self.damaged(err) from None
        if not self.read_only:
            if self._journal_entries:
                self.checkpoint()
            self._journal.open_for_append()
            self._backup()

    def _vet_catalog(self) -> tuple[Any, int | None]:
        """The catalog parsed and its schema version; refuses a file that is not this store's
        catalog: `NotAStore` for another file (some JSON, or not JSON and nothing of a store
        beside it), `StoreDamaged` for a catalog whose letters lie beside it."""
        try:
            data = load_json(self.path)
            return data, stored_version(data, self.layout)
        except StoreDamaged as err:
            if not holds_letters(self.layout) and not self.layout.backups.is_dir():
                problem = str(err.args[0]).rpartition("(")[2].rstrip(")")
                raise NotAStore(
                    f"{self.path} is not an imrgold store ({problem})", path=str(self.path)
                ) from None
            raise self.damaged(err) from None

    def _load(self, vetted: tuple[Any, int | None] | None = None) -> None:
        from imrgold.store.migrations import migrate_if_needed

        # The catalog is vetted before anything is written: a foreign file or a damaged catalog
        # is refused here, never migrated or overwritten.
        if vetted is not None:
            data, version = vetted
        else:
            data = load_json(self.path) if self.path.exists() else None
            version = stored_version(data, self.layout)
        if version is not None and version < SCHEMA_VERSION:
            if self.read_only:
                raise StoreError(
                    f"{self.path} is an older store; open it once for writing to upgrade it"
                )
            migrate_if_needed(self, data)
            data = None  # rewritten: read it again
        elif isinstance(data, dict) and data.get("letters") and not self.layout.records.is_dir():
            raise StoreDamaged(
                f"{self.layout.dir} is missing but {self.path} lists "
                f"{len(data['letters'])} letters (moved or deleted?)",
                path=str(self.layout.dir),
            )
        for _attempt in range(5):
            self._catalog = open_db(self.path, read_only=self.read_only, preloaded=data)
            data = None  # a second attempt reads the file again
            meta = self._meta_row()
            base, entries = self._journal.read(repair=not self.read_only)
            # A writer's checkpoint between our two reads: the journal moved past our catalog.
            if base <= meta["seq"]:
                break
            if not self.read_only:  # we hold the lock: nobody is writing, the catalog is old
                raise StoreDamaged(
                    f"{self.path} is older than its journal (copied back from a backup?)",
                    path=str(self.path),
                )
        else:
            raise StoreError(f"{self.path} kept changing while being opened; try again")
        self._index_catalog()
        self._seq = meta["seq"]
        self._journal_entries = [e for e in entries if e.get("seq", 0) > meta["seq"]]
        for number, entry in enumerate(self._journal_entries, 1):
            try:
                op = decode(entry)
            except ValueError as err:
                raise StoreDamaged(
                    f"{self._journal.path} is damaged (entry {number} after the checkpoint: {err})",
                    path=str(self._journal.path),
                ) from None
            self._apply(entry["seq"], op)

    def _meta_row(self) -> dict[str, Any]:
        assert self._catalog is not None
        meta = get_one(self._catalog, META)
        if meta is None:
            # `stored_version` let only a new, empty catalog through without a schema row.
            meta = {"schema_version": SCHEMA_VERSION, "seq": 0, "created_at": now().isoformat()}
            if not self.read_only:
                put_one(self._catalog, META, meta)
                storage(self._catalog).flush()
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
        assert self._catalog is not None
        self._rows = {}
        self._summaries = {}
        for doc in self._catalog.table("letters"):
            try:
                summary = LetterSummary.model_validate(dict(doc))
            except ValidationError as err:
                raise StoreDamaged(
                    f"{self.path} is damaged (letter row {doc.doc_id}: {_first_error(err)})",
                    path=str(self.path),
                ) from None
            self._rows[summary.letter_id] = doc.doc_id
            self._summaries[summary.letter_id] = summary
        self._kv = {str(doc.get("key")): doc.doc_id for doc in self._catalog.table("kv")}

    def damaged(self, err: StoreDamaged) -> StoreDamaged:
        """``err`` with the last good backup and the way to repair, still one line."""
        backup = last_good_backup(self.layout)
        hint = f"last good backup: {backup}" if backup else "no backup yet"
        return StoreDamaged(
            f"{err}; {hint}; run `imrgold doctor --repair --db {self.path}`",
            path=err.path,
            backup=str(backup) if backup else None,
        )

    @_serialized
    def close(self) -> None:
        if self._closed:
            return
        try:
            if not self.read_only and self._catalog is not None:
                self.checkpoint()
        finally:
            self._release()

    def _release(self) -> None:
        self._closed = True
        self._journal.close()
        self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- letters --------------------------------------------------------------------------

    @_serialized
    def add_letter(self, letter: Letter, proposal: Proposal | None = None) -> bool:
        """Store a letter (and its machine proposal, both or neither); False if already present."""
        self._writable()
        if letter.letter_id in self._rows:
            return False
        if proposal is not None and proposal.letter_id != letter.letter_id:
            raise ValueError(f"proposal is for {proposal.letter_id}, not {letter.letter_id}")
        state = {
            "name": letter.name,
            "status": "new",
            "comment": None,
            "annotator": None,
            "updated_at": None,
        }
        self._commit(
            AddLetter(
                letter_id=letter.letter_id,
                text=letter.model_dump(mode="json"),
                state=state,
                proposal=None
                if proposal is None
                else {"proposal": proposal.model_dump(mode="json")},
            )
        )
        return True

    @_serialized
    def restore_text(self, letter: Letter) -> bool:
        """Put back the text of a stored letter whose text file is lost or damaged (from the
        same file ingested again: same bytes, same id); False when the store has it."""
        self._writable()
        self._known(letter.letter_id)
        if letter.letter_id in self._texts:
            return False
        path = self.layout.text(letter.letter_id)
        try:
            Letter.model_validate(load_json(path))
            return False
        except FileNotFoundError:
            pass
        except (OSError, StoreDamaged, ValidationError):
            move_aside(path)  # never overwritten: the damaged file is kept beside, as doctor does
        self._commit(RestoreText(letter_id=letter.letter_id, text=letter.model_dump(mode="json")))
        return True

    def has_letter(self, letter_id: str) -> bool:
        return letter_id in self._rows

    @_serialized
    def get_letter(self, letter_id: str) -> Letter:
        self._known(letter_id)
        pending = self._texts.get(letter_id)
        if pending is not None:
            return Letter.model_validate(pending)
        path = self.layout.text(letter_id)
        try:
            return Letter.model_validate(load_json(path))
        except FileNotFoundError:
            raise self.damaged(StoreDamaged(f"{path} is missing", path=str(path))) from None
        except StoreDamaged as err:
            raise self.damaged(err) from None
        except ValidationError as err:
            raise self.damaged(
                StoreDamaged(f"{path} is damaged ({_first_error(err)})", path=str(path))
            ) from None

    def letter_ids(self) -> list[str]:
        return list(self._rows)

    @_serialized
    def summaries(self) -> list[LetterSummary]:
        """The queue: one row a letter, without loading any letter text."""
        with paused_gc():
            return [self._summary(lid).model_copy() for lid in self._rows]

    @_serialized
    def summary(self, letter_id: str) -> LetterSummary:
        self._known(letter_id)
        return self._summary(letter_id).model_copy()

    def _summary(self, letter_id: str) -> LetterSummary:
        # Validated once (at open, or after the row changes) and handed out as copies.
        cached = self._summaries.get(letter_id)
        if cached is None:
            cached = LetterSummary.model_validate(dict(self._row(letter_id)))
            self._summaries[letter_id] = cached
        return cached

    def __len__(self) -> int:
        return len(self._rows)

    # -- proposals and drafts ---------------------------------------------------------------

    @_serialized
    def put_proposal(self, proposal: Proposal) -> None:
        """Store the machine's proposal for a letter; replacing one records what the machine
        now proposes differently (source ``machine``)."""
        lid = proposal.letter_id
        self._known(lid)
        before = self.get_proposal(lid)
        history: list[dict[str, Any]] = []
        if before is not None:
            changes = hist.diff(hist.proposal_values(before), hist.proposal_values(proposal))
            history = [
                {**h, "source": "machine"}
                for h in self._history(lid, changes, now(), kind="proposal", track="machine")
            ]
        self._commit(
            PutProposal(
                letter_id=lid,
                proposal={"proposal": proposal.model_dump(mode="json")},
                history=tuple(history),
            )
        )

    @_serialized
    def get_proposal(self, letter_id: str) -> Proposal | None:
        doc = get_one(self._record(letter_id), "proposal")
        return self._valid(Proposal, doc, "proposal", lambda: self.layout.record(letter_id))

    @_serialized
    def proposal_values(self, letter_id: str) -> dict[str, Any] | None:
        """The machine proposal's values by field path (what `get_proposal(...).fields` holds
        as ``value``s), without validating its spans and provenance: for reading every
        letter's proposal (stats, agreement), where validating them was most of the time.
        A proposal whose shape is not a proposal's is validated, to name the damage."""
        doc = get_one(self._record(letter_id), "proposal")
        if not doc:
            return None
        try:
            fields = doc["proposal"]["fields"]
            return {str(p): f["value"] for p, f in fields.items()}
        except (KeyError, TypeError, AttributeError):
            proposal = self.get_proposal(letter_id)
            return None if proposal is None else {p: f.value for p, f in proposal.fields.items()}

    @_serialized
    def save_draft(self, proposal: Proposal, *, annotator: str | None = None) -> None:
        """Durably save this annotator's (or ``annotator``'s) working copy; history records
        what changed."""
        lid = proposal.letter_id
        self._known(lid)
        owner = annotator or self.annotator
        before = self._working(lid, owner)
        changes = hist.diff(hist.proposal_values(before), hist.proposal_values(proposal))
        at = now()
        status = self.status(lid)
        history = self._history(lid, changes, at, kind="draft", track=owner)
        if status == "new":
            history += self._history(
                lid, [{"path": "status", "old": status, "new": "in_progress"}], at, kind="status"
            )
        self._commit(
            SaveDraft(
                letter_id=lid,
                draft=self._draft_doc(proposal, at, owner),
                state=self._touch(
                    at,
                    status="in_progress" if status == "new" else status,
                    edited=self._differs_from_gold(lid, owner, proposal, status),
                ),
                history=tuple(history),
            )
        )

    def _differs_from_gold(self, lid: str, owner: str, proposal: Proposal, status: str) -> bool:
        """A gold letter's draft that no longer says what its gold record says: "gold, edited"
        until it is marked gold again or the edits are dropped (the export keeps the gold)."""
        if status not in GOLD_STATUSES:
            return False
        gold = self.get_gold(lid, owner) or self.get_gold(lid)
        return gold is not None and hist.record_values(gold) != hist.proposal_values(proposal)

    @_serialized
    def drop_edits(self, letter_id: str) -> Proposal | None:
        """This annotator's draft of a gold letter back to its gold record's values (spans kept
        where a value is unchanged); returns the draft, None when there is no gold record."""
        lid = letter_id
        gold = self.get_gold(lid, self.annotator) or self.get_gold(lid)
        if gold is None:
            return None
        before = self._working(lid, self.annotator)
        restored = hist.with_values(before, lid, hist.record_values(gold))
        at = now()
        changes = hist.diff(hist.proposal_values(before), hist.proposal_values(restored))
        self._commit(
            SaveDraft(
                letter_id=lid,
                draft=self._draft_doc(restored, at),
                state=self._touch(at, edited=False),
                history=tuple(self._history(lid, changes, at, kind="draft", track=self.annotator)),
            )
        )
        return restored

    @_serialized
    def get_draft(self, letter_id: str, annotator: str | None = None) -> Proposal | None:
        doc = (
            self._record(letter_id)
            .table("drafts")
            .get(Query().annotator == (annotator or self.annotator))
        )
        return self._valid(Proposal, doc, "proposal", lambda: self.layout.record(letter_id))

    @_serialized
    def drafts(self, letter_id: str) -> dict[str, Proposal]:
        """Every annotator's working copy of a letter, by annotator."""
        where = functools.partial(self.layout.record, letter_id)
        docs = sorted(self._record(letter_id).table("drafts"), key=lambda d: str(d["annotator"]))
        return {d["annotator"]: self._valid(Proposal, d, "proposal", where) for d in docs}

    @_serialized
    def working_copy(self, letter_id: str) -> Proposal | None:
        """This annotator's draft, else the machine's proposal."""
        return self._working(letter_id, self.annotator)

    # -- gold -------------------------------------------------------------------------------

    @_serialized
    def mark_gold(self, proposal: Proposal) -> GoldRecord:
        """Validate the proposal as a gold record and store it as this annotator's version."""
        return self._put_gold(proposal, self.annotator, now())

    @_serialized
    def put_gold(
        self, record: GoldRecord, annotator: str, at: dt.datetime | None = None
    ) -> GoldRecord:
        """Store ``record`` as ``annotator``'s gold version, made at ``at`` (default now): a
        version merged from another store keeps its author and its time."""
        return self._put_gold(Proposal.from_record(record), annotator, at or now())

    def _put_gold(self, proposal: Proposal, annotator: str, at: dt.datetime) -> GoldRecord:
        record = proposal.to_record()
        lid = proposal.letter_id
        self._known(lid)
        before = self._working(lid, annotator)
        changes = hist.diff(hist.proposal_values(before), hist.proposal_values(proposal))
        old_status = self.status(lid)
        history = self._history(lid, changes, at, kind="gold", track=annotator, annotator=annotator)
        if old_status != "gold":
            history += self._history(
                lid,
                [{"path": "status", "old": old_status, "new": "gold"}],
                at,
                kind="status",
                annotator=annotator,
            )
        self._commit(
            MarkGold(
                letter_id=lid,
                draft=self._draft_doc(proposal, at, annotator),
                gold={
                    "annotator": annotator,
                    "record": record.model_dump(mode="json"),
                    "at": at.isoformat(),
                },
                state=self._touch(at, status="gold", annotator=annotator, edited=False),
                history=tuple(history),
            )
        )
        return record

    @_serialized
    def gold_times(self, letter_id: str) -> dict[str, dt.datetime]:
        """When each annotator's gold version was made."""
        self._known(letter_id)
        doc = self._shard_doc(letter_id) or {}
        return {
            a: dt.datetime.fromisoformat(v["at"])
            for a, v in sorted(doc.get("versions", {}).items())
        }

    @_serialized
    def get_gold(self, letter_id: str, annotator: str | None = None) -> GoldRecord | None:
        """This annotator's version, or (annotator None) the final, else the latest version."""
        self._known(letter_id)
        doc = self._shard_doc(letter_id)
        if doc is None:
            return None
        raw = pick(doc, annotator)
        if raw is None:
            return None
        return self._valid(
            GoldRecord, {"record": raw}, "record", lambda: self.layout.gold_shard(letter_id)
        )

    @_serialized
    def gold_versions(self, letter_id: str) -> dict[str, GoldRecord]:
        self._known(letter_id)
        doc = self._shard_doc(letter_id) or {}
        return {
            a: self._valid(GoldRecord, v, "record", lambda: self.layout.gold_shard(letter_id))
            for a, v in sorted(doc.get("versions", {}).items())
        }

    @_serialized
    def gold_and_versions(self, letter_id: str) -> tuple[GoldRecord | None, dict[str, GoldRecord]]:
        """`get_gold` and `gold_versions` of a letter in one read, each version validated once
        (the gold record is one of them unless a final record stands)."""
        self._known(letter_id)
        doc = self._shard_doc(letter_id) or {}
        where = functools.partial(self.layout.gold_shard, letter_id)
        raw_versions = doc.get("versions") or {}
        versions = {
            a: self._valid(GoldRecord, v, "record", where) for a, v in sorted(raw_versions.items())
        }
        raw = pick(doc, None) if doc else None
        if raw is None:
            return None, versions
        same = [a for a, v in raw_versions.items() if v.get("record") is raw]
        gold = (
            versions[same[0]] if same else self._valid(GoldRecord, {"record": raw}, "record", where)
        )
        return gold, versions

    @_serialized
    def final_annotator(self, letter_id: str) -> str | None:
        doc = self._shard_doc(letter_id) or {}
        return (doc.get("final") or {}).get("annotator")

    @_serialized
    def set_final(self, letter_id: str, record: GoldRecord, annotator: str | None = None) -> None:
        """Store the adjudicated or reviewed version that stands for the letter."""
        self._known(letter_id)
        if record.letter_id != letter_id:
            raise ValueError(f"record is for {record.letter_id}, not {letter_id}")
        who = annotator or self.annotator
        before = self.get_gold(letter_id)
        changes = hist.diff(hist.record_values(before), hist.record_values(record))
        at = now()
        self._commit(
            SetFinal(
                letter_id=letter_id,
                final={
                    "annotator": who,
                    "record": record.model_dump(mode="json"),
                    "at": at.isoformat(),
                },
                state=self._touch(at, annotator=who),
                history=tuple(
                    self._history(
                        letter_id, changes, at, kind="final", track="final", annotator=who
                    )
                ),
            )
        )

    @_serialized
    def gold_records(
        self, status: str | None = None, annotator: str | None = None
    ) -> list[GoldRecord]:
        """Every letter's gold record (final, else latest; or ``annotator``'s), queue order."""
        keep = None if status is None else status.__eq__
        with paused_gc(freeze=True):
            return [record for _, record in self.gold_entries(keep, annotator)]

    @_serialized
    def gold_entries(
        self,
        keep: Callable[[str], bool] | None = None,
        annotator: str | None = None,
        missing: list[str] | None = None,
    ) -> Iterator[tuple[str, GoldRecord]]:
        """``(status, record)`` for every letter whose status ``keep`` accepts and that has a
        gold record (final, else latest; or ``annotator``'s), queue order, in one pass, one at
        a time (an export streams them: memory stays flat however many letters there are).

        A letter whose status says it has a gold record but whose gold shard lacks it raises
        `StoreDamaged` naming it, or, given a ``missing`` list, is named there and left out.
        """
        assert self._catalog is not None
        # A copy of the rows: the caller may write to the store between two records.
        for row in list(self._catalog.table("letters")):
            if keep is not None and not keep(row["status"]):
                continue
            doc = self._shard_doc(row["letter_id"])
            if annotator is None and row["status"] in GOLD_STATUSES and not has_gold(doc):
                shard = self.layout.gold_shard(row["letter_id"])
                problem = f"{row['name']}: its gold record is missing from {shard}"
                if missing is None:
                    raise self.damaged(StoreDamaged(problem, path=str(shard)))
                missing.append(problem)
                continue
            raw = pick(doc, annotator) if doc else None
            if raw is not None:
                where = functools.partial(self.layout.gold_shard, row["letter_id"])
                record = self._valid(GoldRecord, {"record": raw}, "record", where)
                yield row["status"], record

    # -- status -----------------------------------------------------------------------------

    @_serialized
    def status(self, letter_id: str) -> str:
        return self._row(letter_id)["status"]

    @_serialized
    def set_status(self, letter_id: str, status: str, comment: str | None = None) -> None:
        if status not in LETTER_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(LETTER_STATUSES)}")
        old = self.status(letter_id)
        at = now()
        changes = [{"path": "status", "old": old, "new": status}] if old != status else []
        self._commit(
            SetStatus(
                letter_id=letter_id,
                state={**self._touch(at, status=status), "comment": comment},
                history=tuple(self._history(letter_id, changes, at, kind="status")),
            )
        )

    # -- history ----------------------------------------------------------------------------

    @_serialized
    def history(self, letter_id: str) -> list[Change]:
        path = self.layout.record(letter_id)
        return [
            self._valid(Change, {"c": _change_fields(d)}, "c", lambda: path)
            for d in self._history_docs(letter_id)
        ]

    @_serialized
    def history_entries(self, letter_id: str) -> list[dict[str, Any]]:
        """History with the store's bookkeeping (``kind``, ``track``) beside each change."""
        return [dict(d) for d in self._history_docs(letter_id)]

    @_serialized
    def restore(
        self, letter_id: str, at: int | str | dt.datetime, *, annotator: str | None = None
    ) -> Proposal | GoldRecord:
        """Bring a record back to how it was right after history entry ``at`` (index or time).

        History runs in tracks: each annotator's working copy, and the final record.  The track
        is ``annotator``, else the one entry ``at`` belongs to, else this store's annotator.  It
        comes back as that annotator's draft, or as the final record; the restore is itself
        history, so it can be undone the same way.
        """
        docs = self._history_docs(letter_id)
        cut = _cut(docs, at)
        track = annotator or _track_at(docs, at) or self.annotator
        self.restored_track = track
        later = [d for d in docs[cut:] if d.get("track") == track]
        if track == "final":
            current = self.get_gold(letter_id)
            values = hist.undo(hist.record_values(current), later)
            record = unflatten(letter_id, values)
            if not self.read_only:
                self.set_final(letter_id, record, self.annotator)
            return record
        current_draft = self._working(letter_id, track)
        values = hist.undo(hist.proposal_values(current_draft), later)
        proposal = hist.with_values(current_draft, letter_id, values)
        if not self.read_only:
            self.save_draft(proposal, annotator=track)
        return proposal

    # -- the small key-value table ----------------------------------------------------------

    @_serialized
    def meta(self, key: str, default: Any = None) -> Any:
        assert self._catalog is not None
        doc_id = self._kv.get(key)
        if doc_id is None:
            return default
        doc = self._catalog.table("kv").get(doc_id=doc_id)
        return doc["value"] if doc else default

    @_serialized
    def set_meta(self, key: str, value: Any) -> None:
        """Store a small JSON value under ``key`` (settings, learned aliases, ...)."""
        dumps(value)  # refuse what the journal could not hold before journaling anything
        self._commit(SetValue(key, value))

    # -- durability ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[Store]:
        """Many writes, one sync at the end: for ingesting or building a store in bulk."""
        self._writable()
        self._durable = False
        try:
            yield self
        finally:
            self._durable = True
            os.sync()
            self._journal.sync()

    @_serialized
    def checkpoint(self) -> None:
        """Write every changed TinyDB file atomically, then start an empty journal."""
        self._writable()
        assert self._catalog is not None
        if not self._changed_since_checkpoint():
            return  # spare the fsyncs
        folders: set[Path] = set()
        for lid, text in sorted(self._texts.items()):
            path = self.layout.text(lid)
            atomic_write(path, dumps(text), durable=self._durable, sync_dir=False)
            folders.add(path.parent)
        for lid in sorted(self._dirty_records):
            storage(self._records[lid]).flush(durable=self._durable, sync_dir=False)
            folders.add(self.layout.record(lid).parent)
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
        # The catalog goes last: its seq says the records and shards above are complete.
        storage(self._catalog).flush()
        self._journal.reset(self._seq)
        self._journal_entries = []
        self._evict()

    def _changed_since_checkpoint(self) -> bool:
        assert self._catalog is not None
        return bool(
            self._journal.count
            or self._journal_entries
            or self._dirty_records
            or self._dirty_shards
            or self._texts
            or storage(self._catalog).dirty
        )

    def _commit(self, op: Operation) -> None:
        self._writable()
        if isinstance(op, LetterOperation):
            # Load what the change touches first: a damaged file must stop it before the
            # journal holds a change that could never be applied.
            self._record(op.letter_id, create=True)
            if op.changes_gold:
                self._shard(op.letter_id)
        self._seq += 1
        if self._journaling:
            entry = {"seq": self._seq, "at": now().isoformat(), **op.entry()}
            self._journal.append(entry, durable=self._durable)
        self._apply(self._seq, op)
        if self._journaling and self._journal_full():
            self.checkpoint()

    def _journal_full(self) -> bool:
        return (
            self._journal.count >= CHECKPOINT_OPS
            or self._journal.size >= CHECKPOINT_BYTES
            or (self._durable and len(self._dirty_records) >= CHECKPOINT_RECORDS)
        )

    def _apply(self, seq: int, op: Operation) -> None:
        assert self._catalog is not None
        if isinstance(op, SetValue):
            self._apply_kv({"key": op.key, "value": op.value})
        else:
            self._apply_letter(seq, op)
        meta = get_one(self._catalog, META) or {}
        put_one(self._catalog, META, {**meta, "seq": seq})
        self._seq = max(self._seq, seq)

    def _apply_letter(self, seq: int, op: LetterOperation) -> None:
        lid = op.letter_id
        text = op.new_text()
        if text is not None:  # written at the next checkpoint (again, if replayed)
            self._texts[lid] = text
        rec = self._record(lid, create=True)
        # Replaying after a checkpoint that was cut short: this record already has it.
        if record_seq(storage(rec).read()) < seq:
            op.apply(rec, seq)
            self._dirty_records.add(lid)
        if op.changes_gold:
            self._put_shard_doc(lid, shard_doc_of(lid, storage(rec).read(), seq))
        self._put_row(lid, row_of(lid, storage(rec).read()))

    def _apply_kv(self, kv: dict[str, Any]) -> None:
        assert self._catalog is not None
        table = self._catalog.table("kv")
        doc_id = self._kv.get(kv["key"])
        if doc_id is None:
            self._kv[kv["key"]] = table.insert(kv)
        else:
            table.upsert(Document(kv, doc_id=doc_id))

    def _put_row(self, lid: str, row: dict[str, Any]) -> None:
        assert self._catalog is not None
        table = self._catalog.table("letters")
        doc_id = self._rows.get(lid)
        self._summaries.pop(lid, None)
        if doc_id is None:
            self._rows[lid] = table.insert(row)
        else:
            table.upsert(Document(row, doc_id=doc_id))

    # -- files ------------------------------------------------------------------------------

    def _record(self, letter_id: str, *, create: bool = False) -> TinyDB:
        rec = self._records.get(letter_id)
        if rec is not None:
            return rec
        if not create:
            self._known(letter_id)
        rec = open_db(self.layout.record(letter_id), read_only=self.read_only)
        try:
            rec.storage.read()
        except StoreDamaged as err:
            raise self.damaged(err) from None
        # Readers too keep at most _CACHE_RECORDS records: an export of every letter's spans
        # would otherwise hold the whole store in memory.
        self._evict()
        self._records[letter_id] = rec
        return rec

    def _evict(self) -> None:
        # Changed records stay until the checkpoint writes them: only the others are counted.
        if len(self._records) > _CACHE_RECORDS + len(self._dirty_records):
            for lid in [k for k in self._records if k not in self._dirty_records]:
                del self._records[lid]

    def _shard(self, letter_id: str) -> TinyDB:
        prefix = letter_id[:2]
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
        path = self.layout.gold / f"{prefix}.json"
        shard = open_db(path, read_only=self.read_only)
        try:
            ids = {d["letter_id"]: d.doc_id for d in shard.table("gold")}
        except StoreDamaged as err:
            raise self.damaged(err) from None
        except (KeyError, TypeError):
            raise self.damaged(
                StoreDamaged(f"{path} is damaged (bad gold row)", path=str(path))
            ) from None
        self._shards[prefix] = shard
        self._shard_ids[prefix] = ids

    def _shard_doc(self, letter_id: str) -> dict[str, Any] | None:
        shard = self._shard(letter_id)
        doc_id = self._shard_ids[letter_id[:2]].get(letter_id)
        return shard.table("gold").get(doc_id=doc_id) if doc_id else None

    def _put_shard_doc(self, lid: str, doc: dict[str, Any]) -> None:
        shard = self._shard(lid)
        ids = self._shard_ids[lid[:2]]
        if lid in ids:
            shard.table("gold").upsert(Document(doc, doc_id=ids[lid]))
        else:
            ids[lid] = shard.table("gold").insert(doc)
        self._dirty_shards.add(lid[:2])

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
            n_before = len(list((previous / "gold").glob("*.json")))
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

    # -- helpers ----------------------------------------------------------------------------

    def _valid(self, model: type[M], doc: Any, key: str, where: Callable[[], Path]) -> Any:
        """``model`` from ``doc[key]``; what fails to validate was edited outside the store,
        and the error names the file ``where()`` (only built then: paths are not free)."""
        if not doc:
            return None
        try:
            return model.model_validate(doc[key])
        except (ValidationError, KeyError, TypeError) as err:
            path = where()
            why = _first_error(err) if isinstance(err, ValidationError) else f"no {err}"
            raise self.damaged(
                StoreDamaged(f"{path} is damaged ({model.__name__}: {why})", path=str(path))
            ) from None

    def _writable(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.path} is closed")
        if self.read_only:
            raise ReadOnlyStore(f"store {self.path} is open read-only")

    def _known(self, letter_id: str) -> None:
        if letter_id not in self._rows:
            raise UnknownLetter(f"no letter {letter_id} in {self.path}")

    def _row(self, letter_id: str) -> dict[str, Any]:
        self._known(letter_id)
        assert self._catalog is not None
        return self._catalog.table("letters").get(doc_id=self._rows[letter_id])  # type: ignore[return-value]

    def _working(self, letter_id: str, annotator: str) -> Proposal | None:
        return self.get_draft(letter_id, annotator) or self.get_proposal(letter_id)

    def _draft_doc(
        self, proposal: Proposal, at: dt.datetime, owner: str | None = None
    ) -> dict[str, Any]:
        return {
            "annotator": owner or self.annotator,
            "proposal": proposal.model_dump(mode="json"),
            "at": at.isoformat(),
        }

    def _touch(self, at: dt.datetime, **state: Any) -> dict[str, Any]:
        return {"annotator": self.annotator, "updated_at": at.isoformat(), **state}

    def _history(
        self,
        letter_id: str,
        changes: list[dict[str, Any]],
        at: dt.datetime,
        *,
        kind: str,
        track: str | None = None,
        annotator: str | None = None,
    ) -> list[dict[str, Any]]:
        return [
            {
                "letter_id": letter_id,
                "source": "human",
                "annotator": annotator or self.annotator,
                "at": at.isoformat(),
                "kind": kind,
                "track": track,
                **change,
            }
            for change in changes
        ]

    def _history_docs(self, letter_id: str) -> list[dict[str, Any]]:
        return list(self._record(letter_id).table("history"))


# -- pure functions over raw documents -----------------------------------------------------


def _change_fields(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in Change.model_fields if k in doc}


def _cut(docs: list[dict[str, Any]], at: int | str | dt.datetime) -> int:
    """How many history entries stand at point ``at``."""
    if isinstance(at, int):
        if not -len(docs) <= at < len(docs):
            raise IndexError(f"history has {len(docs)} entries; no entry {at}")
        return (at % len(docs)) + 1
    when = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return sum(1 for d in docs if dt.datetime.fromisoformat(d["at"]) <= when)


def _track_at(docs: list[dict[str, Any]], at: int | str | dt.datetime) -> str | None:
    if isinstance(at, int) and docs:
        return docs[at].get("track")
    return None


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


def _same_file_content(live: Path, copy: Path) -> bool:
    """The copy was taken of this very version: our writes always make a new file (rename)."""
    try:
        a, b = live.stat(), copy.stat()
    except OSError:
        return False
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns
