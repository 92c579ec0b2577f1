"""What the dashboard's figures (`core.dashboard`) are computed from, read from a store through
its public API: the one data function of the app's stats screen and of `imrgold stats --json`."""

from __future__ import annotations

from imrgold.core.agreement import AgreementBuilder, flat_of
from imrgold.core.dashboard import Dashboard, build
from imrgold.store.qa.selection import export_records
from imrgold.store.qa.stats import IDLE_MINUTES, Stats, gather_stats


def gather_dashboard(
    store,
    *,
    period: str = "day",
    idle_minutes: int = IDLE_MINUTES,
    stats: Stats | None = None,
) -> Dashboard:
    """The dashboard of ``store``; ``stats``: `gather_stats` already run with the same
    ``period`` (the machine's accuracy is counted there, once)."""
    if stats is None:
        stats = gather_stats(store, period=period, idle_minutes=idle_minutes)
    # When each version was made, from the gold shards: the letters a day, and who the raters
    # are, which the agreement needs before its first letter.
    gold_times = {lid: times for lid in store.letter_ids() if (times := store.gold_times(lid))}
    builder = AgreementBuilder({a for times in gold_times.values() for a in times})
    for lid, times in gold_times.items():
        if len(times) > 1:  # a letter one annotator did compares nothing
            _, versions = store.gold_and_versions(lid)
            builder.add_letter({a: flat_of(r) for a, r in versions.items()})
    return build(
        letters=sum(stats.by_status.values()),
        gold_times=gold_times.values(),
        accuracy=stats.accuracy,
        comparisons=builder.report(with_machine=False),
        records=(entry.record for entry in export_records(store)),
    )
