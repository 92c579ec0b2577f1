"""The on-disk layout of a store: where its files live and what their records hold.

This is the one module that knows the layout; the engine (`store.engine`), the migrations and
the doctor read and build records only through it.  Everything here is a pure function of a path
or of a file's parsed JSON (TinyDB's own format: ``{table: {doc_id: document}}``).

The store path the user names (``imrgold.json``) is the *catalog*: one TinyDB file with the queue
(table ``letters``: one summary row per letter), the schema row (table ``meta``) and a small
key-value table (``kv``), small enough to open in a blink at 10,000 letters.  Beside it,
``imrgold.d/`` holds what would make that file large:

- ``texts/ab/<letter_id>.json``   the letter as ingested, written once;
- ``records/ab/<letter_id>.json`` a TinyDB per letter: tables ``state``, ``proposal``, ``drafts``,
  ``gold``, ``final``, ``history``;
- ``gold/ab.json``                the gold versions again, sharded (table ``gold``, one document
  per letter), so exporting reads 256 files;
- ``index-2/ab.json``             what a pass over every letter reads of its record (the
  machine's values, the history without the values changed, the gold versions validated and
  flattened), a line a letter, each stamped
  with its record file's size and modification time (`index_line`): a cache the engine writes
  with the records, trusted only while the record file is the one it was taken from;
- ``journal``                     the write-ahead journal (see `store.journal`);
- ``lock``                        who holds the single-writer lock;
- ``backups/<time>/``             copies of the catalog and gold shards taken at each open.

One-row tables (``meta``, ``state``, ``proposal``, ``final``) keep their row at doc id `ONE`.
The queue row and the gold shard document of a letter are derived from its record file
(`row_of`, `shard_doc_of`), so they can always be rebuilt from the records.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from imrgold.core.models import GoldRecord, Proposal, flatten
from imrgold.core.progress import expected_corrections
from imrgold.store.errors import NotAStore, StoreDamaged
from imrgold.store.storage import dumps, load_json, tinydb_shaped

SCHEMA_VERSION = 2

ONE = 1
"""Doc id of the row of a one-row table."""

# Tables of the catalog.
META, LETTERS, KV = "meta", "letters", "kv"
# Tables of a letter's record file.
STATE, PROPOSAL, DRAFTS, GOLD, FINAL, HISTORY = (
    "state",
    "proposal",
    "drafts",
    "gold",
    "final",
    "history",
)
INDEX_VERSION = 2
"""What the index's entries hold (`index_entry_of`): change it with them."""
SHARD_GOLD = "gold"
"""The one table of a gold shard."""

LATER_ROW_KEYS = ("decision_date", "expected_corrections", "gold_at", "has_gold")
"""Keys of a queue row that rows written before the queue's orders lack (read as unknown)."""

# Schema 1's tables; its letter rows carry the letter's text.
_V1_TABLES = frozenset({"letters", "proposals", "gold", "_default"})


@dataclass(frozen=True)
class Layout:
    db: Path

    @cached_property
    def dir(self) -> Path:
        stem = self.db.stem if self.db.suffix else self.db.name
        return self.db.with_name(f"{stem}.d")

    @cached_property
    def texts(self) -> Path:
        return self.dir / "texts"

    @cached_property
    def records(self) -> Path:
        return self.dir / "records"

    @cached_property
    def gold(self) -> Path:
        return self.dir / "gold"

    @cached_property
    def index(self) -> Path:
        # Named by what its entries hold: another version reads (and builds) its own.
        return self.dir / f"index-{INDEX_VERSION}"

    def stale_indexes(self) -> list[Path]:
        """The index folders other versions wrote (nothing reads them)."""
        return sorted(p for p in self.dir.glob("index-*") if p.is_dir() and p != self.index)

    @cached_property
    def backups(self) -> Path:
        return self.dir / "backups"

    @cached_property
    def journal(self) -> Path:
        return self.dir / "journal"

    @cached_property
    def lock(self) -> Path:
        return self.dir / "lock"

    # One join, not two: a pass over every letter builds these paths tens of thousands of times.
    def text(self, letter_id: str) -> Path:
        return self.texts.joinpath(letter_id[:2], f"{letter_id}.json")

    def record(self, letter_id: str) -> Path:
        return self.records.joinpath(letter_id[:2], f"{letter_id}.json")

    def record_name(self, letter_id: str) -> str:
        """`record` as a string: a pass over every letter stats each record file, and
        pathlib's joins were a tenth of reading its index."""
        return f"{self._records_name}/{letter_id[:2]}/{letter_id}.json"

    @cached_property
    def _records_name(self) -> str:
        return str(self.records)

    def gold_shard(self, letter_id: str) -> Path:
        return self.shard(shard_prefix(letter_id))

    def shard(self, prefix: str) -> Path:
        return self.gold / f"{prefix}.json"

    def index_shard(self, letter_id: str) -> Path:
        return self.index / f"{shard_prefix(letter_id)}.json"

    def backup_shards(self, backup: Path) -> list[Path]:
        """The gold shards copied into ``backup`` (a backup mirrors the store's folder)."""
        return sorted((backup / self.gold.relative_to(self.dir)).glob("*.json"))

    def backup_dirs(self) -> list[Path]:
        """Backups, newest first."""
        if not self.backups.is_dir():
            return []
        return sorted((p for p in self.backups.iterdir() if p.is_dir()), reverse=True)


def shard_prefix(letter_id: str) -> str:
    return letter_id[:2]  # 256 shards: a few dozen letters each


# -- records: parsed TinyDB files ----------------------------------------------------------------


def table(data: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The documents of table ``name`` by doc id (as JSON has them: strings)."""
    return (data or {}).get(name) or {}


def one(data: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The row of one-row table ``name``."""
    return table(data, name).get(str(ONE))


def record_seq(record: dict[str, Any] | None) -> int:
    """The journal seq of the last change applied to a record file."""
    return int((one(record, STATE) or {}).get("seq") or 0)


def catalog_seq(catalog: dict[str, Any] | None) -> int:
    """The journal seq up to which the catalog (and so every file) is complete."""
    return int((one(catalog, META) or {}).get("seq") or 0)


def proposal_doc(proposal: dict[str, Any]) -> dict[str, Any]:
    """The ``proposal`` row of a record: the machine's proposal (a `Proposal` as JSON)."""
    return {"proposal": proposal}


def draft_doc(annotator: str, proposal: dict[str, Any], at: str) -> dict[str, Any]:
    """A row of a record's ``drafts``: an annotator's working copy (a `Proposal` as JSON)."""
    return {"annotator": annotator, "proposal": proposal, "at": at}


def version_doc(annotator: str, record: dict[str, Any], at: str) -> dict[str, Any]:
    """A row of a record's ``gold`` (one an annotator), or its ``final`` row: a `GoldRecord` as
    JSON, whose it is and when it was made."""
    return {"annotator": annotator, "record": record, "at": at}


def draft_of(record: dict[str, Any] | None, annotator: str) -> dict[str, Any] | None:
    """``annotator``'s row of a record's ``drafts``."""
    return next(
        (d for d in table(record, DRAFTS).values() if d.get("annotator") == annotator), None
    )


def has_gold(shard_doc: dict[str, Any] | None) -> bool:
    return bool(shard_doc and (shard_doc.get("versions") or shard_doc.get("final")))


def shard_doc_of(lid: str, record: dict[str, Any] | None, seq: int) -> dict[str, Any]:
    """The gold shard document of a letter, from its record file."""
    versions = {
        d["annotator"]: {"record": d["record"], "at": d["at"]} for d in table(record, GOLD).values()
    }
    return {"letter_id": lid, "seq": seq, "versions": versions, "final": one(record, FINAL)}


def pick(shard_doc: dict[str, Any], annotator: str | None) -> dict[str, Any] | None:
    """The raw gold record of a shard document: ``annotator``'s version, or (None) the final,
    else the latest version."""
    versions = shard_doc.get("versions") or {}
    if annotator is not None:
        version = versions.get(annotator)
        return version["record"] if version else None
    if shard_doc.get("final"):
        return shard_doc["final"]["record"]
    if not versions:
        return None
    return max(versions.values(), key=lambda v: v["at"])["record"]


def machine_values(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The machine proposal's values by field path (None without a proposal); `KeyError`,
    `TypeError` or `AttributeError` for a proposal not shaped as one."""
    doc = one(record, PROPOSAL)
    if not doc:
        return None
    return {str(p): f["value"] for p, f in doc["proposal"]["fields"].items()}


def history_outline(record: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The record's history entries without the values they changed (a status change keeps
    its new status): who did what kind of change when."""
    return [
        {
            k: v
            for k, v in d.items()
            if k not in _CHANGED or (k == "new" and d.get("path") == "status")
        }
        for d in table(record, HISTORY).values()
    ]


_CHANGED = frozenset({"letter_id", "old", "new"})


def gold_flats(record: dict[str, Any] | None) -> dict[str, Any]:
    """The record's gold versions as flat maps (`core.models.flatten` of each validated
    `GoldRecord`), as its gold shard document holds them: ``versions`` by annotator (sorted),
    ``final`` (the final record's, or None) and ``final_by``, ``latest``: whose version
    `pick` takes without a final record (None without versions), and ``times``: when each
    version was made (ISO, by annotator).  `ValidationError`,
    `KeyError` or `TypeError` for a version that is not a record."""
    doc = shard_doc_of("", record, 0)
    versions, final = doc["versions"], doc["final"]
    return {
        "versions": {
            a: flatten(GoldRecord.model_validate(versions[a]["record"])) for a in sorted(versions)
        },
        "final": flatten(GoldRecord.model_validate(final["record"])) if final else None,
        "final_by": final.get("annotator") if final else None,
        "latest": max(versions, key=lambda a: versions[a]["at"]) if versions else None,
        "times": {a: versions[a]["at"] for a in sorted(versions)},
    }


def machine_extractor(record: dict[str, Any] | None) -> str | None:
    """The fingerprint of the extractor that made the record's proposal (None when unknown)."""
    doc = one(record, PROPOSAL)
    found = doc["proposal"].get("extractor") if doc else None
    return found if isinstance(found, str) else None


def index_entry_of(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the index keeps of a record: ``machine`` (`machine_values`), ``extractor``
    (`machine_extractor`), ``history`` (`history_outline`) and ``gold`` (`gold_flats`); None
    for a proposal or a gold version not shaped as one (whoever reads the letter then reads its
    record, and finds the damage)."""
    try:
        return {
            "machine": machine_values(record),
            "extractor": machine_extractor(record),
            "history": history_outline(record),
            "gold": gold_flats(record),
        }
    except (KeyError, TypeError, AttributeError, ValidationError):
        return None


def index_line(
    letter_id: str, size: int, mtime_ns: int, annotators: list[str], entry: bytes
) -> bytes:
    """One letter's line of an index shard: its id, its record file's size and modification
    time, who made its gold versions (JSON), a tab, and its `index_entry_of` (JSON, which holds
    no tab or line break): the annotators alone are read without parsing the entry."""
    return stamped_line(letter_id, size, mtime_ns, dumps(annotators) + b"\t" + entry)


def stamped_line(letter_id: str, size: int, mtime_ns: int, rest: bytes) -> bytes:
    """An index line from its parts as `index_lines` reads them."""
    return b"%s %d %d %s\n" % (letter_id.encode("ascii"), size, mtime_ns, rest)


def index_lines(raw: bytes) -> dict[str, tuple[int, int, bytes]]:
    """An index shard's lines by letter id: ``(size, mtime_ns, rest)``, the rest left
    unparsed (parsed only for the letter read: the whole index parsed would double a pass's
    memory).  A line that is not one is skipped: the index is a cache, and its letter is read
    from its record."""
    out: dict[str, tuple[int, int, bytes]] = {}
    for line in raw.splitlines():
        parts = line.split(b" ", 3)
        if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
            out[parts[0].decode("ascii", "replace")] = (int(parts[1]), int(parts[2]), parts[3])
    return out


def row_of(lid: str, record: dict[str, Any] | None) -> dict[str, Any]:
    """The queue row of a letter, from its record file."""
    state = one(record, STATE) or {}
    view = _view(record)
    golds = [d["at"] for d in table(record, GOLD).values()]
    final = one(record, FINAL)
    return {
        "letter_id": lid,
        "name": state.get("name") or lid,
        "status": state.get("status") or "new",
        "case_number": view.case_number,
        "n_items": view.n_items,
        "decisions": view.decisions,
        "annotator": state.get("annotator"),
        "updated_at": state.get("updated_at"),
        "comment": state.get("comment"),
        "edited": bool(state.get("edited")),
        "decision_date": view.decision_date,
        # A gold record stands: nothing is left to correct.
        "expected_corrections": 0.0 if golds or final else _expected(record),
        "gold_at": max(golds) if golds else None,
        "has_gold": bool(golds or final),
    }


class _View(NamedTuple):
    case_number: str | None
    decision_date: str | None
    n_items: int
    decisions: list[str]


def _view(record: dict[str, Any] | None) -> _View:
    """Case number, decision date, item count and decisions of the letter's most settled
    version."""
    final = one(record, FINAL)
    golds = sorted(table(record, GOLD).values(), key=lambda d: d["at"])
    settled = final["record"] if final else (golds[-1]["record"] if golds else None)
    if settled is not None:
        items = settled.get("items", [])
        decisions = [i["decision"] for i in items if i.get("decision")]
        return _View(
            settled.get("case_number"), settled.get("decision_date"), len(items), decisions
        )
    doc = working_doc(record)
    if doc is None:
        return _View(None, None, 0, [])
    fields = doc["proposal"].get("fields", {})
    indexes = {int(p.split(".")[1]) for p in fields if p.startswith("items.")}
    n_items = max(indexes) + 1 if indexes else 0
    decisions = [
        v for i in range(n_items) if (v := (fields.get(f"items.{i}.decision") or {}).get("value"))
    ]
    return _View(
        (fields.get("case_number") or {}).get("value"),
        (fields.get("decision_date") or {}).get("value"),
        n_items,
        decisions,
    )


def working_doc(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The newest draft document, else the machine's proposal document."""
    drafts = sorted(table(record, DRAFTS).values(), key=lambda d: d["at"])
    return drafts[-1] if drafts else one(record, PROPOSAL)


def _expected(record: dict[str, Any] | None) -> float | None:
    doc = working_doc(record)
    if doc is None:
        return None
    try:
        return expected_corrections(Proposal.model_validate(doc["proposal"]))
    except ValidationError:
        return None  # a damaged record is the doctor's to report; the queue row still stands


# -- what a catalog file is --------------------------------------------------------------------


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
    meta = data.get(META) if isinstance(data, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get(str(ONE)), dict):
        version = meta[str(ONE)].get("schema_version")
        if not isinstance(version, int):
            raise StoreDamaged(f"{path} is damaged (bad schema row)", path=path)
        return version
    if is_schema_1(data):
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


def is_schema_1(data: Any) -> bool:
    if not (tinydb_shaped(data) and set(data) <= _V1_TABLES and {"letters", "gold"} & set(data)):
        return False
    rows = [doc for name in ("letters", "proposals", "gold") for doc in data.get(name, {}).values()]
    letters = data.get("letters", {}).values()
    return all(isinstance(d.get("letter_id"), str) for d in rows) and all(
        isinstance(d.get("text"), str) for d in letters
    )


def last_good_backup(layout: Layout) -> Path | None:
    """The newest backup whose catalog parses."""
    for folder in layout.backup_dirs():
        candidate = folder / layout.db.name
        try:
            load_json(candidate)
        except (OSError, StoreDamaged):
            continue
        return candidate
    return None
