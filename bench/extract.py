"""How fast `core.extract.extract` runs on one core (target: at least 1,000 letters a second).

Builds a corpus of N letters (default 10,000) in memory from the fixture and synthetic letters
with realistic variation (`tests/letter_variants.py`: PDF double spacing, centred headings,
markdown, form feeds, mojibake, header tables re-laid-out, items reordered or dropped, OCR-ish
typos), then, in this one process:

- extracts every letter, timing each by CPU time (the machine may be shared): letters per
  second, median and p95 per letter; then again with the drug lexicon stubbed out, to show
  how the time splits between the extractor's rules and the lexicon;
- the peak memory of extraction (tracemalloc, on a sample, and the process's max RSS);
- the naive way on a sample: ftfy on the whole letter before extraction (what repair would cost
  without the offset-keeping, run-only mojibake fix), as a ratio;
- accuracy on the variants whose gold record is known, so speed is not bought with quality;
- calibration: confidence against accuracy on variants with OCR slips, where fields go wrong.

Usage: python bench/extract.py [--n 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the letter variants live with the tests (not shipped)


def sources() -> list[tuple[str, object]]:
    from imrgold.core.models import GoldRecord

    out = []
    for folder in (ROOT / "fixtures", ROOT / "fixtures" / "synthetic"):
        golds = {p.stem: p for p in (folder / "gold").glob("*.json")}
        for letter in sorted((folder / "letters").glob("*")):
            if not letter.is_file():
                continue
            gold = golds.get(letter.stem)
            record = (
                GoldRecord.model_validate_json(gold.read_text(encoding="utf-8")) if gold else None
            )
            out.append((letter.read_bytes().decode("utf-8", errors="replace"), record))
    return out


def build_corpus(n: int, seed: int) -> list[tuple[str, object]]:
    from tests.letter_variants import (
        HEADER_STYLES,
        LAYOUTS,
        logical_lines,
        shuffle_items,
        typo,
        with_header,
    )

    rng = random.Random(seed)
    base = sources()
    corpus = []
    for i in range(n):
        text, gold = base[i % len(base)]
        lines = logical_lines(text)
        if gold is not None and gold.case_number and rng.random() < 0.5:
            lines = with_header(lines, gold, rng.choice(HEADER_STYLES))
        if rng.random() < 0.5:
            lines, gold = shuffle_items(lines, gold, rng)
        variant = LAYOUTS[rng.choice(tuple(LAYOUTS))](lines, rng)
        if rng.random() < 0.3:
            variant, gold = typo(variant, rng), None  # typos may touch gold values: unscored
        corpus.append((variant, gold))
    return corpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import ftfy

    import imrgold.core.extract as extract_mod
    from imrgold.core.evaluate import evaluate
    from imrgold.core.extract import extract

    t0 = time.perf_counter()
    corpus = build_corpus(args.n, args.seed)
    built = time.perf_counter() - t0
    size = sum(len(t) for t, _ in corpus)
    print(
        f"corpus: {len(corpus)} letters, {size / len(corpus) / 1024:.1f} kB average, "
        f"built in {built:.1f} s"
    )

    for text, _ in corpus[:50]:  # warm caches (regexes, lexicon) before timing
        extract(text, "0" * 64)
    # The corpus is long-lived input, not garbage: keep the collector from rescanning it.
    gc.collect()
    gc.freeze()

    def run(label: str) -> None:
        per_letter = []
        wall = time.perf_counter()
        cpu = time.process_time()
        for text, _ in corpus:
            t = time.process_time()
            extract(text, "0" * 64)  # the proposal is dropped, as a writer would stream it out
            per_letter.append(time.process_time() - t)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        per_letter.sort()
        p95 = per_letter[int(0.95 * (len(per_letter) - 1))]
        print(
            f"{label}: {len(corpus) / cpu:,.0f} letters/s on one core by CPU time "
            f"({len(corpus) / wall:,.0f}/s wall clock on a shared machine); per letter "
            f"median {statistics.median(per_letter) * 1e3:.2f} ms, p95 {p95 * 1e3:.2f} ms, "
            f"max {per_letter[-1] * 1e3:.1f} ms"
        )

    run("extract")
    real_lexicon = extract_mod._generic_ingredients
    extract_mod._generic_ingredients = lambda request, text: []
    try:
        run("extract without the drug lexicon (its share of the time)")
    finally:
        extract_mod._generic_ingredients = real_lexicon

    sample = corpus[: min(500, len(corpus))]
    tracemalloc.start()
    for text, _ in sample:
        extract(text, "0" * 64)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"memory: extraction peak {peak / 1024 / 1024:.1f} MB above baseline (tracemalloc), "
        f"process max RSS {rss:.0f} MB (corpus and proposals held)"
    )

    t = time.perf_counter()
    for text, _ in sample:
        extract(ftfy.fix_text(text), "0" * 64)
    naive = time.perf_counter() - t
    t = time.perf_counter()
    for text, _ in sample:
        extract(text, "0" * 64)
    ours = time.perf_counter() - t
    print(
        f"naive (ftfy on the whole letter first): {len(sample) / naive:,.0f} letters/s, "
        f"{naive / ours:.2f}x the time of ours"
    )

    scored = [
        (gold.model_copy(update={"letter_id": "0" * 64}), extract(text, "0" * 64))
        for text, gold in corpus[:3000]
        if gold is not None
    ]
    if scored:
        ev = evaluate(scored)
        lists = ev.overall_list
        print(
            f"quality on {len(scored)} variants with gold: field accuracy "
            f"{100 * (ev.overall_accuracy or 0):.2f}%, list F1 {100 * (lists.f1 or 0):.2f}%, "
            f"items {ev.items_matched}/{ev.items_gold} matched, ECE {100 * (ev.ece or 0):.1f}"
        )
    calibration(corpus, rng=random.Random(args.seed))
    return 0


def calibration(corpus: list[tuple[str, object]], rng: random.Random, n: int = 1500) -> None:
    """Confidence against accuracy on letters with OCR slips (where fields do go wrong)."""
    from imrgold.core.evaluate import evaluate
    from imrgold.core.extract import extract
    from tests.letter_variants import ocr_damage

    pairs = [
        (
            gold.model_copy(update={"letter_id": "0" * 64}),
            extract(ocr_damage(text, rng, rng.randint(0, 30)), "0" * 64),
        )
        for text, gold in corpus[:n]
        if gold is not None
    ]
    # Slips inside free text change what the letter says, and so the right answer: those
    # fields would be scored against stale gold, so they are left out here.
    ev = evaluate(
        pairs,
        skip=frozenset(
            {
                "items.rationale",
                "items.request",
                "diagnoses",
                "reviewer.specialties",
                "reviewer.subspecialties",
            }
        ),
    )
    print(
        f"calibration on {len(pairs)} variants with OCR slips (free-text fields left out): "
        f"field accuracy "
        f"{100 * (ev.overall_accuracy or 0):.1f}%, ECE {100 * (ev.ece or 0):.1f} points"
    )
    for b in ev.bins:
        if b.n:
            print(
                f"  confidence {b.low:.2f}-{min(b.high, 1):.2f}: {b.n:6d} fields, mean "
                f"confidence {100 * (b.mean_confidence or 0):5.1f}%, accuracy "
                f"{100 * (b.accuracy or 0):5.1f}%"
            )


if __name__ == "__main__":
    sys.exit(main())
