"""How well and how fast the drug lexicon suggests names (targets: top-1 >= 90 %, top-5 >= 98 %,
p95 <= 10 ms a query over the full lexicon, load < 300 ms).

Reads ``bench/data/suggest_queries.tsv``: queries with their right answers, of these kinds:
brand names as written, compounded products and kits with their dose text, typos and OCR damage
generated from real names, abbreviations, strengths glued on, and damaged names whose letter
names them correctly elsewhere (the letter's text travels with the query). The file is generated
once from a fixed seed (``--regenerate``) and kept in the repository, so figures compare across
changes.

Prints, for `Lexicon.suggest` and for the naive way (rapidfuzz ``process.extract`` over every
name of the dictionary and the supplement, on a sample since it is slow): top-1 and top-5
accuracy by name (and by generic ingredients), p50/p95 latency per query, and the load time of
the lexicon in a fresh process (from the cache, and from scratch with ``--cold``).

Usage: python bench/suggest.py [--naive-sample 60] [--repeat 3] [--cold] [--misses]
       python bench/suggest.py --regenerate   (rewrite the query file; changes the figures)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

QUERIES = ROOT / "bench" / "data" / "suggest_queries.tsv"
FIELDS = ("kind", "query", "expected", "generics", "letter")


def _names(text: str) -> list[str]:
    return text.split()


# Names workers' compensation letters request, as written; the right answer of each generated
# query is the lexicon's entry for the name it was generated from.
BRANDS = _names(
    """
Norco Fexmid Flexeril Percocet Vicodin Lortab Ultram Ultracet Celebrex Mobic Naprosyn Anaprox
Prilosec Protonix Nexium Zantac Pepcid Zofran Ambien Lunesta Soma Skelaxin Robaxin Zanaflex
Amrix Lioresal Norflex Lyrica Neurontin Gralise Cymbalta Savella Elavil Pamelor Desyrel
Wellbutrin Effexor Lidoderm Voltaren Flector Pennsaid Duragesic Butrans OxyContin Roxicodone
Nucynta Opana Dilaudid Kadian Topamax Imitrex Fioricet Medrol Toradol Motrin Tylenol Restoril
Xanax Valium Klonopin Ativan Colace Senokot Amitiza Movantik Relistor Arthrotec Duexis Vimovo
Relafen Daypro Lodine Zipsor Zorvolex Lorzone Horizant Dexilant Prevacid Marinol Provigil
Kenalog Qutenza Embeda Dolophine Demerol Trezix Endocet Xartemis Hysingla Sprix Tivorbex
"""
)
PRODUCTS = [
    "Terocin",
    "Terocin patch",
    "Medi-Derm",
    "LidoPro",
    "Medrox",
    "Menthoderm",
    "Kera-Tek",
    "Synapryn",
    "Tabradol",
    "Deprizine",
    "Dicopanol",
    "Fanatrex",
    "Cyclophene",
    "Theramine",
    "Sentra AM",
    "Sentra PM",
    "Gabadone",
    "Trepadone",
    "Laxacin",
    "Genicin",
    "TGHot",
    "Flurflex",
    "Somnicin",
    "Xolido",
]
GENERICS = _names(
    """
cyclobenzaprine gabapentin tramadol hydrocodone oxycodone acetaminophen ibuprofen naproxen
diclofenac celecoxib meloxicam ketoprofen flurbiprofen baclofen tizanidine methocarbamol
carisoprodol metaxalone orphenadrine pregabalin duloxetine amitriptyline nortriptyline
trazodone omeprazole pantoprazole ranitidine ondansetron lidocaine capsaicin menthol
bupivacaine ketamine dextromethorphan glucosamine zolpidem diazepam morphine hydromorphone
buprenorphine fentanyl tapentadol oxymorphone methadone topiramate venlafaxine bupropion
etodolac nabumetone ketorolac dexamethasone prednisone esomeprazole misoprostol famotidine
"""
)
ABBREVIATIONS = [
    ("APAP 500mg", "Acetaminophen"),
    ("Hydrocodone/APAP 10/325", "Hydrocodone/APAP"),
    ("hydrocodone-apap 5/325 #60", "Hydrocodone/APAP"),
    ("HC/APAP 7.5/325", "Hydrocodone/APAP"),
    ("Oxycodone/APAP 10/325", "Oxycodone/APAP"),
    ("ASA 81mg daily", "Aspirin"),
    ("HCTZ 25mg", "Hydrochlorothiazide"),
    ("MSO4 15mg", "Morphine"),
    ("MSIR 15 mg q4h prn", "Morphine"),
    ("OxyIR 5mg", "Oxycodone IR"),
    ("MSM 500mg", "Methylsulfonylmethane"),
    ("NTG 0.4mg SL", "Nitroglycerin"),
    ("MS Contin 30mg ER", "Ms Contin"),
    ("Tylenol #3", "Tylenol with Codeine"),
    ("Tylenol w/ codeine #3", "Tylenol with Codeine"),
    ("Vicodin ES", "Vicodin"),
]
STRENGTHS = ["10/325", "7.5mg", "5/325mg", "600mg", "50mg", "20mg", "1.5%", "5%", "0.025%", "800"]
COUNTS = ["#60", "#90", "#120", "#30", "qty 1", "QTY: 2", "x60"]
TAILS = [
    "1 po q8-12h prn",
    "bid",
    "tid prn",
    "1 tab po qhs",
    "apply to affected area 3 times a day",
    "with 2 refills",
    "DOS: 11/11/2016",
    "oral suspension 250ml",
    "cream 120 grams",
    "patch 12 hours on 12 hours off",
    "in PLO gel 120g",
]
OCR_SWAPS = [
    ("m", "rn"),
    ("rn", "m"),
    ("l", "1"),
    ("i", "l"),
    ("o", "0"),
    ("e", "c"),
    ("c", "e"),
    ("h", "b"),
    ("d", "cl"),
    ("cl", "d"),
    ("n", "ri"),
    ("u", "ii"),
    ("a", "o"),
    ("t", "f"),
]
KEYBOARD = {
    "a": "qsz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "q": "wa", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc",
    "y": "tu", "z": "x",
}  # fmt: skip


@dataclass
class Query:
    kind: str
    query: str
    expected: str
    generics: list[str]
    letter: str = ""


# ---------------------------------------------------------------------------------------------
# Generating the query set (run once; the file is kept).


def _typo(name: str, rng: random.Random) -> str:
    chars = list(name)
    edits = 1 if len(name) < 9 else rng.choice((1, 2))
    for _ in range(edits):
        letters = [i for i, c in enumerate(chars) if c.isalpha()][1:]
        if len(letters) < 3:
            break
        i = rng.choice(letters)
        op = rng.choice(("delete", "swap", "neighbour", "double"))
        if op == "delete":
            del chars[i]
        elif op == "swap" and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif op == "neighbour" and chars[i].lower() in KEYBOARD:
            chars[i] = rng.choice(KEYBOARD[chars[i].lower()])
        else:
            chars.insert(i, chars[i])
    return "".join(chars)


def _ocr(name: str, rng: random.Random) -> str:
    swaps = [(a, b) for a, b in OCR_SWAPS if a in name[1:].lower()]
    out = name
    for a, b in rng.sample(swaps, min(len(swaps), 1 if len(name) < 9 else 2)):
        at = out.lower().find(a, 1)
        if at > 0:
            out = out[:at] + b + out[at + len(a) :]
    if rng.random() < 0.25 and len(out) > 7:
        cut = rng.randint(3, len(out) - 3)
        out = out[:cut] + " " + out[cut:]
    return out if out != name else _typo(name, rng)


def _heavy(name: str, rng: random.Random) -> str:
    """Damage enough that the name alone is doubtful, as in "Cyclopean" for Cyclophene."""
    return _typo(_ocr(name, rng), rng)


def generate(seed: int = 4) -> list[Query]:
    from imrgold.core.lexicon import default_lexicon
    from imrgold.core.lexicon_text import name_tokens

    lex = default_lexicon()
    rng = random.Random(seed)

    def answer(name: str) -> tuple[str, list[str]] | None:
        found = lex.resolve(name)
        return (found[0], list(found[1])) if found else None

    def clash(query: str, expected: str) -> bool:
        # A damaged spelling that happens to be another real name has no single right answer.
        words = name_tokens(query)
        found = lex.resolve(" ".join(words)) if words else None
        return found is not None and found[0] != expected

    out: list[Query] = []

    def add(kind: str, query: str, base: str, letter: str = "") -> None:
        known = answer(base)
        if known is None or clash(query, known[0]):
            return
        out.append(Query(kind, query, known[0], known[1], letter))

    names = BRANDS + PRODUCTS
    for base in names:
        style = rng.choice((str, str.upper, str.lower, str.title))
        add("brand" if base in BRANDS else "compound", style(base), base)
    for base in PRODUCTS:
        add("compound", f"{base} {rng.choice(TAILS)}", base)
    for base in rng.sample(BRANDS + GENERICS, 70) + PRODUCTS[:14]:
        name = base if base[0].isupper() else base.capitalize()
        add("typo", _typo(name, rng), base)
    for base in rng.sample(BRANDS + GENERICS, 55) + PRODUCTS[:10]:
        name = base if base[0].isupper() else base.capitalize()
        add("ocr", _ocr(name, rng), base)
    for base in rng.sample(BRANDS + GENERICS, 40) + PRODUCTS[:6]:
        name = base if base[0].isupper() else base.capitalize()
        glued = f"{name}{rng.choice(STRENGTHS)}{rng.choice(COUNTS)}"
        if rng.random() < 0.5:
            glued += " " + rng.choice(TAILS)
        add("glued", glued, base)
    for base in rng.sample(GENERICS, 25):
        add("generic", f"{base.capitalize()} {rng.choice(STRENGTHS)} {rng.choice(COUNTS)}", base)
    for query, base in ABBREVIATIONS:
        add("abbreviation", query, base)
    for base in rng.sample(BRANDS + GENERICS, 24) + PRODUCTS[:6]:
        name = base if base[0].isupper() else base.capitalize()
        other = rng.choice(GENERICS)
        letter = (
            f"Current medications include {other} and {name}. The treating physician "
            f"requested {name} {rng.choice(STRENGTHS)}."
        )
        add("letter", _heavy(name, rng), base, letter)
    seen: set[str] = set()
    unique = []
    for q in out:
        if q.query.lower() not in seen:
            seen.add(q.query.lower())
            unique.append(q)
    return unique


def write(queries: list[Query], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(FIELDS)
        for q in queries:
            writer.writerow([q.kind, q.query, q.expected, ";".join(q.generics), q.letter])


def _generics(cell: str) -> list[str]:
    return [g for g in cell.split(";") if g]


def read(path: Path) -> list[Query]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Query(r["kind"], r["query"], r["expected"], _generics(r["generics"]), r["letter"])
        for r in rows
    ]


# ---------------------------------------------------------------------------------------------
# Measuring.


def _same(a: str, b: str) -> bool:
    from imrgold.core.lexicon_text import compact

    return compact(a) == compact(b)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_lexicon(queries: list[Query], repeat: int = 1) -> dict[str, object]:
    """Accuracy, and latency per query: one pass as a user meets it, and (with ``repeat``)
    the best of several passes, which is what the code costs once the shared machine's other
    work is taken out."""
    from imrgold.core.lexicon import default_lexicon

    lex = default_lexicon()
    for q in queries[:20]:  # warm the letter contexts and numpy
        lex.suggest(q.query, q.letter or None)
    times, best_times, top1, top5, gen1 = [], [], 0, 0, 0
    by_kind: dict[str, list[int]] = {}
    misses = []
    for q in queries:
        start = time.perf_counter()
        found = lex.suggest(q.query, q.letter or None, limit=10)
        times.append((time.perf_counter() - start) * 1000)
        best = times[-1]
        for _ in range(repeat - 1):
            start = time.perf_counter()
            lex.suggest(q.query, q.letter or None, limit=10)
            best = min(best, (time.perf_counter() - start) * 1000)
        best_times.append(best)
        names = [c.name for c in found]
        hit1 = bool(names) and _same(names[0], q.expected)
        hit5 = any(_same(n, q.expected) for n in names[:5])
        top1 += hit1
        top5 += hit5
        gen1 += bool(found) and found[0].generics == q.generics
        by_kind.setdefault(q.kind, [0, 0])
        by_kind[q.kind][0] += hit1
        by_kind[q.kind][1] += 1
        if not hit1:
            misses.append((q.kind, q.query, q.expected, names[:3]))
    n = len(queries)
    return {
        "n": n,
        "top1": top1 / n,
        "top5": top5 / n,
        "generics_top1": gen1 / n,
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
        "best_p50_ms": statistics.median(best_times),
        "best_p95_ms": percentile(best_times, 0.95),
        "by_kind": {k: v[0] / v[1] for k, v in sorted(by_kind.items())},
        "misses": misses,
    }


def measure_naive(queries: list[Query], sample: int) -> dict[str, object]:
    """rapidfuzz ``process.extract`` (WRatio, lowercased) over every name there is."""
    import bz2
    import pickle

    from rapidfuzz import process, utils

    from imrgold.core.lexicon import default_lexicon
    from imrgold.core.lexicon_build import SUPPLEMENT_PATH, dictionary_path, load_supplement

    lex = default_lexicon()
    with bz2.open(dictionary_path(), "rb") as handle:
        choices = list(pickle.load(handle)["drug_variant_to_canonical"])
    for product in load_supplement(SUPPLEMENT_PATH):
        choices += [product["name"], *product.get("aliases", [])]
    step = max(1, len(queries) // sample) if sample else 1
    picked = queries[::step]
    times, top1, top5, gen1 = [], 0, 0, 0
    for q in picked:
        start = time.perf_counter()
        found = process.extract(q.query, choices, limit=5, processor=utils.default_process)
        times.append((time.perf_counter() - start) * 1000)
        names = [(lex.resolve(choice) or (choice, (), {}, ""))[:2] for choice, _, _ in found]
        top1 += bool(names) and _same(names[0][0], q.expected)
        top5 += any(_same(n, q.expected) for n, _ in names)
        gen1 += bool(names) and list(names[0][1]) == q.generics
    n = len(picked)
    return {
        "n": n,
        "choices": len(choices),
        "top1": top1 / n,
        "top5": top5 / n,
        "generics_top1": gen1 / n,
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
    }


LOAD_SNIPPET = """
import json, time
t0 = time.perf_counter()
from imrgold.core.lexicon import Lexicon
t1 = time.perf_counter()
lex = Lexicon()
t2 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "load_ms": (t2 - t1) * 1000, "names": len(lex)}))
"""


def measure_load(cache_dir: str | None, runs: int = 3) -> dict[str, float]:
    """Import and load times in fresh processes (best of ``runs``: the machine is shared)."""
    env = dict(os.environ)
    if cache_dir:
        env["IMRGOLD_CACHE_DIR"] = cache_dir
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", LOAD_SNIPPET],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(done.stdout))
    best = min(results, key=lambda r: r["load_ms"])
    best["load_ms_median"] = statistics.median(r["load_ms"] for r in results)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-sample", type=int, default=60, help="queries for the naive way")
    parser.add_argument("--cold", action="store_true", help="also time a build without cache")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the query file")
    parser.add_argument("--misses", action="store_true", help="list the top-1 misses")
    parser.add_argument("--quick", action="store_true", help="accuracy and latency only")
    parser.add_argument("--repeat", type=int, default=3, help="passes per query for best-of")
    args = parser.parse_args()

    if args.regenerate:
        write(generate(), QUERIES)
    queries = read(QUERIES)
    kinds = {}
    for q in queries:
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    print(f"queries: {len(queries)} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
    if hasattr(os, "getloadavg"):
        # Latency on a shared machine depends on what else runs; say how busy it was.
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    if args.quick:
        ours = measure_lexicon(queries, args.repeat)
        print({k: v for k, v in ours.items() if k != "misses"})
        for miss in ours["misses"] if args.misses else ():
            print("  miss:", *miss)
        return 0
    load = measure_load(None)
    print(
        f"load (from cache, fresh process): {load['load_ms']:.0f} ms best, "
        f"{load['load_ms_median']:.0f} ms median; import {load['import_ms']:.0f} ms; "
        f"{load['names']} names"
    )
    if args.cold:
        with tempfile.TemporaryDirectory() as empty:
            cold = measure_load(empty, runs=1)
        print(f"load (cold: built from the dictionary file): {cold['load_ms']:.0f} ms")

    ours = measure_lexicon(queries, args.repeat)
    print(
        f"lexicon.suggest: top-1 {ours['top1']:.1%}  top-5 {ours['top5']:.1%}  "
        f"(generics top-1 {ours['generics_top1']:.1%})  "
        f"p50 {ours['p50_ms']:.2f} ms  p95 {ours['p95_ms']:.2f} ms  max {ours['max_ms']:.1f} ms"
    )
    if args.repeat > 1:
        print(
            f"  best of {args.repeat} passes per query: p50 {ours['best_p50_ms']:.2f} ms  "
            f"p95 {ours['best_p95_ms']:.2f} ms"
        )
    print("  top-1 by kind: " + ", ".join(f"{k} {v:.0%}" for k, v in ours["by_kind"].items()))
    naive = measure_naive(queries, args.naive_sample)
    print(
        f"naive process.extract over {naive['choices']} names ({naive['n']} queries): "
        f"top-1 {naive['top1']:.1%}  top-5 {naive['top5']:.1%}  "
        f"(generics top-1 {naive['generics_top1']:.1%})  "
        f"p50 {naive['p50_ms']:.1f} ms  p95 {naive['p95_ms']:.1f} ms"
    )
    print(f"speed-up at p50: {naive['p50_ms'] / ours['p50_ms']:.0f}x")
    if args.misses:
        for miss in ours["misses"]:
            print("  miss:", *miss)
    targets = (
        ours["top1"] >= 0.90
        and ours["top5"] >= 0.98
        and ours["p95_ms"] <= 10
        and load["load_ms"] < 300
    )
    print("targets met" if targets else "targets NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
