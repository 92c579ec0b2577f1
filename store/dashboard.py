"""What the dashboard's figures (`core.dashboard`) are computed from, read from a store through
its public API: the one data function of the app's stats screen and of `imrgold stats --json`."""

from __future__ import annotations

from imrgold.core.dashboard import Dashboard, build
from imrgold.store.qa import IDLE_MINUTES, Stats, export_records, gather_stats


def gather_dashboard(
    store,
    *,
    period: str = "day",
    idle_minutes: int = IDLE_MINUTES,
    stats: Stats | None = None,
) -> Dashboard:
    """The dashboard of ``store``; ``stats``: `gather_stats` already run with the same
    ``period`` (the machine's accuracy is counted there, once)."""
    from imrgold.core.agreement import flat_of

    if stats is None:
        stats = gather_stats(store, period=period, idle_minutes=idle_minutes)
    gold_times = []
    versions = {}
    for summary in store.summaries():
        lid = summary.letter_id
        times = store.gold_times(lid)
        if times:
            gold_times.append(times)
        if len(times) > 1:
            versions[lid] = {a: flat_of(r) for a, r in store.gold_versions(lid).items()}
    return build(
        letters=sum(stats.by_status.values()),
        gold_times=gold_times,
        accuracy=stats.accuracy,
        versions=versions,
        records=(entry.record for entry in export_records(store)),
    )
