"""What the dashboard's figures (`core.dashboard`) are computed from, read from a store through
its public API: the one data function of the app's stats screen and of `imrgold stats --json`.

The figures come out of `gather_stats`' own pass over the letters (its ``observe``): each
letter's gold versions, flat, and when they were made are read once, from the store's index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from imrgold.core.agreement import AgreementBuilder
from imrgold.core.dashboard import Dashboard, build
from imrgold.core.models import LetterSummary
from imrgold.store.qa.stats import IDLE_MINUTES, Stats, gather_stats


def gather_dashboard(store, *, period: str = "day", idle_minutes: int = IDLE_MINUTES) -> Dashboard:
    """The dashboard of ``store``."""
    return stats_and_dashboard(store, period=period, idle_minutes=idle_minutes)[1]


def stats_and_dashboard(
    store, *, period: str = "day", idle_minutes: int = IDLE_MINUTES
) -> tuple[Stats, Dashboard]:
    """`gather_stats` and the dashboard of ``store``, in one pass over its letters."""
    # Who the raters are, which the agreement needs before its first letter: from the head of
    # each letter's index line (no entry parsed).
    figures = _Figures({a for lid in store.letter_ids() for a in store.gold_annotators(lid)})
    stats = gather_stats(store, period=period, idle_minutes=idle_minutes, observe=figures.letter)
    return stats, figures.dashboard(stats)


class _Figures:
    """What the dashboard counts of each letter as `gather_stats` passes it."""

    def __init__(self, raters: set[str]) -> None:
        self.agreement = AgreementBuilder(raters)
        self.gold_times: list[dict[str, dt.datetime]] = []
        # Only what the categories need of each settled record: the records themselves would
        # hold the whole store in memory.
        self.records: list[dict[str, Any]] = []

    def letter(
        self,
        store,
        summary: LetterSummary,
        gold: Mapping[str, Any] | None,
        versions: Mapping[str, Mapping[str, Any]],
    ) -> None:
        if times := store.gold_times(summary.letter_id):
            self.gold_times.append(times)
        if len(versions) > 1:  # a letter one annotator did compares nothing
            self.agreement.add_letter(versions)
        if gold is not None and summary.status != "adjudication":
            self.records.append(_decisions_only(gold))

    def dashboard(self, stats: Stats) -> Dashboard:
        return build(
            letters=sum(stats.by_status.values()),
            gold_times=self.gold_times,
            accuracy=stats.accuracy,
            comparisons=self.agreement.report(with_machine=False),
            records=self.records,
        )


def _decisions_only(flat: Mapping[str, Any]) -> dict[str, Any]:
    return {p: v for p, v in flat.items() if p.endswith((".category", ".decision"))}
