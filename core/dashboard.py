"""The figures of the dashboard (`imrgold stats --json` and the app's stats screen).

Pure functions over what the store hands over: when each annotator's gold version was made,
the machine's accuracy by period (`store.qa.stats.gather_stats` counts it, once, for `stats` too),
the comparisons of each pair of annotators (`core.agreement.AgreementBuilder`, as `imrgold
agreement` computes them), and the settled gold records.
The screen draws these figures and the command prints them, so both show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from imrgold.core.agreement import FIELD_KEYS, Comparison
from imrgold.core.models import CATEGORIES, DECISIONS, item_path, n_items_of

NOT_STATED = "not stated"
"""The category or decision of an item whose record leaves it empty."""


@dataclass(frozen=True)
class FieldAccuracy:
    """The machine against gold on one field: units a person kept as proposed (confirmed) or
    changed (corrected), in all and by period (``shares``: confirmed share, None where the
    period had no unit of this field)."""

    field: str
    confirmed: int
    corrected: int
    shares: list[float | None]

    @property
    def total(self) -> int:
        return self.confirmed + self.corrected

    @property
    def share(self) -> float | None:
        return self.confirmed / self.total if self.total else None


@dataclass(frozen=True)
class FieldShare:
    """Agreement on one field pooled over every pair of annotators: units (letters, or matched
    items) where the two had the same value, of those compared."""

    field: str
    same: int
    compared: int

    @property
    def share(self) -> float | None:
        return self.same / self.compared if self.compared else None


@dataclass(frozen=True)
class Dashboard:
    letters: int
    gold: int
    days: list[str]  # every day from the first gold version to the last
    letters_per_day: dict[str, list[int]]  # annotator -> gold versions made on each of `days`
    periods: list[str]
    accuracy: list[FieldAccuracy]  # fields with at least one unit, in `FIELD_KEYS` order
    pairs: list[str]  # the pairs of annotators `agreement` pools ("alice vs bob", ...)
    agreement: list[FieldShare] = field(default_factory=list)
    decisions: dict[str, dict[str, int]] = field(default_factory=dict)  # category -> decision

    @property
    def empty(self) -> bool:
        return not self.letters

    def to_dict(self) -> dict[str, Any]:
        return {
            "letters": self.letters,
            "gold": self.gold,
            "letters_per_day": {"days": self.days, "by_annotator": self.letters_per_day},
            "machine_accuracy_by_field": {
                "periods": self.periods,
                "fields": {
                    f.field: {
                        "confirmed": f.confirmed,
                        "corrected": f.corrected,
                        "accuracy": f.share,
                        "by_period": f.shares,
                    }
                    for f in self.accuracy
                },
            },
            "agreement_by_field": {
                "pairs": self.pairs,
                "fields": {
                    f.field: {"same": f.same, "compared": f.compared, "exact": f.share}
                    for f in self.agreement
                },
            },
            "decisions_by_category": self.decisions,
        }


def letters_per_day(
    gold_times: Iterable[Mapping[str, dt.datetime]],
) -> tuple[list[str], dict[str, list[int]]]:
    """(days, annotator -> counts): each annotator's gold versions by the (UTC) day they were
    made, over every day from the first to the last so that a day off shows as a zero.  A
    letter marked gold again after an edit counts on the later day (its version's time): the
    gold shards keep when each version was made, and reading them is much cheaper than every
    letter's history."""
    counts: dict[str, Counter[dt.date]] = defaultdict(Counter)
    for times in gold_times:
        for annotator, at in times.items():
            counts[annotator][at.astimezone(dt.UTC).date()] += 1
    dates = {d for c in counts.values() for d in c}
    if not dates:
        return [], {}
    first, last = min(dates), max(dates)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return (
        [d.isoformat() for d in days],
        {a: [counts[a][d] for d in days] for a in sorted(counts)},
    )


def machine_accuracy(
    by_period: Mapping[str, Mapping[str, Sequence[int]]],
) -> tuple[list[str], list[FieldAccuracy]]:
    """Per field, confirmed and corrected in all and the confirmed share by period, from
    ``period -> field -> (correct, total)`` as `gather_stats` counts it."""
    periods = sorted(by_period)
    out = []
    for key in FIELD_KEYS:
        cells = [by_period[p].get(key, (0, 0)) for p in periods]
        correct = sum(c for c, _ in cells)
        total = sum(t for _, t in cells)
        if total:
            shares = [c / t if t else None for c, t in cells]
            out.append(FieldAccuracy(key, correct, total - correct, shares))
    return periods, out


def field_agreement(comparisons: Sequence[Comparison]) -> tuple[list[str], list[FieldShare]]:
    """Exact agreement per field pooled over the pairs of annotators that share letters.

    Pooled rather than all annotators at once: letters given to two of three annotators (as
    `imrgold assign --overlap` does) never have all three, and would show nothing.  Kappa and
    the other coefficients stay per pair, in `imrgold agreement`.
    """
    pairs = [c for c in comparisons if c.b is not None and c.letters]
    shares = []
    for key in FIELD_KEYS:
        found = [c.get(key) for c in pairs]
        compared = sum(f.n for f in found)
        if compared:
            # ``exact`` is a count over ``n``: times ``n`` it is that count again.
            same = sum(round(f.exact * f.n) for f in found if f.exact is not None)
            shares.append(FieldShare(key, same, compared))
    return [c.name for c in pairs], shares


def decisions_by_category(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """category -> decision -> items of the records (as `core.models.flatten` maps them),
    categories and decisions in the schema's order (an item without one counted as
    `NOT_STATED`)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for flat in records:
        for i in range(n_items_of(flat)):
            category = flat.get(item_path(i, "category")) or NOT_STATED
            counts[category][flat.get(item_path(i, "decision")) or NOT_STATED] += 1
    order = [*CATEGORIES, NOT_STATED]
    decisions = [*DECISIONS, NOT_STATED]
    return {c: {d: counts[c][d] for d in decisions if counts[c][d]} for c in order if c in counts}


def build(
    *,
    letters: int,
    gold_times: Iterable[Mapping[str, dt.datetime]],
    accuracy: Mapping[str, Mapping[str, Sequence[int]]],
    comparisons: Sequence[Comparison],
    records: Iterable[Mapping[str, Any]],
) -> Dashboard:
    """``records``: the gold record (flat, `core.models.flatten`) of every letter whose record
    stands (final, else latest; none still in adjudication), streamed: they are counted as
    they go by."""
    counted = Counter[str]()

    def counting() -> Iterable[Mapping[str, Any]]:
        for record in records:
            counted["gold"] += 1
            yield record

    decisions = decisions_by_category(counting())
    days, per_day = letters_per_day(gold_times)
    periods, fields = machine_accuracy(accuracy)
    pairs, agreement = field_agreement(comparisons)
    return Dashboard(
        letters,
        counted["gold"],
        days,
        per_day,
        periods,
        fields,
        pairs,
        agreement,
        decisions,
    )
