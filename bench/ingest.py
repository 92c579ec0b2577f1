"""How long `imrgold ingest` takes on a folder of 10,000 letters (target: under a minute).

Builds the corpus from the fixture letters in a temporary folder (each copy made distinct by its
case number and a line of its own, as distinct letters would be), then times, in fresh stores:

- the command itself with ``--jobs 1`` and ``--jobs N`` (all CPUs), end to end;
- a rerun on the full store (every file a duplicate: read and hashed, not extracted again);
- the parts: reading alone, and reading plus extraction without a store;
- the naive way: one `read_letter`, `extract`, `add_letter` after another, as a first version
  of ingest would (on a sample, scaled to the corpus size).

Usage: python bench/ingest.py [--n 10000] [--jobs N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASE = re.compile(r"CM\d{2}-\d{7}")


def build_corpus(folder: Path, n: int, seed: int = 8) -> list[Path]:
    rng = random.Random(seed)
    sources = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures/letters").glob("*"))]
    paths = []
    for i in range(n):
        text = sources[i % len(sources)]
        case = f"CM{rng.randint(13, 19)}-{i:07d}"
        text = CASE.sub(case, text) if CASE.search(text) else f"Case Number: {case}\n\n{text}"
        if rng.random() < 0.3:
            text = text.replace("\n", "\r\n")
        sub = folder / f"batch{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"letter{i:05d}{'.md' if i % 7 == 0 else '.txt'}"
        path.write_text(text + f"\nScanned copy {i}.\n", encoding="utf-8", newline="")
        paths.append(path)
    return paths


def cpu_seconds() -> float:
    """CPU time of this process (the one that writes the store; workers under the fork server are
    not its children, so their time is not in it).  Load on the machine does not inflate it."""
    t = os.times()
    return t.user + t.system


def run_cli(argv: list[str]) -> tuple[float, float, int, str]:
    from imrgold.cli.main import main

    # The store syncs at checkpoints; let it not pay for the corpus or an earlier run's writes.
    os.sync()
    out, err = io.StringIO(), io.StringIO()
    start, cpu = time.perf_counter(), cpu_seconds()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return time.perf_counter() - start, cpu_seconds() - cpu, code, out.getvalue().strip()


def time_reading(paths: list[Path]) -> float:
    from imrgold.core.reading import read_letter

    start = time.perf_counter()
    for p in paths:
        read_letter(p)
    return time.perf_counter() - start


def time_read_extract(paths: list[Path]) -> float:
    from imrgold.core.extract import extract
    from imrgold.core.reading import read_letter

    start = time.perf_counter()
    for p in paths:
        letter = read_letter(p)
        extract(letter.text, letter.letter_id)
    return time.perf_counter() - start


def time_naive(paths: list[Path], db: Path) -> float:
    """One letter at a time through the store's plain per-letter calls."""
    from imrgold.core.extract import extract
    from imrgold.core.reading import read_letter
    from imrgold.store import Store

    store = Store.open(db)
    start = time.perf_counter()
    try:
        for p in paths:
            letter = read_letter(p)
            if store.has_letter(letter.letter_id):
                continue
            proposal = extract(letter.text, letter.letter_id)
            store.add_letter(letter)
            store.put_proposal(proposal)
    finally:
        close = getattr(store, "close", None)
        if close:
            close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--naive-sample", type=int, default=500)
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at start (wall times grow with load)")
    with tempfile.TemporaryDirectory(prefix="imrgold-bench-") as tmp:
        tmp_path = Path(tmp)
        os.environ["IMRGOLD_DB"] = str(tmp_path / "unused.json")
        corpus = tmp_path / "letters"
        t0 = time.perf_counter()
        paths = build_corpus(corpus, args.n)
        print(f"corpus: {args.n} letters in {time.perf_counter() - t0:.1f} s")

        sample = paths[: min(len(paths), 2000)]
        scale = len(paths) / len(sample)
        t_read = time_reading(sample) * scale
        t_extract = time_read_extract(sample) * scale
        print(f"read only            {t_read:7.1f} s  ({args.n / t_read:,.0f} letters/s, est.)")
        print(
            f"read + extract       {t_extract:7.1f} s  ({args.n / t_extract:,.0f} letters/s, est.)"
        )

        results = {}
        for jobs in sorted({1, args.jobs}):
            db = tmp_path / f"store-j{jobs}" / "imrgold.json"
            seconds, cpu, code, summary = run_cli(
                ["ingest", str(corpus), "--db", str(db), "-j", str(jobs)]
            )
            results[jobs] = seconds
            verdict = "OK" if seconds < 60 else "OVER the 60 s target"
            print(
                f"ingest --jobs {jobs:<2}     {seconds:7.1f} s  ({args.n / seconds:,.0f} letters/s)"
                f"  main cpu {cpu:.1f} s  exit {code}  {verdict}\n    {summary}"
            )
        best_db = tmp_path / f"store-j{args.jobs}" / "imrgold.json"
        seconds, cpu, code, summary = run_cli(
            ["ingest", str(corpus), "--db", str(best_db), "-j", str(args.jobs), "-q"]
        )
        print(
            f"rerun (all duplicate) {seconds:6.1f} s  main cpu {cpu:.1f} s  exit {code}"
            f"\n    {summary}"
        )

        naive_paths = paths[: args.naive_sample]
        naive = time_naive(naive_paths, tmp_path / "naive" / "imrgold.json")
        naive_full = naive * len(paths) / len(naive_paths)
        best = min(results.values())
        print(
            f"naive (one call each) {naive_full:6.1f} s  (est. from {len(naive_paths)} letters)"
            f"  -> ingest is {naive_full / best:.1f}x faster"
        )


if __name__ == "__main__":
    main()
