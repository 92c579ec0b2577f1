"""The dashboard the simple way, as it was computed before it rode on `gather_stats`' pass:
every gold shard read again for when each version was made and for the versions of letters two
annotators did (`gold_and_versions`), and every settled record validated
(`export_records`).  The test of the one
pass holds it to this; `bench/dashboard.py` times it as the naive way."""

from __future__ import annotations

from imrgold.core.agreement import AgreementBuilder, flat_of
from imrgold.core.dashboard import Dashboard, build
from imrgold.core.models import flatten
from imrgold.store.qa.selection import export_records
from imrgold.store.qa.stats import Stats


def dashboard_the_simple_way(store, stats: Stats) -> Dashboard:
    gold_times = {lid: times for lid in store.letter_ids() if (times := store.gold_times(lid))}
    builder = AgreementBuilder({a for times in gold_times.values() for a in times})
    for lid, times in gold_times.items():
        if len(times) > 1:
            _, versions = store.gold_and_versions(lid)
            builder.add_letter({a: flat_of(r) for a, r in versions.items()})
    return build(
        letters=sum(stats.by_status.values()),
        gold_times=gold_times.values(),
        accuracy=stats.accuracy,
        comparisons=builder.report(with_machine=False),
        records=(flatten(entry.record) for entry in export_records(store)),
    )
