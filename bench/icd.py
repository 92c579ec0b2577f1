"""ICD-10-CM linking: accuracy and speed of `imrgold.core.icd10` against naive fuzzy matching.

The labelled phrases are every coded diagnosis of the gold records in `fixtures/` (the letters'
own words, coded by reading; see GOLD_CONVENTIONS.md), read afresh each run.  In one process:

- the code table's and index's load from the user's cache (the package's own parse and the
  index, seconds, are paid once per version);
- top-1 / top-5 of `icd10.suggest` and the share `icd10.link` leaves without a code;
- median and p95 milliseconds a query;
- the naive way on the same phrases: rapidfuzz's WRatio of the phrase against all billable
  descriptions (what a first attempt does), its top-1/top-5 and time, and the ratio.

Usage: python bench/icd.py [--naive N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def labelled() -> list[tuple[str, str]]:
    found = []
    for path in sorted(ROOT.glob("fixtures/**/gold/*.json")) + sorted(
        (ROOT / "tests" / "extract_letters" / "gold").glob("*.json")
    ):
        for diagnosis in json.loads(path.read_text(encoding="utf-8"))["diagnoses"]:
            if isinstance(diagnosis, dict) and diagnosis.get("icd10"):
                found.append((diagnosis["text"], diagnosis["icd10"]))
    return found


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return 1000 * statistics.median(ordered), 1000 * ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive", type=int, default=60, help="phrases for the naive matcher")
    args = parser.parse_args()

    from imrgold.core import icd10

    t0 = time.perf_counter()
    table = icd10._table()
    load = time.perf_counter() - t0
    codes = icd10._codes()
    t0 = time.perf_counter()
    icd10._build(codes)
    build = time.perf_counter() - t0
    print(f"{len(codes)} billable codes and their index loaded in {1000 * load:.0f} ms "
          f"(target <= 300 ms from the cache; building the index takes {1000 * build:.0f} ms, "
          f"{len(table.postings)} words)")  # fmt: skip

    phrases = labelled()
    top1 = top5 = unlinked = 0
    times = []
    for text, code in phrases:
        t0 = time.perf_counter()
        found = [c.code for c in icd10.suggest(text, limit=5)]
        times.append(time.perf_counter() - t0)
        top1 += bool(found) and found[0] == code
        top5 += code in found
        unlinked += icd10.link(text)[0] is None
    p50, p95 = _ms(times)
    n = len(phrases)
    print(f"{n} labelled phrases (gold diagnoses with a code)")
    print(f"imrgold.core.icd10: top-1 {100 * top1 / n:.1f}%  top-5 {100 * top5 / n:.1f}%  "
          f"no code proposed {100 * unlinked / n:.1f}%  "
          f"median {p50:.2f} ms  p95 {p95:.2f} ms")  # fmt: skip

    from rapidfuzz import fuzz, process

    descriptions = list(codes.values())
    keys = list(codes)
    sample = phrases[: args.naive]
    naive_top1 = naive_top5 = 0
    naive_times = []
    for text, code in sample:
        t0 = time.perf_counter()
        best = process.extract(text, descriptions, scorer=fuzz.WRatio, limit=5)
        naive_times.append(time.perf_counter() - t0)
        found = [keys[i] for _, _, i in best]
        naive_top1 += found[0] == code
        naive_top5 += code in found
    n_p50, n_p95 = _ms(naive_times)
    m = len(sample)
    print(f"naive WRatio over all descriptions ({m} phrases): top-1 {100 * naive_top1 / m:.1f}%  "
          f"top-5 {100 * naive_top5 / m:.1f}%  median {n_p50:.1f} ms  p95 {n_p95:.1f} ms  "
          f"= {n_p50 / p50:.0f}x slower at the median")  # fmt: skip


if __name__ == "__main__":
    main()
