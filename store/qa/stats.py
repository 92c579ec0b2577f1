"""Statistics of a store: letters by status, work per annotator, letters per hour, and the
machine's accuracy by period (what `imrgold stats` prints and the dashboard draws from)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from imrgold.core.agreement import FIELD_KEYS, Flat, kind_of, pair_fields, same_value
from imrgold.core.models import LetterSummary, flat_values
from imrgold.store.qa.merge import imported_versions
from imrgold.store.storage import paused_gc

IDLE_MINUTES = 30
_KINDS = {key: kind_of(key) for key in FIELD_KEYS}
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


Observer = Callable[[Any, LetterSummary, Flat | None, Mapping[str, Flat]], None]
"""Told of each letter as the pass reads it: ``(store, summary, gold, versions)``, its settled
gold record and its versions by annotator as flat maps (`Store.gold_flats`)."""


def gather_stats(
    store,
    *,
    period: str = "week",
    idle_minutes: int = IDLE_MINUTES,
    observe: Observer | None = None,
) -> Stats:
    """Counts every letter, one at a time; ``observe`` is told of each as it is read (what
    else a caller counts costs no second pass)."""
    # Every letter's history and proposal pass through: with the collector running, rescanning
    # what is already held cost as much as the reading (they make no reference cycles).
    with paused_gc(freeze=True):
        return _gather_stats(store, period, idle_minutes, observe)


def _gather_stats(store, period: str, idle_minutes: int, observe: Observer | None) -> Stats:
    tally = _Tally(imported_versions(store), period, observe)
    for summary in store.summaries():
        tally.letter(store, summary)
    return tally.stats(idle_minutes)


class _Tally:
    """What `gather_stats` counts, one letter at a time."""

    def __init__(
        self, imported: set[tuple[str, str]], period: str, observe: Observer | None = None
    ) -> None:
        self.imported, self.period, self.observe = imported, period, observe
        self.by_status: Counter[str] = Counter()
        self.by_status_annotator: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_annotator: dict[str, Counter[str]] = defaultdict(Counter)
        self.events: dict[str, list[dt.datetime]] = defaultdict(list)
        self.letters_done: dict[str, set[str]] = defaultdict(set)
        self.accuracy: dict[str, dict[str, list[int]]] = {}

    def letter(self, store, summary) -> None:
        lid = summary.letter_id
        self.by_status[summary.status] += 1
        self.by_status_annotator[summary.status][summary.annotator or "-"] += 1
        gold, versions, final_by = store.gold_flats(lid)
        if self.observe is not None:
            self.observe(store, summary, gold, versions)
        for annotator in versions:
            self.by_annotator[annotator]["gold"] += 1
        if final_by:
            self.by_annotator[final_by]["final"] += 1
        first_gold = self.history(lid, store.history_outline(lid))
        if gold is None or summary.status == "adjudication":
            return  # no settled record to hold the machine to
        proposal = store.proposal_values(lid)
        if proposal is None:
            return
        when = _period(first_gold or summary.updated_at or dt.datetime.now(dt.UTC), self.period)
        fields = self.accuracy.setdefault(when, {k: [0, 0] for k in FIELD_KEYS})
        _score(fields, gold, flat_values(proposal))

    def history(self, lid: str, entries) -> dt.datetime | None:
        """Counts one letter's history; returns when it first became gold."""
        first_gold = None
        for entry in entries:
            who, kind = entry.get("annotator"), entry.get("kind")
            at = dt.datetime.fromisoformat(entry["at"])
            if who and kind != "status":
                self.by_annotator[who]["changes"] += 1
            if kind == "gold" and first_gold is None:
                first_gold = at
            if who and kind in WORK_KINDS and (lid, who) not in self.imported:
                self.events[who].append(at)
                if _made_gold(entry):
                    self.letters_done[who].add(lid)
        return first_gold

    def rates(self, idle_minutes: int) -> dict:
        rates = {}
        for annotator in sorted(set(self.by_annotator) | set(self.events)):
            hours = active_hours(self.events.get(annotator, []), idle_minutes)
            n = len(self.letters_done.get(annotator, ()))
            rates[annotator] = {
                "letters": n,
                "hours": round(hours, 3),
                "per_hour": round(n / hours, 2) if hours > 0 and n else None,
            }
        return rates

    def stats(self, idle_minutes: int) -> Stats:
        return Stats(
            dict(self.by_status),
            {a: dict(c) for a, c in sorted(self.by_annotator.items())},
            self.rates(idle_minutes),
            dict(sorted(self.accuracy.items())),
            {status: dict(c) for status, c in sorted(self.by_status_annotator.items())},
        )


def _made_gold(entry: dict) -> bool:
    """A gold version saved, or the letter's status set to gold: the letter is done."""
    kind = entry.get("kind")
    return kind == "gold" or (kind == "status" and entry.get("new") == "gold")


def _score(fields: dict[str, list[int]], gold: dict, machine: dict) -> None:
    """Adds one letter's machine values to ``fields``' [correct, total] of each field key."""
    for key, rows in pair_fields("gold", "machine", gold, machine):
        counts, kind = fields[key], _KINDS[key]
        counts[1] += len(rows)
        counts[0] += sum(same_value(ours, theirs, kind) for ours, theirs, paired in rows if paired)
