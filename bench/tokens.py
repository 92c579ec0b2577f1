"""Export tokens: what `core.tokens.with_tokens` adds to the spans export, per letter.

The letters are the bundled real ones (fixtures/letters), each with its gold record's spans
(fixtures/gold) as the export locates them. In one process:

- median and p95 milliseconds of `with_tokens` a letter, tokens a letter, and the size of a
  spans line with and without its tokens;
- the line as the export writes it (`spans_line`, the tokens' JSON written from their bounds)
  against the tokens as dicts dumped with the json module, and the ratio;
- the naive way on the same texts: spaCy's English tokenizer (`spacy.blank("en")`, needs
  imrgold[spacy]), its time a letter and the ratio, and the share of the spans that fall on its
  token boundaries (every span falls on the export's, by construction).

Usage: python bench/tokens.py [--rounds N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return 1000 * statistics.median(ordered), 1000 * ordered[int(0.95 * (len(ordered) - 1))]


def objects() -> list[dict]:
    from imrgold.core.export import spans_object
    from imrgold.core.models import GoldRecord

    gold = {}
    for path in sorted((ROOT / "fixtures" / "gold").glob("*.json")):
        record = GoldRecord.model_validate_json(path.read_text(encoding="utf-8"))
        gold[record.letter_id] = record
    found = []
    for path in sorted((ROOT / "fixtures" / "letters").glob("*.txt")):
        data = path.read_bytes()
        record = gold.get(hashlib.sha256(data).hexdigest())
        if record is not None:
            found.append(spans_object(record, data.decode("utf-8", errors="replace")))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the letters")
    args = parser.parse_args()

    from imrgold.core.tokens import spans_line, with_tokens

    letters = objects()
    lines, dumped = [], []
    for _ in range(args.rounds):
        for obj in letters:
            t0 = time.perf_counter()
            spans_line(obj)
            t1 = time.perf_counter()
            json.dumps(with_tokens(obj), ensure_ascii=False)
            lines.append(t1 - t0)
            dumped.append(time.perf_counter() - t1)
    (l_median, l_p95), (d_median, d_p95) = _ms(lines), _ms(dumped)
    print(f"spans_line: median {l_median:.2f} ms, p95 {l_p95:.2f} ms a letter; dicts + "
          f"json.dumps: median {d_median:.2f} ms, p95 {d_p95:.2f} ms; "
          f"ratio {d_median / l_median:.1f}x")  # fmt: skip
    times = []
    for _ in range(args.rounds):
        for obj in letters:
            t0 = time.perf_counter()
            with_tokens(obj)
            times.append(time.perf_counter() - t0)
    median, p95 = _ms(times)
    tokened = [with_tokens(obj) for obj in letters]
    n_tokens = statistics.median(len(obj["tokens"]) for obj in tokened)
    plain = statistics.median(len(json.dumps(obj)) for obj in letters)
    full = statistics.median(len(json.dumps(obj)) for obj in tokened)
    print(f"{len(letters)} letters, {sum(len(o['spans']) for o in tokened)} spans")
    print(f"with_tokens: median {median:.2f} ms, p95 {p95:.2f} ms a letter "
          f"({n_tokens:.0f} tokens); a spans line {plain / 1000:.0f} kB -> "
          f"{full / 1000:.0f} kB")  # fmt: skip
    try:
        import spacy
    except ImportError:
        print("naive way skipped: spaCy is not installed (pip install 'imrgold[spacy]')")
        return
    nlp = spacy.blank("en")
    naive = []
    for _ in range(args.rounds):
        for obj in letters:
            t0 = time.perf_counter()
            nlp(obj["text"])
            naive.append(time.perf_counter() - t0)
    n_median, n_p95 = _ms(naive)
    total = aligned = 0
    for obj in letters:
        doc = nlp(obj["text"])
        for span in obj["spans"]:
            total += 1
            found = doc.char_span(span["start"], span["end"], alignment_mode="strict")
            aligned += found is not None
    print(f"spaCy's English tokenizer: median {n_median:.2f} ms, p95 {n_p95:.2f} ms a letter; "
          f"ratio {n_median / median:.1f}x; {aligned} of {total} spans "
          f"({100 * aligned / total:.1f}%) on its token boundaries")  # fmt: skip


if __name__ == "__main__":
    main()
