"""Adjudication: two (or more) versions of a letter side by side, one chosen field by field."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final, Literal

from imrgold.core.agreement import align_items
from imrgold.core.models import (
    ITEM_FIELDS,
    LETTER_FIELDS,
    GoldRecord,
    flatten,
    item_path,
    split_item_path,
    unflatten,
)


class Marker(enum.Enum):
    """What a difference row holds besides values and annotators' names: enum members, never
    strings, so no value from a letter and no annotator's name can be taken for one."""

    MISSING = "<absent>"
    EDITED = "(edited)"


MISSING: Final = Marker.MISSING
"""A version's value (in `AdjudicationRow.values`) for an item only other versions have."""
EDITED: Final = Marker.EDITED
"""The choice of a difference where neither version was right and the adjudicator wrote the
value."""


@dataclass
class AdjudicationRow:
    """One difference: ``path`` is a field path of the adjudicated record (items numbered as in
    the version with most items), or ``items.N`` for an item only some versions have."""

    path: str
    values: dict[str, Any]  # annotator -> value, or `MISSING`
    choice: str | Literal[Marker.EDITED] | None = None  # an annotator, or `EDITED`
    edited: Any = None  # the adjudicator's own value when ``choice`` is `EDITED`

    @property
    def whole_item(self) -> bool:
        return self.path.count(".") == 1 and self.path.startswith("items.")


@dataclass
class AdjudicationSession:
    letter_id: str
    versions: dict  # annotator -> aligned flat values
    slots: int
    rows: list[AdjudicationRow]

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
        if row.choice is EDITED:
            return row.edited
        return row.values[row.choice] if row.choice else None

    def choose_all(self, annotator: str) -> None:
        for i in range(len(self.rows)):
            self.choose(i, annotator)

    def pending(self) -> list[int]:
        return [i for i, row in enumerate(self.rows) if row.choice is None]

    def record(self) -> GoldRecord:
        """The adjudicated record; every difference must have been chosen."""
        if self.pending():
            raise ValueError(f"{len(self.pending())} difference(s) not chosen yet")
        chosen = {row.path: row.choice for row in self.rows if isinstance(row.choice, str)}
        written = {row.path: row.edited for row in self.rows if row.choice is EDITED}
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
