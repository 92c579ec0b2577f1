"""QA at scale: merge, agreement, stats and export on stores of N letters (default 2,000).

Builds two stores from the fixture letters (each copy made distinct by a line of its own): alice
marks every letter gold, bob half of them with one value in ten letters changed.  Then times, with
repeats (median and p95 in seconds):

- `imrgold merge` of bob's store into alice's (once: it changes the store);
- `agreement` (gathering versions from the store plus computing every coefficient);
- `stats` (history of every letter, machine accuracy per field);
- `export jsonl` the lean way (records from the gold shards only) against the naive way
  (also reading every letter's draft/proposal, which only the spans format needs);
- `export spans` and `export jsonl --deidentify`;
- `imrgold export` as a user runs it (open the store, gather the records, write the file).

With `--scale`, instead: each command as a user runs it (a fresh process, a cache folder of its
own), on stores of 1,000 and 10,000 letters, with its wall time and peak RSS at both sizes and
the growth from one to the other (10x the letters should cost at most 10x the time; memory
should stay flat where the command streams).  Targets at 10,000 letters: <= 3 s and <= 400 MB
each.  The stores' proposals are stamped as `imrgold ingest` stamps them, so `agreement` reads
them; `agreement, another extractor` runs as after an upgrade (every letter extracted, in
workers, and kept), then again (read from the cache).

Each process's CPU time is printed beside its wall time: on a shared machine the wall time
says as much about the neighbours as about the command.  Both CPU time and peak RSS are the
command's own process: the workers that extract, cut tokens and de-identify (one a CPU from 200
letters) each have their own.  `--stores DIR` keeps the built stores there and reuses them on
the next run (building 10,000 letters takes minutes).

Usage: python bench/qa.py [--letters 2000] [--repeats 5]
       | --scale [--sizes 1000,10000] [--stores DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from imrgold.core import export  # noqa: E402
from imrgold.core.deidentify import Deidentifier  # noqa: E402
from imrgold.core.extract import extract  # noqa: E402
from imrgold.core.machine_cache import fingerprint  # noqa: E402
from imrgold.core.models import Proposal, ProposedField  # noqa: E402
from imrgold.core.reading import read_letter  # noqa: E402
from imrgold.store.layout import Layout  # noqa: E402
from imrgold.store.qa.merge import merge  # noqa: E402
from imrgold.store.qa.rendering import letter_of  # noqa: E402
from imrgold.store.qa.selection import export_records, proposal_for  # noqa: E402
from imrgold.store.qa.stats import gather_stats  # noqa: E402
from imrgold.store.store import Store  # noqa: E402


def build(path: Path, annotator: str, n: int, *, every: int = 1, change_every: int = 0) -> None:
    bases = []
    for letter_path in sorted((ROOT / "fixtures" / "letters").glob("*.txt")):
        letter = read_letter(letter_path)
        # Stamped as `imrgold ingest` stamps them: made by the extractor as it is now.
        proposal = extract(letter.text, letter.letter_id)
        bases.append((letter, proposal.model_copy(update={"extractor": fingerprint()})))
    with Store.open(path, annotator=annotator) as store, store.batch():
        for i in range(0, n, every):
            letter, proposal = bases[i % len(bases)]
            text = f"{letter.text}\n[bench copy {i}]\n"
            lid = hashlib.sha256(text.encode()).hexdigest()
            copy = letter.model_copy(update={"letter_id": lid, "text": text, "name": f"{i:05d}"})
            mine: Proposal = proposal.model_copy(update={"letter_id": lid})
            if change_every and i % change_every == 0:
                fields = dict(mine.fields)
                fields["patient.age"] = ProposedField(value=(i % 80) + 18, source="human")
                mine = mine.model_copy(update={"fields": fields})
            store.add_letter(copy)
            store.put_proposal(mine)
            store.mark_gold(mine)


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95


# The child reports its own high-water mark (VmHWM is the process's, reset by exec; the rusage
# of a forked child also counts the parent's pages it was forked with).
_CHILD = """
import atexit, os, runpy, sys
def report():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                os.write(int(os.environ["BENCH_FD"]), line.split()[1].encode())
atexit.register(report)
sys.argv = ["imrgold", *sys.argv[1:]]
runpy.run_module("imrgold", run_name="__main__", alter_sys=True)
"""


def run_command(
    argv: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS in MB, exit code, CPU seconds) of one `imrgold` process."""
    read, write = os.pipe()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write,),
        env={**os.environ, **(env or {}), "BENCH_FD": str(write)},
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    os.close(write)
    with os.fdopen(read) as pipe:
        peak_kb = int(pipe.read() or 0)
    return wall, peak_kb / 1024, proc.returncode, cpu


def _drug_data_copy(folder: Path) -> str:
    """The drug data file under another name: the same proposals, another fingerprint."""
    import shutil

    from imrgold.core.lexicon_build import dictionary_path

    copy = folder / "drug-data" / dictionary_path().name
    copy.parent.mkdir()
    shutil.copy2(dictionary_path(), copy)
    return str(copy)


def _fresh_cache(folder: Path) -> str:
    """A cache folder without machine proposals, with the user's lexicon and ICD-10-CM tables
    (rebuilding those would be timed as the first command's)."""
    import shutil

    from imrgold.core.files import private_dir, user_cache_dir

    private_dir(folder)
    for kept in [*user_cache_dir().glob("icd10cm-*.json"), *user_cache_dir().glob("lexicon-*")]:
        shutil.copy2(kept, folder / kept.name)
    return str(folder)


def scale(sizes: list[int], stores: Path | None = None) -> None:
    commands = {
        "stats": ["stats"],
        "stats --json": ["stats", "--json"],
        # The stores' proposals are stamped as ingest stamps them: the same extractor's.
        "agreement": ["agreement"],
        # As after an upgrade: another extractor (the drug data read from another path), whose
        # first run extracts every letter in workers and keeps them, and the next reads them.
        "agreement, another extractor": ["agreement"],
        "agreement, it again": ["agreement"],
        "agreement --machine stored": ["agreement", "--machine", "stored"],
        "doctor": ["doctor"],
        "export jsonl": ["export", "--format", "jsonl"],
        "export csv": ["export", "--format", "csv"],
        "export spans": ["export", "--format", "spans"],
        "export jsonl --deidentify": ["export", "--format", "jsonl", "--deidentify"],
        "export spans --deidentify": ["export", "--format", "spans", "--deidentify"],
    }
    # The optional formats, where their extras are installed.
    import importlib.util

    if importlib.util.find_spec("pyarrow"):
        commands["export parquet"] = ["export", "--format", "parquet"]
    if importlib.util.find_spec("spacy"):
        commands["export docbin (a folder)"] = ["export", "--format", "docbin"]
    found: dict[str, dict[int, tuple[float, float, int, float]]] = {n: {} for n in commands}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"IMRGOLD_CACHE_DIR": _fresh_cache(Path(tmp) / "cache")}
        upgraded = {"IMRGOLD_DRUG_DICTIONARY": _drug_data_copy(Path(tmp))}
        for n in sizes:
            db = (stores or Path(tmp)) / f"s{n}" / "imrgold.json"
            if not db.exists():
                start = time.perf_counter()
                build(db, "alice", n)
                print(f"built a store of {n} letters in {time.perf_counter() - start:.1f} s")
            elif not Layout(db).index.is_dir():
                # A store kept from before the index: its first writer builds it, once.
                start = time.perf_counter()
                Store.open(db, annotator="bench").close()
                print(f"indexed the store of {n} letters in {time.perf_counter() - start:.1f} s")
            for name, argv in commands.items():
                out = ["--out", str(Path(tmp) / f"out-{n}")] if argv[0] == "export" else []
                if "docbin" in argv:  # in parts, to a new folder
                    out = ["--out", f"{Path(tmp) / f'docbin-{n}'}/"]
                other = {**env, **upgraded} if name.startswith("agreement, ") else env
                found[name][n] = run_command([*argv, "--db", str(db), *out], other)
                print(f"  {name} @{n}: {found[name][n][0]:.2f} s", file=sys.stderr)
    small, large = sizes[0], sizes[-1]
    head = [f"s @{small}", f"cpu @{small}", f"MB @{small}", f"s @{large}", f"cpu @{large}",
            f"MB @{large}"]  # fmt: skip
    print(f"{'command':<28}" + "".join(f"{h:>11}" for h in head) + f"{'cpu x':>7}{'MB x':>6}")
    for name, by_size in found.items():
        (t0, m0, rc0, c0), (t1, m1, rc1, c1) = by_size[small], by_size[large]
        flag = "" if rc0 == rc1 == 0 else f"  exit {rc0}/{rc1}"
        print(f"{name:<28}{t0:>11.2f}{c0:>11.2f}{m0:>11.0f}{t1:>11.2f}{c1:>11.2f}{m1:>11.0f}"
              f"{c1 / c0:>7.1f}{m1 / m0:>6.1f}{flag}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scale", action="store_true", help="commands at 1,000 and 10,000")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--stores", type=Path, help="keep the built stores here and reuse them")
    args = parser.parse_args()
    if args.scale:
        scale([int(n) for n in args.sizes.split(",")], args.stores)
        return
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "alice.json", Path(tmp) / "bob.json"
        start = time.perf_counter()
        build(a, "alice", args.letters)
        build(b, "bob", args.letters, every=2, change_every=10)
        print(f"built stores of {args.letters} letters in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        with Store.open(a, annotator="alice") as target, Store.open(b, read_only=True) as other:
            report = merge(target, other, source="bob")
        print(
            f"merge: {time.perf_counter() - start:.2f} s, {report.versions_added} versions, "
            f"{len(report.to_adjudication)} to adjudication"
        )

        with Store.open(a, read_only=True) as store:
            from imrgold.cli.commands.agreement import report_of

            def agreement() -> None:
                report_of(store, "stored")

            def lean() -> None:
                list(export.jsonl_lines(e.record for e in export_records(store)))

            def naive() -> None:
                # Each letter's proposal read as well, as a spans export reads it.
                records = []
                for e in export_records(store, whose=True):
                    proposal_for(store, e.letter_id, e.annotator)
                    records.append(e.record)
                list(export.jsonl_lines(records))

            def spans() -> None:
                for e in export_records(store, whose=True):
                    record, text, proposal, _ = letter_of(store, (e.record, e.status, e.annotator))
                    export.spans_line(record, text, proposal)

            def deidentified() -> None:
                deid = Deidentifier("bench")
                list(export.jsonl_lines(deid.record(e.record) for e in export_records(store)))

            out = Path(tmp) / "export.jsonl"

            def command() -> None:
                from imrgold.cli.main import main as imrgold

                with contextlib.redirect_stderr(io.StringIO()):
                    imrgold(["export", "--db", str(a), "--out", str(out)])

            rows = [
                ("agreement (stored machine)", timed(agreement, args.repeats)),
                ("stats", timed(lambda: gather_stats(store), args.repeats)),
                ("export jsonl, lean", timed(lean, args.repeats)),
                ("export jsonl, naive", timed(naive, args.repeats)),
                ("export spans", timed(spans, args.repeats)),
                ("export jsonl --deidentify", timed(deidentified, args.repeats)),
                ("imrgold export (command)", timed(command, args.repeats)),
            ]
    print(f"{'task':<30} {'median s':>9} {'p95 s':>9}")
    for name, (median, p95) in rows:
        print(f"{name:<30} {median:>9.3f} {p95:>9.3f}")
    lean_median = rows[2][1][0]
    print(f"naive / lean export: {rows[3][1][0] / lean_median:.1f}x")


if __name__ == "__main__":
    main()
