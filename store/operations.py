"""The store's operations: one frozen dataclass per kind of change.

A call of the store's domain API (`store.store`) builds one operation; the engine
(`store.engine`) journals it and applies it to the letter's record file.  Replaying the journal
decodes each line back into its operation, so live writes, crash recovery and read-only readers
apply the very same objects.

The journal's form of an operation (`Operation.entry`, read back by `decode`) is the format
every store since schema 2 has written: a JSON object whose keys say what changes (``letter``,
``text``, ``state``, ``proposal``, ``draft``, ``gold``, ``final``, ``history``, ``kv``) beside the
engine's ``seq`` and ``at``.  It carries no kind: `decode` tells the kind by those keys, in this
one place, so old journals replay unchanged.  The documents inside (a draft, a gold version,
history entries) are the record file's documents, written as they are (see `store.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from tinydb import Query, TinyDB
from tinydb.table import Document

from imrgold.store.layout import (
    DRAFTS,
    FINAL,
    GOLD,
    HISTORY,
    ONE,
    PROPOSAL,
    STATE,
)

Doc = dict[str, Any]

# Keys of a journal line the engine owns: the change's number and when it was made.
_ENGINE_KEYS = frozenset({"seq", "at"})


def put_one(db: TinyDB, table: str, doc: Doc) -> None:
    """Write the row of one-row table ``table``."""
    db.table(table).upsert(Document(doc, doc_id=ONE))


def get_one(db: TinyDB, table: str) -> Doc | None:
    """The row of one-row table ``table``."""
    return db.table(table).get(doc_id=ONE)


@dataclass(frozen=True)
class SetValue:
    """A small JSON value stored under ``key`` in the catalog's key-value table."""

    key: str
    value: Any

    def entry(self) -> Doc:
        return {"kv": {"key": self.key, "value": self.value}}


@dataclass(frozen=True, kw_only=True)
class LetterOperation:
    """A change to one letter's record file: its ``state`` row is merged with the fields
    given, its ``history`` table gets the entries given, and each kind adds its own part."""

    letter_id: str
    state: Doc | None = None
    history: tuple[Doc, ...] = ()
    KEYS: ClassVar[tuple[str, ...]] = ("state", "history")
    """The journal keys of this kind besides ``letter``, in the order they are written."""
    changes_gold: ClassVar[bool] = False
    """Whether the letter's gold shard document changes too."""

    def new_text(self) -> Doc | None:
        """The letter as ingested, for its text file (only when adding or restoring)."""
        return None

    def entry(self) -> Doc:
        out: Doc = {"letter": self.letter_id}
        for key in self.KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    def apply(self, rec: TinyDB, seq: int) -> None:
        """Apply to the letter's record file as change number ``seq``."""
        state = get_one(rec, STATE) or {}
        put_one(rec, STATE, {**state, **(self.state or {}), "seq": seq})
        self._apply_own(rec)
        if self.history:
            rec.table(HISTORY).insert_multiple(list(self.history))

    def _apply_own(self, rec: TinyDB) -> None:
        """What this kind changes besides state and history."""


@dataclass(frozen=True, kw_only=True)
class AddLetter(LetterOperation):
    """A new letter: its text, first state and (optionally) the machine's proposal."""

    text: Doc
    proposal: Doc | None = None
    KEYS = ("text", "state", "proposal")

    def new_text(self) -> Doc | None:
        return self.text

    def _apply_own(self, rec: TinyDB) -> None:
        if self.proposal is not None:
            put_one(rec, PROPOSAL, self.proposal)


@dataclass(frozen=True, kw_only=True)
class RestoreText(LetterOperation):
    """A stored letter's lost or damaged text file, written again."""

    text: Doc
    KEYS = ("text",)

    def new_text(self) -> Doc | None:
        return self.text


@dataclass(frozen=True, kw_only=True)
class PutProposal(LetterOperation):
    """The machine's (new) proposal; history says what it proposes differently."""

    proposal: Doc
    KEYS = ("proposal", "history")

    def _apply_own(self, rec: TinyDB) -> None:
        put_one(rec, PROPOSAL, self.proposal)


@dataclass(frozen=True, kw_only=True)
class SaveDraft(LetterOperation):
    """An annotator's working copy (the draft document names the annotator)."""

    draft: Doc
    KEYS = ("draft", "state", "history")

    def _apply_own(self, rec: TinyDB) -> None:
        _upsert_by_annotator(rec, DRAFTS, self.draft)


@dataclass(frozen=True, kw_only=True)
class MarkGold(LetterOperation):
    """An annotator's gold version, and their draft saying the same."""

    draft: Doc
    gold: Doc
    KEYS = ("draft", "gold", "state", "history")
    changes_gold = True

    def _apply_own(self, rec: TinyDB) -> None:
        _upsert_by_annotator(rec, DRAFTS, self.draft)
        _upsert_by_annotator(rec, GOLD, self.gold)


@dataclass(frozen=True, kw_only=True)
class SetFinal(LetterOperation):
    """The adjudicated or reviewed record that stands for the letter."""

    final: Doc
    KEYS = ("final", "state", "history")
    changes_gold = True

    def _apply_own(self, rec: TinyDB) -> None:
        put_one(rec, FINAL, self.final)


@dataclass(frozen=True, kw_only=True)
class SetStatus(LetterOperation):
    """A change of the letter's state row only (status, comment, who, when)."""


Operation = SetValue | LetterOperation
"""A `SetValue`, or one of the letter's kinds: `AddLetter`, `RestoreText`, `PutProposal`,
`SaveDraft`, `MarkGold`, `SetFinal`, `SetStatus`."""


def _upsert_by_annotator(rec: TinyDB, table: str, doc: Doc) -> None:
    rec.table(table).upsert(doc, Query().annotator == doc["annotator"])


def decode(entry: Doc) -> Operation:
    """The operation of a journal line; `ValueError` when no kind has exactly its keys."""
    body = {k: v for k, v in entry.items() if k not in _ENGINE_KEYS}
    if "kv" in body:
        kv = body["kv"]
        if set(body) != {"kv"} or not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise ValueError("a key-value change must be only that and name its key")
        return SetValue(kv["key"], kv.get("value"))
    kind = _kind_of(body)
    unknown = set(body) - {"letter", *kind.KEYS}
    if unknown or not isinstance(body.get("letter"), str):
        raise ValueError(f"no kind of change has the keys {', '.join(sorted(body))}")
    args = {k: v for k, v in body.items() if k != "letter"}
    if "history" in args:
        args["history"] = tuple(args["history"] or ())
    try:
        return kind(letter_id=body["letter"], **args)
    except TypeError:
        raise ValueError(f"a {kind.__name__} change lacks a part ({', '.join(body)})") from None


def _kind_of(body: Doc) -> type[LetterOperation]:
    """The kind of a letter's change, told by the part only it has."""
    for key, kind in (("gold", MarkGold), ("final", SetFinal), ("draft", SaveDraft)):
        if key in body:
            return kind
    if "text" in body:
        return AddLetter if "state" in body else RestoreText
    if "proposal" in body:
        return PutProposal
    return SetStatus
