"""`imrgold assign` at scale: one store of N gold letters (default 1,000) split among three
annotators with a fifth given to two, the way the command writes the stores (each store in one
batch: one sync at the end; each letter read once for the one or two stores it goes to) against
the naive way (one store after another, every copied letter synced on its own).

Prints the median and p95 in seconds over the repeats, letters written a second, and the ratio.

Usage: python bench/assign.py [--letters 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qa import build

from imrgold.core.assign import assign
from imrgold.store import assign as assign_store
from imrgold.store.store import Store

TEAM = ["ana", "bob", "eve"]


def naive(source: Store, assignment, out: Path) -> None:
    """The same copies, each store opened without a batch: every write synced at once."""
    out.mkdir(mode=0o700)
    for name, ids in assignment.shares.items():
        with Store.open(assign_store.store_file(out, name), annotator="bench") as store:
            store.set_meta(assign_store.ASSIGNED_KEY, name)
            for lid in ids:
                assign_store.Standing.read(source, lid).write(store)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "source.json"
        build(path, "lead", args.letters)
        times: dict[str, list[float]] = {"batched": [], "naive": []}
        with Store.open(path, read_only=True) as source:
            assignment = assign(source.letter_ids(), TEAM, 0.2, seed=1)
            written = sum(len(ids) for ids in assignment.shares.values())
            for i in range(args.repeats):
                for way, write in (
                    ("batched", lambda out: assign_store.write_stores(source, assignment, out)),
                    ("naive", lambda out: naive(source, assignment, out)),
                ):
                    out = root / f"{way}-{i}"
                    start = time.perf_counter()
                    write(out)
                    times[way].append(time.perf_counter() - start)
                    with contextlib.suppress(OSError):
                        shutil.rmtree(out)
    print(f"{args.letters} letters, {len(TEAM)} annotators, {written} letters written")
    for way, values in times.items():
        median = statistics.median(values)
        print(
            f"  {way:8} median {median:6.2f} s  p95 {p95(values):6.2f} s  "
            f"{written / median:7.0f} letters/s"
        )
    ratio = statistics.median(times["naive"]) / statistics.median(times["batched"])
    print(f"  naive / batched: {ratio:.1f}x")


if __name__ == "__main__":
    main()
