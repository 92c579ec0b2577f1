"""The queue on a 10,000-letter store: ordering it and searching the letters' words.

Uses the store `bench/tui.py` builds (the fixture letters copied, each distinct, with proposals;
a tenth gold, a tenth in progress), built here if missing.  Times, on the app's own code paths:

- each order of the queue (`core.queue.sort_summaries` over every summary);
- a search in the letters' text (`ImrGoldApp.search_texts`, what the queue's search worker
  runs): the first search reads every text once, later ones scan what it kept;
- the naive way: reading every letter's text again for each search.

Prints median and p95 of each, and the ratio of the naive search to the kept texts.
Usage: python bench/queue_search.py [--letters 10000] [--db PATH] [--runs 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["lumbar", "utilization review", "gabapentin", "cervical radiculopathy", "zzzunfound"]


def _bench_tui():
    spec = importlib.util.spec_from_file_location("bench_tui", ROOT / "bench" / "tui.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    db = _bench_tui().bench_store(args.db, args.letters)

    from imrgold.core.queue import SORTS, query_words, sort_summaries
    from imrgold.store import Store
    from imrgold.tui.app import ImrGoldApp

    results: dict[str, list[float]] = {}
    with Store.open(db, read_only=True) as store:
        summaries = store.summaries()
        for key in SORTS:
            samples = results[f"order: {key}"] = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                sort_summaries(summaries, key)
                samples.append(time.perf_counter() - t0)

        app = ImrGoldApp(store)

        def search(query: str) -> float:
            t0 = time.perf_counter()
            app.search_texts(query_words(query), summaries, lambda: False)
            return time.perf_counter() - t0

        results["search: first (reads every text)"] = [search(WORDS[0])]
        results["search: next ones (texts kept)"] = [
            search(WORDS[i % len(WORDS)]) for i in range(args.runs)
        ]
        naive = results["naive: every text read per search"] = []
        for i in range(max(2, args.runs // 4)):
            app._texts.clear()
            naive.append(search(WORDS[i % len(WORDS)]))

    print(f"\nthe queue on {db} ({len(summaries)} letters), {os.cpu_count()} CPUs")
    print(f"{'':38} {'median':>9} {'p95':>9}")
    for name, samples in results.items():
        median, p95 = stats(samples)
        print(f"{name:38} {median * 1000:7.1f}ms {p95 * 1000:7.1f}ms")
    kept = stats(results["search: next ones (texts kept)"])[0]
    print(f"naive / kept texts (median): {stats(naive)[0] / kept:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
