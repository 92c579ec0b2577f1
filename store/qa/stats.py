"""Statistics of a store: letters by status, work per annotator, letters per hour, and the
machine's accuracy by period (what `imrgold stats` prints and the dashboard draws from)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from imrgold.core.agreement import FIELD_KEYS, flat_of, kind_of, same_value, units
from imrgold.core.models import flat_values
from imrgold.store.qa.merge import imported_versions
from imrgold.store.storage import paused_gc

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
    # Every letter's history and proposal pass through: with the collector running, rescanning
    # what is already held cost as much as the reading (they make no reference cycles).
    with paused_gc(freeze=True):
        return _gather_stats(store, period, idle_minutes)


def _gather_stats(store, period: str, idle_minutes: int) -> Stats:
    imported = imported_versions(store)
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
