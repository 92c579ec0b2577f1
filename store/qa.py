"""Quality assurance on top of the public `store.Store` API: export selection, review,
adjudication and merging another annotator's store.

Nothing here touches TinyDB directly; it only combines the store's public methods, so the
storage engine stays the store's business.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imrgold.core.models import GoldRecord, Proposal


@contextlib.contextmanager
def open_store(path: Path, *, read_only: bool = False, annotator: str | None = None) -> Iterator:
    from imrgold.store import Store

    store = Store.open(path, read_only=read_only, annotator=annotator)
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class ExportEntry:
    letter_id: str
    record: GoldRecord
    status: str
    proposal: Proposal | None = None


def export_records(
    store,
    *,
    statuses: Iterable[str] | None = None,
    annotator: str | None = None,
    with_proposals: bool = False,
    missing: list[str] | None = None,
) -> Iterator[ExportEntry]:
    """The records an export writes, in the store's queue order, one at a time.

    Without ``annotator`` each letter contributes its final record (the adjudicated one when there
    is one, else its latest version), and letters still waiting for adjudication are left out
    unless ``statuses`` asks for them: their record is not settled yet. With ``annotator``, that
    annotator's own version of every letter they did, whatever its status.  A gold record the
    store has lost raises `StoreDamaged`, or with a ``missing`` list is named there.
    """
    wanted = set(statuses or ())

    def keep(status: str) -> bool:
        if wanted:
            return status in wanted
        return annotator is not None or status != "adjudication"

    for status, record in store.gold_entries(keep, annotator, missing):
        lid = record.letter_id
        proposal = None
        if with_proposals:  # spans only: reading each letter's record file is the slow part
            who = annotator or store.final_annotator(lid) or store.summary(lid).annotator
            proposal = store.get_draft(lid, annotator=who) if who else None
            proposal = proposal or store.get_proposal(lid)
        yield ExportEntry(lid, record, status, proposal)


def awaiting_adjudication(store) -> int:
    return sum(1 for s in store.summaries() if s.status == "adjudication")


DEIDENTIFY_KEY = "deidentify_key"


def deidentify_key(store) -> str:
    """The store's secret for pseudonyms and date offsets, made on first use.

    Kept in the store (not derived from its contents) so pseudonyms stay stable across exports
    of the same store and cannot be recomputed by someone who only has the letters.
    """
    import os
    import secrets

    env = os.environ.get("IMRGOLD_DEIDENTIFY_KEY")
    if env:
        return env
    key = store.meta(DEIDENTIFY_KEY)
    if not key:
        key = secrets.token_hex(32)
        store.set_meta(DEIDENTIFY_KEY, key)
    return key


# ---------------------------------------------------------------------------------------------
# Sampling


def sample_ids(ids: Iterable[str], share: float | None, seed: int | None) -> list[str]:
    """A reproducible share of ``ids`` (at least one when any), in their original order.

    Each id is ranked by a hash of the seed and the id, and the lowest ranks are taken: the
    same ids, share and seed give the same sample on any machine and Python version (unlike
    `random.sample`), whatever order the store lists its letters in, and a letter added later
    displaces at most a few of the chosen ones instead of reshuffling the sample.
    """
    import hashlib
    import secrets

    pool = list(ids)
    if share is None or share >= 1 or not pool:
        return pool
    if share <= 0:
        return []
    salt = str(seed if seed is not None else secrets.randbits(64))
    k = max(1, round(share * len(pool)))

    def rank(letter_id: str) -> str:
        return hashlib.sha256(f"{salt}:{letter_id}".encode()).hexdigest()

    chosen = set(sorted(pool, key=rank)[:k])
    return [i for i in pool if i in chosen]


# ---------------------------------------------------------------------------------------------
# Review: a second person confirms or corrects each field of someone else's gold record.

REVIEWABLE = ("gold", "in_review")


@dataclass
class ReviewSession:
    """One letter under review: the reviewer's verdict on every field path."""

    letter_id: str
    annotator: str
    reviewer: str
    original: dict
    values: dict
    verdicts: dict

    @classmethod
    def start(cls, record: GoldRecord, annotator: str, reviewer: str) -> ReviewSession:
        from imrgold.core.models import flatten

        flat = flatten(record)
        return cls(record.letter_id, annotator, reviewer, flat, dict(flat), {})

    @property
    def paths(self) -> list[str]:
        return list(self.original)

    def confirm(self, path: str) -> None:
        self.values[path] = self.original[path]
        self.verdicts[path] = "confirmed"

    def correct(self, path: str, value) -> None:
        """The reviewer's value; the same as the annotator's counts as a confirmation."""
        if value == self.original[path]:
            self.confirm(path)
            return
        self.values[path] = value
        self.verdicts[path] = "corrected"

    def pending(self) -> list[str]:
        return [p for p in self.paths if p not in self.verdicts]

    @property
    def corrections(self) -> list[str]:
        return [p for p, v in self.verdicts.items() if v == "corrected"]

    def record(self) -> GoldRecord:
        from imrgold.core.models import unflatten

        return unflatten(self.letter_id, self.values)


def reviewable(store, reviewer: str, *, share: float | None = None, seed: int | None = None):
    """``[(letter_id, annotator)]``: gold records made by someone other than ``reviewer`` that
    nobody has reviewed yet, sampled reproducibly when ``share`` is given."""
    found: dict[str, str] = {}
    for summary in store.summaries():
        if summary.status not in REVIEWABLE:
            continue
        versions = store.gold_versions(summary.letter_id)
        others = sorted(a for a in versions if a and a != reviewer)
        if others:
            found[summary.letter_id] = others[0]
    return [(lid, found[lid]) for lid in sample_ids(found, share, seed)]


def finish_review(store, session: ReviewSession) -> str:
    """Record the review; returns the letter's new status.

    All confirmed: the annotator's record becomes final and the letter ``reviewed``. Anything
    corrected: the reviewer's version is kept beside the annotator's and the letter goes to
    ``adjudication``, where someone chooses field by field.
    """
    if session.pending():
        raise ValueError(f"{len(session.pending())} field(s) not reviewed yet")
    if not session.corrections:
        record = store.get_gold(session.letter_id, annotator=session.annotator)
        store.set_final(session.letter_id, record, session.reviewer)
        store.set_status(session.letter_id, "reviewed", f"reviewed by {session.reviewer}")
        return "reviewed"
    store.put_gold(session.record(), session.reviewer)
    fields = ", ".join(session.corrections[:5]) + ("..." if len(session.corrections) > 5 else "")
    store.set_status(
        session.letter_id,
        "adjudication",
        f"{session.reviewer} corrected {len(session.corrections)} field(s) of "
        f"{session.annotator}'s record: {fields}",
    )
    return "adjudication"


# ---------------------------------------------------------------------------------------------
# Adjudication: two (or more) versions side by side, one chosen field by field.

MISSING = "<absent>"
EDITED = "(edited)"
"""The choice of a difference where neither version was right and the adjudicator wrote the
value."""


@dataclass
class AdjudicationRow:
    """One difference: ``path`` is a field path of the adjudicated record (items numbered as in
    the version with most items), or ``items.N`` for an item only some versions have."""

    path: str
    values: dict
    choice: str | None = None
    edited: object = None  # the adjudicator's own value when ``choice`` is `EDITED`

    @property
    def whole_item(self) -> bool:
        return self.path.count(".") == 1 and self.path.startswith("items.")


@dataclass
class AdjudicationSession:
    letter_id: str
    versions: dict  # annotator -> aligned flat values
    slots: int
    rows: list

    @classmethod
    def start(cls, letter_id: str, records: dict) -> AdjudicationSession:
        versions, slots = aligned_versions({a: r for a, r in records.items()})
        return cls(letter_id, versions, slots, _difference_rows(versions, slots))

    @property
    def annotators(self) -> list[str]:
        return sorted(self.versions)

    def choose(self, index: int, annotator: str) -> None:
        if annotator not in self.versions:
            raise ValueError(f"no version by {annotator!r}")
        self.rows[index].choice, self.rows[index].edited = annotator, None

    def write(self, index: int, value) -> None:
        """The adjudicator's own value for a field difference (not for a whole item)."""
        row = self.rows[index]
        if row.whole_item:
            raise ValueError("an item only some versions have is kept or dropped, not rewritten")
        row.choice, row.edited = EDITED, value

    def value_of(self, index: int):
        row = self.rows[index]
        if row.choice == EDITED:
            return row.edited
        return row.values[row.choice] if row.choice else None

    def choose_all(self, annotator: str) -> None:
        for i in range(len(self.rows)):
            self.choose(i, annotator)

    def pending(self) -> list[int]:
        return [i for i, row in enumerate(self.rows) if row.choice is None]

    def record(self) -> GoldRecord:
        """The adjudicated record; every difference must have been chosen."""
        from imrgold.core.models import ITEM_FIELDS, LETTER_FIELDS, item_path, unflatten

        if self.pending():
            raise ValueError(f"{len(self.pending())} difference(s) not chosen yet")
        chosen = {row.path: row.choice for row in self.rows if row.choice != EDITED}
        written = {row.path: row.edited for row in self.rows if row.choice == EDITED}
        first = self.annotators[0]

        def pick(path: str, fallback_owner: str):
            if path in written:
                return written[path]
            return self.versions[chosen.get(path, fallback_owner)].get(path)

        flat = {p: pick(p, first) for p in LETTER_FIELDS}
        kept = 0
        for slot in range(self.slots):
            owners = [a for a in self.annotators if item_path(slot, "request") in self.versions[a]]
            whole = chosen.get(f"items.{slot}")
            if whole is not None and item_path(slot, "request") not in self.versions[whole]:
                continue  # the chosen version has no such item: drop it
            owner = whole or owners[0]
            for name in ITEM_FIELDS:
                flat[item_path(kept, name)] = pick(item_path(slot, name), owner)
            kept += 1
        return unflatten(self.letter_id, flat)


def aligned_versions(records: dict) -> tuple[dict, int]:
    """Each version's flat values with items renumbered to shared slots (see
    `core.agreement.align_items`); an item a version lacks is absent from its values."""
    from imrgold.core.agreement import align_items
    from imrgold.core.models import ITEM_FIELDS, flatten, item_path, split_item_path

    flats = {a: flatten(r) for a, r in records.items()}
    names = sorted(flats)
    if not names:
        return {}, 0
    counts = {a: len(records[a].items) for a in names}
    reference = max(names, key=lambda a: (counts[a], -names.index(a)))
    ref_requests = [i.request for i in records[reference].items]
    out: dict[str, dict] = {}
    slots = len(ref_requests)
    extra: list[tuple[str, int]] = []
    for name in names:
        letter = {p: v for p, v in flats[name].items() if split_item_path(p) is None}
        mapping: dict[int, int] = {}
        if name == reference:
            mapping = {i: i for i in range(slots)}
        else:
            requests = [i.request for i in records[name].items]
            for i, j in align_items(ref_requests, requests):
                if j is None:
                    continue
                if i is None:
                    extra.append((name, j))
                    mapping[j] = slots + len(extra) - 1
                else:
                    mapping[j] = i
        for j, slot in mapping.items():
            for field_name in ITEM_FIELDS:
                letter[item_path(slot, field_name)] = flats[name][item_path(j, field_name)]
        out[name] = letter
    return out, slots + len(extra)


def _difference_rows(versions: dict, slots: int) -> list[AdjudicationRow]:
    from imrgold.core.models import ITEM_FIELDS, LETTER_FIELDS, item_path

    names = sorted(versions)
    rows = []
    for path in LETTER_FIELDS:
        values = {a: versions[a].get(path) for a in names}
        if len({repr(v) for v in values.values()}) > 1:
            rows.append(AdjudicationRow(path, values))
    for slot in range(slots):
        has = {a: item_path(slot, "request") in versions[a] for a in names}
        if not all(has.values()):
            values = {
                a: (versions[a][item_path(slot, "request")] if has[a] else MISSING) for a in names
            }
            rows.append(AdjudicationRow(f"items.{slot}", values))
            continue
        for name in ITEM_FIELDS:
            path = item_path(slot, name)
            values = {a: versions[a].get(path) for a in names}
            if len({repr(v) for v in values.values()}) > 1:
                rows.append(AdjudicationRow(path, values))
    return rows


def versions_differ(records: dict) -> bool:
    return len({r.model_dump_json(exclude={"letter_id"}) for r in records.values()}) > 1


def adjudication_queue(store) -> list[str]:
    return [s.letter_id for s in store.summaries() if s.status == "adjudication"]


def finish_adjudication(store, session: AdjudicationSession, adjudicator: str) -> GoldRecord:
    record = session.record()
    store.set_final(session.letter_id, record, adjudicator)
    store.set_status(
        session.letter_id,
        "reviewed",
        f"adjudicated by {adjudicator} between {', '.join(session.annotators)} "
        f"({len(session.rows)} difference(s))",
    )
    return record


# ---------------------------------------------------------------------------------------------
# Gold versions by name, and merging another annotator's store.


@dataclass
class MergeReport:
    selected: int = 0  # letters the other store holds
    letters_added: int = 0
    proposals_added: int = 0  # to letters an interrupted merge had added without one
    versions_added: int = 0
    versions_same: int = 0
    # (letter_id, annotator, new name) when both stores had that name
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    finals_added: int = 0
    to_adjudication: list[str] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)


def _needs_adjudication(store, letter_id: str) -> bool:
    versions = store.gold_versions(letter_id)
    final = store.get_gold(letter_id) if store.final_annotator(letter_id) else None
    if final is not None:
        return any(r != final for r in versions.values())
    return len(versions) > 1 and versions_differ(versions)


IMPORTED_KEY = "qa.imported_versions"
"""(letter, annotator) pairs whose gold version came from another store: not work done here,
so `stats` leaves them out of letters per hour."""


def merge(target, other, *, source: str = "other") -> MergeReport:
    """Bring ``other``'s letters and gold versions into ``target``.

    Every annotator's version is kept. A letter whose versions now differ (or differ from its
    final record) goes to ``adjudication``; one whose versions all agree keeps its status.
    Same annotator name with a different record in each store: the incoming one is kept as
    ``name@source`` rather than overwriting work.
    """
    # One sync at the end instead of one per version: a merge is a bulk write. An interrupted
    # merge is finished by running it again (versions already present are skipped, and a letter
    # left with differing versions outside adjudication is sent there).
    with target.batch():
        return _merge(target, other, source)


def _merge(target, other, source: str) -> MergeReport:
    report = MergeReport()
    imported = {tuple(x) for x in target.meta(IMPORTED_KEY, [])}
    for summary in other.summaries():
        report.selected += 1
        lid = summary.letter_id
        theirs = other.gold_versions(lid)
        their_times = other.gold_times(lid) if theirs else {}
        if not target.has_letter(lid):
            # Letter and proposal in one operation: a merge killed between them cannot leave a
            # letter without its proposal.
            target.add_letter(other.get_letter(lid), other.get_proposal(lid))
            report.letters_added += 1
        elif target.get_proposal(lid) is None and (proposal := other.get_proposal(lid)):
            # A letter an older, interrupted merge added without its proposal: completed now.
            target.put_proposal(proposal)
            report.proposals_added += 1
        if not theirs:
            continue
        old_status = target.status(lid)
        ours = target.gold_versions(lid)
        added = False
        for annotator, record in theirs.items():
            name = annotator
            if annotator in ours:
                if ours[annotator] == record:
                    report.versions_same += 1
                    continue
                name = f"{annotator}@{source}"
                report.renamed.append((lid, annotator, name))
                if ours.get(name) == record:
                    report.versions_same += 1
                    continue
            target.put_gold(record, name, their_times.get(annotator))
            imported.add((lid, name))
            report.versions_added += 1
            added = True
        their_final = other.final_annotator(lid)
        if their_final and not target.final_annotator(lid):
            target.set_final(lid, other.get_gold(lid), their_final)
            report.finals_added += 1
            added = True
        if not added:
            unsettled = not target.final_annotator(lid) and target.status(lid) != "adjudication"
            if unsettled and _needs_adjudication(target, lid):
                target.set_status(lid, "adjudication", f"merged from {source}: versions differ")
                report.to_adjudication.append(lid)
            continue
        if _needs_adjudication(target, lid):
            target.set_status(
                lid,
                "adjudication",
                f"merged from {source}: versions of {', '.join(target.gold_versions(lid))} differ",
            )
            report.to_adjudication.append(lid)
        else:
            keep = old_status if old_status not in ("new", "in_progress") else "gold"
            if target.final_annotator(lid) and keep == "gold":
                keep = "reviewed"
            target.set_status(lid, keep, f"merged from {source}: versions agree")
            report.agreed.append(lid)
    if report.versions_added:
        target.set_meta(IMPORTED_KEY, sorted(list(x) for x in imported))
    return report


# ---------------------------------------------------------------------------------------------
# Statistics

IDLE_MINUTES = 30
WORK_KINDS = ("draft", "gold", "status")


SESSION_FLOOR_MINUTES = 1.0


def active_hours(times: list, idle_minutes: int = IDLE_MINUTES) -> float:
    """Time spent working: the gaps between consecutive events, a gap longer than
    ``idle_minutes`` counting as a break; each stretch of work counts at least
    `SESSION_FLOOR_MINUTES` (reading the letter before the first edit takes time too)."""
    ordered = sorted(times)
    if not ordered:
        return 0.0
    seconds = 0.0
    sessions = 1
    for a, b in itertools.pairwise(ordered):
        gap = (b - a).total_seconds()
        if gap <= idle_minutes * 60:
            seconds += gap
        else:
            sessions += 1
    return (seconds + sessions * SESSION_FLOOR_MINUTES * 60) / 3600


def _period(at, period: str) -> str:
    if period == "day":
        return at.date().isoformat()
    if period == "month":
        return f"{at.year:04d}-{at.month:02d}"
    year, week, _ = at.isocalendar()
    return f"{year:04d}-W{week:02d}"


@dataclass
class Stats:
    by_status: dict
    by_annotator: dict  # annotator -> {"gold": n, "final": n, "changes": n}
    rates: dict  # annotator -> {"letters": n, "hours": h, "per_hour": r | None}
    accuracy: dict  # period -> field key -> [correct, total]
    # status -> {last annotator to touch the letter: n}
    by_status_annotator: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "by_status": self.by_status,
            "by_status_annotator": self.by_status_annotator,
            "by_annotator": self.by_annotator,
            "letters_per_hour": self.rates,
            "machine_accuracy": {
                period: {
                    k: {"correct": c, "total": t, "accuracy": c / t if t else None}
                    for k, (c, t) in fields.items()
                }
                for period, fields in self.accuracy.items()
            },
        }


def gather_stats(store, *, period: str = "week", idle_minutes: int = IDLE_MINUTES) -> Stats:
    from imrgold.store.storage import paused_gc

    # Every letter's history and proposal pass through: with the collector running, rescanning
    # what is already held cost as much as the reading (they make no reference cycles).
    with paused_gc(freeze=True):
        return _gather_stats(store, period, idle_minutes)


def _gather_stats(store, period: str, idle_minutes: int) -> Stats:
    import datetime as dt
    from collections import Counter, defaultdict

    from imrgold.core.agreement import FIELD_KEYS, flat_of, kind_of, same_value, units
    from imrgold.core.models import flat_values

    imported = {tuple(x) for x in store.meta(IMPORTED_KEY, [])}
    by_status: Counter[str] = Counter()
    by_status_annotator: dict[str, Counter] = defaultdict(Counter)
    by_annotator: dict[str, Counter] = defaultdict(Counter)
    events: dict[str, list] = defaultdict(list)
    letters_done: dict[str, set] = defaultdict(set)
    accuracy: dict[str, dict[str, list[int]]] = {}
    for summary in store.summaries():
        lid = summary.letter_id
        by_status[summary.status] += 1
        by_status_annotator[summary.status][summary.annotator or "-"] += 1
        gold, versions = store.gold_and_versions(lid)
        for annotator in versions:
            by_annotator[annotator]["gold"] += 1
        final_by = store.final_annotator(lid)
        if final_by:
            by_annotator[final_by]["final"] += 1
        first_gold = None
        for entry in store.history_entries(lid):
            who = entry.get("annotator")
            at = dt.datetime.fromisoformat(entry["at"])
            if who and entry.get("kind") != "status":
                by_annotator[who]["changes"] += 1
            if entry.get("kind") == "gold" and first_gold is None:
                first_gold = at
            if who and entry.get("kind") in WORK_KINDS and (lid, who) not in imported:
                events[who].append(at)
                became_gold = entry.get("kind") == "status" and entry.get("new") == "gold"
                if entry.get("kind") == "gold" or became_gold:
                    letters_done[who].add(lid)
        if gold is None or summary.status == "adjudication":
            continue
        proposal = store.proposal_values(lid)
        if proposal is None:
            continue
        when = _period(first_gold or summary.updated_at or dt.datetime.now(dt.UTC), period)
        fields = accuracy.setdefault(when, {k: [0, 0] for k in FIELD_KEYS})
        for key, rows in units({"gold": flat_of(gold), "machine": flat_values(proposal)}).items():
            for unit in rows:
                fields[key][1] += 1
                if "gold" in unit and "machine" in unit:
                    fields[key][0] += same_value(unit["gold"], unit["machine"], kind_of(key))
    rates = {}
    for annotator in sorted(set(by_annotator) | set(events)):
        hours = active_hours(events.get(annotator, []), idle_minutes)
        n = len(letters_done.get(annotator, ()))
        rates[annotator] = {
            "letters": n,
            "hours": round(hours, 3),
            "per_hour": round(n / hours, 2) if hours > 0 and n else None,
        }
    return Stats(
        dict(by_status),
        {a: dict(c) for a, c in sorted(by_annotator.items())},
        rates,
        dict(sorted(accuracy.items())),
        {status: dict(c) for status, c in sorted(by_status_annotator.items())},
    )
