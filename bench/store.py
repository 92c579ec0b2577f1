"""The store at scale, beside TinyDB's default JSONStorage doing the same work.

Builds a corpus of N letters (default 10,000) from the fixture letters (each copy made distinct by
a line of its own), each with the machine's proposal, an annotator's draft and a gold version, in
a temporary folder.  Then times, for `store.Store` and for a plain ``TinyDB(path)`` holding the
same tables in one file (the naive first version of the store):

- opening the store and listing the queue (targets: at most 1 s);
- saving one correction, i.e. one draft with one field changed (target: p95 at most 50 ms);
- exporting every gold record as JSON Lines (target: at most 3 s), in process through
  `Store.gold_records`, and as a user does it, ``imrgold export`` in a fresh process.

Beside the wall time the store's CPU time is printed: the machine may be shared, and on a busy
one the two part ways.

The naive store rewrites its whole file on every save, so it is timed on fewer saves.

Usage: python bench/store.py [--letters 10000] [--saves 300] [--naive-saves 5] [--no-naive]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from imrgold.core.extract import extract  # noqa: E402
from imrgold.core.models import GoldRecord, Letter, Proposal  # noqa: E402
from imrgold.core.reading import read_letter  # noqa: E402

TARGETS = {"open": 1.0, "save p95": 0.050, "export": 3.0}


def corpus(n: int) -> list[tuple[Letter, Proposal, GoldRecord]]:
    bases = []
    for path in sorted((ROOT / "fixtures" / "letters").iterdir()):
        letter = read_letter(path)
        proposal = extract(letter.text, letter.letter_id)
        bases.append((letter, proposal, _gold(proposal)))
    out = []
    for i in range(n):
        letter, proposal, gold = bases[i % len(bases)]
        text = f"{letter.text}\n[bench copy {i}]\n"
        lid = hashlib.sha256(text.encode()).hexdigest()
        out.append(
            (
                letter.model_copy(update={"letter_id": lid, "text": text, "name": f"{i:05d}.txt"}),
                proposal.model_copy(update={"letter_id": lid}),
                gold.model_copy(update={"letter_id": lid}),
            )
        )
    return out


def _gold(proposal: Proposal) -> GoldRecord:
    try:
        return proposal.to_record()
    except ValueError:
        return GoldRecord(letter_id=proposal.letter_id)


def corrected(proposal: Proposal, k: int) -> Proposal:
    fields = dict(proposal.fields)
    fields["case_number"] = proposal.get("case_number").model_copy(
        update={"value": f"CM99-{k:07d}", "source": "human"}
    )
    return proposal.model_copy(update={"fields": fields})


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def p95(values: list[float], q: float = 0.95) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- the store --------------------------------------------------------------------------------


def build_store(path: Path, data: list[tuple[Letter, Proposal, GoldRecord]]) -> float:
    from imrgold.store import Store

    start = time.perf_counter()
    with Store.open(path, annotator="bench") as store, store.batch():
        for letter, proposal, gold in data:
            store.add_letter(letter, proposal)
            store.save_draft(proposal)
            store.mark_gold(Proposal.from_record(gold))
    return time.perf_counter() - start


def run_store(path: Path, data, saves: int, rng: random.Random) -> dict[str, object]:
    from imrgold.store import Store

    def open_and_list() -> None:
        with Store.open(path, read_only=True) as store:
            store.summaries()

    opens = [cpu_and_wall(open_and_list) for _ in range(5)]
    save_times: list[float] = []
    with Store.open(path, annotator="bench") as store:
        for k in range(saves):
            lid = data[rng.randrange(len(data))][0].letter_id
            proposal = corrected(store.working_copy(lid), k)
            save_times.append(timed(lambda p=proposal: store.save_draft(p)))
    writers: list[Store] = []
    writer_open = cpu_and_wall(lambda: writers.append(Store.open(path, annotator="bench")))
    writers[0].close()

    def export() -> None:
        with Store.open(path, read_only=True) as store:
            _export(path.with_suffix(".jsonl"), store.gold_records())

    cli = [sys.executable, "-m", "imrgold", "export", "--format", "jsonl"]
    cli += ["--out", str(path.with_suffix(".cli.jsonl")), "--db", str(path)]
    return {
        "open": min(opens, key=lambda t: t[0]),
        "writer open": writer_open,
        "save median": statistics.median(save_times),
        "save p95": p95(save_times),
        "save max": max(save_times),  # the save that runs a checkpoint
        "export": cpu_and_wall(export),
        "imrgold export": timed(
            lambda: subprocess.run(cli, cwd=ROOT, check=True, capture_output=True)
        ),
    }


def cpu_and_wall(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall time, and this process's CPU time: on a busy machine they part ways."""
    cpu = time.process_time()
    wall = timed(fn)
    return wall, time.process_time() - cpu


def _export(out: Path, records: list[GoldRecord]) -> None:
    with out.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(record.model_dump_json() + "\n")


# -- TinyDB's default JSONStorage -----------------------------------------------------------------


def build_naive(path: Path, data) -> float:
    from tinydb import TinyDB

    start = time.perf_counter()
    db = TinyDB(path)
    db.table("letters").insert_multiple(d[0].model_dump(mode="json") for d in data)
    db.table("proposals").insert_multiple(d[1].model_dump(mode="json") for d in data)
    db.table("drafts").insert_multiple(
        {"letter_id": d[1].letter_id, "proposal": d[1].model_dump(mode="json")} for d in data
    )
    db.table("gold").insert_multiple(d[2].model_dump(mode="json") for d in data)
    db.close()
    return time.perf_counter() - start


def run_naive(path: Path, data, saves: int, rng: random.Random) -> dict[str, object]:
    from tinydb import Query, TinyDB

    def open_and_list() -> None:
        db = TinyDB(path)
        [(d["letter_id"], d["name"]) for d in db.table("letters")]
        db.close()

    opens = [timed(open_and_list) for _ in range(2)]
    save_times = []
    db = TinyDB(path)
    drafts = db.table("drafts")
    for k in range(saves):
        lid = data[rng.randrange(len(data))][0].letter_id
        doc = drafts.get(Query().letter_id == lid)
        proposal = corrected(Proposal.model_validate(doc["proposal"]), k)
        save_times.append(
            timed(
                lambda p=proposal, lid=lid: drafts.update(
                    {"proposal": p.model_dump(mode="json")}, Query().letter_id == lid
                )
            )
        )
    db.close()

    def export() -> None:
        naive = TinyDB(path)
        _export(
            path.with_suffix(".jsonl"), [GoldRecord.model_validate(d) for d in naive.table("gold")]
        )
        naive.close()

    return {
        "open": statistics.median(opens),
        "save median": statistics.median(save_times),
        "save p95": p95(save_times),
        "export": timed(export),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--naive-saves", type=int, default=5)
    parser.add_argument("--no-naive", action="store_true", help="skip TinyDB's JSONStorage")
    parser.add_argument(
        "--keep", metavar="DIR", type=Path, help="build the store in DIR once and reuse it"
    )
    args = parser.parse_args()

    data = corpus(args.letters)
    with tempfile.TemporaryDirectory(prefix="imrgold-bench-") as tmp:
        folder = Path(tmp)
        ours_path = (args.keep or folder) / "store" / "imrgold.json"
        built: object = None
        if not ours_path.exists():
            built = build_store(ours_path, data)
        ours = run_store(ours_path, data, args.saves, random.Random(1))
        theirs: dict[str, object] = {}
        if not args.no_naive:
            naive_built = build_naive(folder / "naive.json", data)
            theirs = run_naive(folder / "naive.json", data, args.naive_saves, random.Random(1))
            theirs["build"] = naive_built
            size = (folder / "naive.json").stat().st_size
        ours["build"] = built

    print(f"{args.letters} letters, each with a proposal, a draft and a gold version")
    print(f"{'':16}{'imrgold store':>14}{'(cpu)':>10}{'TinyDB JSON':>14}{'ratio':>9}{'target':>10}")
    keys = ("build", "open", "writer open", "save median", "save p95", "save max", "export")
    keys += ("imrgold export",)
    for key in keys:
        mine, naive = ours.get(key), theirs.get(key)
        mine, cpu = mine if isinstance(mine, tuple) else (mine, None)
        ratio = f"{naive / mine:8.1f}x" if isinstance(naive, float) and mine else f"{'':9}"
        target = f"{TARGETS[key] * 1000:>7.0f} ms" if key in TARGETS else ""
        print(f"{key:16}{_ms(mine):>14}{_ms(cpu):>10}{_ms(naive):>14}{ratio}{target:>10}")
    if theirs:
        print(
            f"(TinyDB JSON file: {size / 1e6:.0f} MB, every save rewrites it; "
            f"{args.naive_saves} saves timed)"
        )
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    ok = all(_wall(ours[k]) <= t for k, t in TARGETS.items())
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


def _wall(value: object) -> float:
    return value[0] if isinstance(value, tuple) else value  # type: ignore[return-value]


def _ms(value: object) -> str:
    return f"{value * 1000:.1f} ms" if isinstance(value, float) else "-"


if __name__ == "__main__":
    sys.exit(main())
