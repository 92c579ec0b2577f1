"""The dashboard's figures on a store of N letters (default 2,000): alice marks every letter
gold, bob half of them with one value in ten letters changed, merged into alice's store (as
`bench/qa.py` builds them), so agreement has letters to compare.

Times, with repeats (median and p95 in seconds): `gather_stats` alone (what `imrgold stats`
prints), the dashboard the naive way (`tests/dashboard_reference.py`: the stats, then a second
pass reading every gold shard and validating every settled record) and `stats_and_dashboard`
(what the screen and `stats --json` run: the dashboard counted in stats' own pass, from the
index); the ratios are the one pass against stats alone and against the naive way.

Usage: python bench/dashboard.py [--letters 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa import build, timed

from imrgold.store.dashboard import stats_and_dashboard
from imrgold.store.qa.merge import merge
from imrgold.store.qa.stats import gather_stats
from imrgold.store.store import Store
from tests.dashboard_reference import dashboard_the_simple_way


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "alice.json", Path(tmp) / "bob.json"
        start = time.perf_counter()
        build(a, "alice", args.letters)
        build(b, "bob", args.letters, every=2, change_every=10)
        with Store.open(a, annotator="alice") as target, Store.open(b, read_only=True) as other:
            merge(target, other, source="bob")
        print(
            f"built and merged stores of {args.letters} letters in "
            f"{time.perf_counter() - start:.1f} s"
        )
        with Store.open(a, read_only=True) as store:
            stats, figures = stats_and_dashboard(store)
            assert figures == dashboard_the_simple_way(store, stats)

            def naive() -> None:
                dashboard_the_simple_way(store, gather_stats(store, period="day"))

            rows = [
                ("gather_stats", timed(lambda: gather_stats(store, period="day"), args.repeats)),
                ("naive: stats, then dashboard", timed(naive, args.repeats)),
                ("stats_and_dashboard", timed(lambda: stats_and_dashboard(store), args.repeats)),
            ]
    print(
        f"{figures.gold} gold letters, agreement: {figures.pairs}, "
        f"{len(figures.agreement)} fields compared"
    )
    print(f"{'task':<30} {'median s':>9} {'p95 s':>9}")
    for name, (median, p95) in rows:
        print(f"{name:<30} {median:>9.3f} {p95:>9.3f}")
    print(f"one pass / stats alone: {rows[2][1][0] / rows[0][1][0]:.2f}x")
    print(f"one pass / naive: {rows[2][1][0] / rows[1][1][0]:.2f}x")


if __name__ == "__main__":
    main()
