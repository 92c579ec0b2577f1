"""The store's domain API: letters, proposals, drafts, gold versions and their history.

`Store` turns each call into one typed operation (`store.operations`) and hands it to the engine
(`store.engine`: journal, checkpoints, caches, backups), which makes it durable before the call
returns; reads validate what the engine's files hold into the models of `core.models`.  The
files' layout is `store.layout`'s; this module knows neither TinyDB nor the journal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from imrgold.core import environment
from imrgold.core.files import move_aside
from imrgold.core.models import (
    LETTER_STATUSES,
    Change,
    GoldRecord,
    Letter,
    LetterSummary,
    Proposal,
    flatten,
    unflatten,
)
from imrgold.core.queue import GOLD_STATUSES
from imrgold.store import history as hist
from imrgold.store.engine import Engine, now
from imrgold.store.errors import StoreDamaged, validation_problem
from imrgold.store.layout import (
    DRAFTS,
    HISTORY,
    PROPOSAL,
    SCHEMA_VERSION,
    draft_doc,
    draft_of,
    has_gold,
    history_outline,
    one,
    pick,
    proposal_doc,
    table,
    version_doc,
)
from imrgold.store.migrations import migrate
from imrgold.store.operations import (
    AddLetter,
    MarkGold,
    PutProposal,
    RestoreText,
    SaveDraft,
    SetFinal,
    SetStatus,
    SetValue,
)
from imrgold.store.storage import dumps, load_json, paused_gc

__all__ = ["SCHEMA_VERSION", "GoldFlats", "Restored", "Store", "default_annotator"]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def _serialized(method: Callable[..., T]) -> Callable[..., T]:
    """One call at a time per store (`Engine.mutex`)."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> T:
        with self.engine.mutex:
            return method(self, *args, **kwargs)

    return wrapper


def default_annotator() -> str:
    name = environment.get(environment.Var.ANNOTATOR)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "annotator"


class GoldFlats(NamedTuple):
    """A letter's gold as flat maps (`core.models.flatten`): ``gold``, its settled record's
    (`Store.get_gold`; None without one), ``versions`` by annotator (`Store.gold_versions`),
    and ``final_by``, who made its final record (`Store.final_annotator`)."""

    gold: dict[str, Any] | None
    versions: dict[str, dict[str, Any]]
    final_by: str | None


class Restored(NamedTuple):
    """What `Store.restore` brought back, and as whose: an annotator's draft, or ``"final"``
    for the final record."""

    track: str
    record: Proposal | GoldRecord


class Store:
    """One store; use `Store.open` (a context manager)."""

    def __init__(self, path: Path, *, read_only: bool, annotator: str | None) -> None:
        self.engine = Engine(path, read_only=read_only)
        self.path = path
        self.layout = self.engine.layout
        self.read_only = read_only
        self.annotator = annotator or default_annotator()

    @classmethod
    def open(
        cls, path: str | Path, *, read_only: bool = False, annotator: str | None = None
    ) -> Store:
        store = cls(Path(path).expanduser(), read_only=read_only, annotator=annotator)
        store.engine.open(store.annotator, functools.partial(migrate, store))
        return store

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- letters --------------------------------------------------------------------------

    @_serialized
    def add_letter(self, letter: Letter, proposal: Proposal | None = None) -> bool:
        """Store a letter (and its machine proposal, both or neither); False if already present."""
        self.engine.writable()
        if self.engine.has(letter.letter_id):
            return False
        if proposal is not None and proposal.letter_id != letter.letter_id:
            raise ValueError(f"proposal is for {proposal.letter_id}, not {letter.letter_id}")
        failure = proposal.failure_note if proposal is not None else None
        state = {
            "name": letter.name,
            # The machine proposed nothing: a person is asked to look first, and told why.
            "status": "flagged" if failure else "new",
            "comment": failure,
            "annotator": None,
            "updated_at": None,
        }
        self.engine.commit(
            AddLetter(
                letter_id=letter.letter_id,
                text=letter.model_dump(mode="json"),
                state=state,
                proposal=None
                if proposal is None
                else proposal_doc(proposal.model_dump(mode="json")),
            )
        )
        return True

    @_serialized
    def restore_text(self, letter: Letter) -> bool:
        """Put back the text of a stored letter whose text file is lost or damaged (from the
        same file ingested again: same bytes, same id); False when the store has it."""
        self.engine.writable()
        self.engine.known(letter.letter_id)
        if self.engine.text_pending(letter.letter_id):
            return False
        path = self.layout.text(letter.letter_id)
        try:
            Letter.model_validate(load_json(path))
            return False
        except FileNotFoundError:
            pass
        except (OSError, StoreDamaged, ValidationError):
            move_aside(path)  # never overwritten: the damaged file is kept beside, as doctor does
        self.engine.commit(
            RestoreText(letter_id=letter.letter_id, text=letter.model_dump(mode="json"))
        )
        return True

    def has_letter(self, letter_id: str) -> bool:
        return self.engine.has(letter_id)

    @_serialized
    def get_letter(self, letter_id: str) -> Letter:
        path = self.layout.text(letter_id)
        try:
            return Letter.model_validate(self.engine.text(letter_id))
        except FileNotFoundError:
            raise self.engine.damaged(StoreDamaged(f"{path} is missing", path=str(path))) from None
        except StoreDamaged as err:
            raise self.engine.damaged(err) from None
        except ValidationError as err:
            raise self.engine.damaged(
                StoreDamaged(f"{path} is damaged ({validation_problem(err)})", path=str(path))
            ) from None

    def letter_ids(self) -> list[str]:
        return self.engine.letter_ids()

    @_serialized
    def summaries(self) -> list[LetterSummary]:
        """The queue: one row a letter, without loading any letter text."""
        with paused_gc():
            return [self.engine.summary(lid).model_copy() for lid in self.engine.letter_ids()]

    @_serialized
    def summary(self, letter_id: str) -> LetterSummary:
        self.engine.known(letter_id)
        return self.engine.summary(letter_id).model_copy()

    def __len__(self) -> int:
        return len(self.engine)

    # -- proposals and drafts ---------------------------------------------------------------

    @_serialized
    def put_proposal(self, proposal: Proposal) -> None:
        """Store the machine's proposal for a letter; replacing one records what the machine
        now proposes differently (source ``machine``)."""
        lid = proposal.letter_id
        self.engine.known(lid)
        before = self.get_proposal(lid)
        history: list[dict[str, Any]] = []
        if before is not None:
            changes = hist.diff(hist.proposal_values(before), hist.proposal_values(proposal))
            history = [
                {**h, "source": "machine"}
                for h in self._history(lid, changes, now(), kind="proposal", track="machine")
            ]
        self.engine.commit(
            PutProposal(
                letter_id=lid,
                proposal=proposal_doc(proposal.model_dump(mode="json")),
                history=tuple(history),
            )
        )

    @_serialized
    def get_proposal(self, letter_id: str) -> Proposal | None:
        doc = one(self.engine.record(letter_id), PROPOSAL)
        return self._valid(Proposal, doc, "proposal", lambda: self.layout.record(letter_id))

    @_serialized
    def proposal_values(self, letter_id: str) -> dict[str, Any] | None:
        """The machine proposal's values by field path (what `get_proposal(...).fields` holds
        as ``value``s), without validating its spans and provenance: for reading every
        letter's proposal (stats, agreement), where validating them was most of the time; read
        from the store's index rather than the letter's record (`Engine.index_entry`).
        A proposal whose shape is not a proposal's is validated, to name the damage."""
        entry = self.engine.index_entry(letter_id)
        if entry is not None:
            return entry["machine"]
        proposal = self.get_proposal(letter_id)
        return None if proposal is None else {p: f.value for p, f in proposal.fields.items()}

    @_serialized
    def proposal_extractor(self, letter_id: str) -> str | None:
        """The fingerprint of the extractor that made the letter's proposal
        (`core.machine_cache.fingerprint`, stamped at ingest), None when unknown; from the
        index like `proposal_values`."""
        entry = self.engine.index_entry(letter_id)
        if entry is not None:
            return entry["extractor"]
        proposal = self.get_proposal(letter_id)
        return None if proposal is None else proposal.extractor

    @_serialized
    def save_draft(self, proposal: Proposal, *, annotator: str | None = None) -> None:
        """Durably save this annotator's (or ``annotator``'s) working copy; history records
        what changed."""
        lid = proposal.letter_id
        self.engine.known(lid)
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
        self.engine.commit(
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
        self.engine.commit(
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
        doc = draft_of(self.engine.record(letter_id), annotator or self.annotator)
        return self._valid(Proposal, doc, "proposal", lambda: self.layout.record(letter_id))

    @_serialized
    def drafts(self, letter_id: str) -> dict[str, Proposal]:
        """Every annotator's working copy of a letter, by annotator."""
        where = functools.partial(self.layout.record, letter_id)
        drafts = table(self.engine.record(letter_id), DRAFTS).values()
        docs = sorted(drafts, key=lambda d: str(d["annotator"]))
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
        self.engine.known(lid)
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
        self.engine.commit(
            MarkGold(
                letter_id=lid,
                draft=self._draft_doc(proposal, at, annotator),
                gold=version_doc(annotator, record.model_dump(mode="json"), at.isoformat()),
                state=self._touch(at, status="gold", annotator=annotator, edited=False),
                history=tuple(history),
            )
        )
        return record

    @_serialized
    def gold_times(self, letter_id: str) -> dict[str, dt.datetime]:
        """When each annotator's gold version was made: from the store's index (as
        `gold_flats`), else the gold shard."""
        entry = self.engine.index_entry(letter_id)
        if entry is not None:
            times = entry["gold"]["times"]
        else:
            doc = self.engine.shard_doc(letter_id) or {}
            times = {a: v["at"] for a, v in sorted(doc.get("versions", {}).items())}
        return {a: dt.datetime.fromisoformat(at) for a, at in times.items()}

    @_serialized
    def gold_annotators(self, letter_id: str) -> list[str]:
        """Who made the letter's gold versions (`gold_times`' annotators), from the store's
        index: naming every letter's raters reads no gold shard."""
        names = self.engine.index_annotators(letter_id)
        return list(self.gold_times(letter_id)) if names is None else names

    @_serialized
    def get_gold(self, letter_id: str, annotator: str | None = None) -> GoldRecord | None:
        """This annotator's version, or (annotator None) the final, else the latest version."""
        self.engine.known(letter_id)
        doc = self.engine.shard_doc(letter_id)
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
        self.engine.known(letter_id)
        doc = self.engine.shard_doc(letter_id) or {}
        return {
            a: self._valid(GoldRecord, v, "record", lambda: self.layout.gold_shard(letter_id))
            for a, v in sorted(doc.get("versions", {}).items())
        }

    @_serialized
    def gold_and_versions(self, letter_id: str) -> tuple[GoldRecord | None, dict[str, GoldRecord]]:
        """`get_gold` and `gold_versions` of a letter in one read, each version validated once
        (the gold record is one of them unless a final record stands)."""
        self.engine.known(letter_id)
        doc = self.engine.shard_doc(letter_id) or {}
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
    def gold_flats(self, letter_id: str) -> GoldFlats:
        """`gold_and_versions` and `final_annotator` as flat maps, for a pass over every letter
        (stats, agreement): read from the store's index, where they were validated and
        flattened when the record was written, rather than from the gold shards."""
        entry = self.engine.index_entry(letter_id)
        if entry is None:  # a record not shaped as one: read the slow way
            record, versions = self.gold_and_versions(letter_id)
            flats = {a: flatten(r) for a, r in versions.items()}
            gold = None if record is None else flatten(record)
            return GoldFlats(gold, flats, self.final_annotator(letter_id))
        found = entry["gold"]
        flats, latest = found["versions"], found["latest"]
        gold = found["final"] if found["final"] is not None else flats.get(latest)
        return GoldFlats(gold, flats, found["final_by"])

    @_serialized
    def final_annotator(self, letter_id: str) -> str | None:
        doc = self.engine.shard_doc(letter_id) or {}
        return (doc.get("final") or {}).get("annotator")

    @_serialized
    def set_final(self, letter_id: str, record: GoldRecord, annotator: str | None = None) -> None:
        """Store the adjudicated or reviewed version that stands for the letter."""
        self.engine.known(letter_id)
        if record.letter_id != letter_id:
            raise ValueError(f"record is for {record.letter_id}, not {letter_id}")
        who = annotator or self.annotator
        before = self.get_gold(letter_id)
        changes = hist.diff(hist.record_values(before), hist.record_values(record))
        at = now()
        self.engine.commit(
            SetFinal(
                letter_id=letter_id,
                final=version_doc(who, record.model_dump(mode="json"), at.isoformat()),
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
        for row in self.engine.rows():
            if keep is not None and not keep(row["status"]):
                continue
            doc = self.engine.shard_doc(row["letter_id"])
            if annotator is None and row["status"] in GOLD_STATUSES and not has_gold(doc):
                shard = self.layout.gold_shard(row["letter_id"])
                problem = f"{row['name']}: its gold record is missing from {shard}"
                if missing is None:
                    raise self.engine.damaged(StoreDamaged(problem, path=str(shard)))
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
        return self.engine.row(letter_id)["status"]

    @_serialized
    def set_status(self, letter_id: str, status: str, comment: str | None = None) -> None:
        if status not in LETTER_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(LETTER_STATUSES)}")
        old = self.status(letter_id)
        at = now()
        changes = [{"path": "status", "old": old, "new": status}] if old != status else []
        self.engine.commit(
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
    def history_outline(self, letter_id: str) -> list[dict[str, Any]]:
        """`history_entries` without the values each change replaced or set (a status change
        keeps its new status): who did what kind of change when, for a pass over every letter
        (`stats`), read from the store's index rather than the letter's record."""
        entry = self.engine.index_entry(letter_id)
        if entry is not None:
            return entry["history"]
        return history_outline(self.engine.record(letter_id))

    @_serialized
    def restore(
        self, letter_id: str, at: int | str | dt.datetime, *, annotator: str | None = None
    ) -> Restored:
        """Bring a record back to how it was right after history entry ``at`` (index or time).

        History runs in tracks: each annotator's working copy, and the final record.  The track
        is ``annotator``, else the one entry ``at`` belongs to, else this store's annotator.  It
        comes back as that annotator's draft, or as the final record (which the result names);
        the restore is itself history, so it can be undone the same way.
        """
        docs = self._history_docs(letter_id)
        cut = _cut(docs, at)
        track = annotator or _track_at(docs, at) or self.annotator
        later = [d for d in docs[cut:] if d.get("track") == track]
        if track == "final":
            current = self.get_gold(letter_id)
            values = hist.undo(hist.record_values(current), later)
            record = unflatten(letter_id, values)
            if not self.read_only:
                self.set_final(letter_id, record, self.annotator)
            return Restored(track, record)
        current_draft = self._working(letter_id, track)
        values = hist.undo(hist.proposal_values(current_draft), later)
        proposal = hist.with_values(current_draft, letter_id, values)
        if not self.read_only:
            self.save_draft(proposal, annotator=track)
        return Restored(track, proposal)

    # -- the small key-value table ----------------------------------------------------------

    @_serialized
    def meta(self, key: str, default: Any = None) -> Any:
        """The small JSON value `set_meta` stored under ``key`` (the catalog's key-value
        table, not its ``meta`` schema row, whatever the name says)."""
        return self.engine.value(key, default)

    @_serialized
    def set_meta(self, key: str, value: Any) -> None:
        """Store a small JSON value under ``key`` (settings, learned aliases, ...)."""
        dumps(value)  # refuse what the journal could not hold before journaling anything
        self.engine.commit(SetValue(key, value))

    # -- durability ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[Store]:
        """Many writes, one sync at the end: for ingesting or building a store in bulk."""
        with self.engine.batch():
            yield self

    def checkpoint(self) -> None:
        """Write every changed file atomically, then start an empty journal."""
        self.engine.checkpoint()

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
            why = validation_problem(err) if isinstance(err, ValidationError) else f"no {err}"
            raise self.engine.damaged(
                StoreDamaged(f"{path} is damaged ({model.__name__}: {why})", path=str(path))
            ) from None

    def _working(self, letter_id: str, annotator: str) -> Proposal | None:
        return self.get_draft(letter_id, annotator) or self.get_proposal(letter_id)

    def _draft_doc(
        self, proposal: Proposal, at: dt.datetime, owner: str | None = None
    ) -> dict[str, Any]:
        return draft_doc(owner or self.annotator, proposal.model_dump(mode="json"), at.isoformat())

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
        return list(table(self.engine.record(letter_id), HISTORY).values())


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
