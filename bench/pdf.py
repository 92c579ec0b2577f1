"""Real published PDF -> proposal, on one core (target: at least 50 letters a second).

The state publishes IMR determinations as AES-encrypted PDFs (empty user password).  This bench
reads the real ones in `fixtures/pdf/` and `../shared/letters-pdf/` (75 letters where both are
present), repeats them to ``--n`` letters and, in this one process:

- times read (`core.reading.pdf_text`, PDFium) + repair + extract (`core.extract.extract`) per
  letter by CPU time: letters per second, median and p95 per letter, and the split between
  reading and extraction;
- times the naive ways of getting the same text on the same PDFs, in the same run: pypdf with
  its AES decryption (what the project used before), and a `pdftotext` process per letter (what
  made the text copies), and prints each as a ratio against PDFium;
- times `imrgold ingest --jobs N` on the PDFs for N = 1 and 2 (wall clock, fresh store each),
  to show it scales.

Usage: python bench/pdf.py [--n 3000] [--naive 150] [--skip-ingest]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "letters-pdf"


def real_pdfs() -> list[Path]:
    """Every real PDF at hand, one copy of each (by name)."""
    found: dict[str, Path] = {}
    for folder in (ROOT / "fixtures" / "pdf", SHARED, SHARED / "unlabeled"):
        if folder.is_dir():
            for path in sorted(folder.glob("*.pdf")):
                found.setdefault(path.name, path)
    return list(found.values())


def _stats(times: list[float]) -> tuple[float, float, float]:
    """(letters a second, median ms, p95 ms) of per-letter CPU times in seconds."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return len(times) / sum(times), 1000 * statistics.median(times), 1000 * p95


def bench_pipeline(corpus: list[tuple[str, bytes]]) -> tuple[list[float], list[float]]:
    from imrgold.core.extract import extract
    from imrgold.core.reading import pdf_text

    read_times, total_times = [], []
    clock = time.process_time
    for name, data in corpus:
        t0 = clock()
        text = pdf_text(data, name)
        t1 = clock()
        extract(text, "0" * 64)
        t2 = clock()
        read_times.append(t1 - t0)
        total_times.append(t2 - t0)
    return read_times, total_times


def bench_pypdf(corpus: list[tuple[str, bytes]]) -> list[float] | str:
    try:
        import io

        from pypdf import PdfReader
    except ImportError:
        return "pypdf not installed (pip install -e '.[test]')"
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    times = []
    for _, data in corpus:
        t0 = time.process_time()
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        "\f".join(page.extract_text() or "" for page in reader.pages)
        times.append(time.process_time() - t0)
    return times


def bench_pdftotext(corpus: list[tuple[str, bytes]]) -> list[float] | str:
    exe = shutil.which("pdftotext")
    if exe is None:
        return "pdftotext not installed (Debian: poppler-utils)"
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (_, data) in enumerate(corpus):
            path = Path(tmp) / f"{i}.pdf"
            path.write_bytes(data)
            # A process each, as a pipeline calling it would; its CPU time is the child's.
            before = os.times()
            subprocess.run([exe, str(path), "-"], check=True, capture_output=True)
            after = os.times()
            times.append(
                (after.children_user - before.children_user)
                + (after.children_system - before.children_system)
            )
    return times


def bench_ingest(folder: Path, jobs: int) -> float:
    """Wall-clock seconds of `imrgold ingest --jobs N` on a folder into a fresh store (the
    user's caches kept warm, as a user's are)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, XDG_DATA_HOME=tmp, XDG_CONFIG_HOME=tmp, IMRGOLD_ANNOTATOR="bench")
        cmd = [sys.executable, "-m", "imrgold", "ingest", "--db", f"{tmp}/store.json", "-q",
               "--jobs", str(jobs), str(folder)]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, env=env, capture_output=True)
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="letters to time (PDFs repeated)")
    parser.add_argument("--naive", type=int, default=150, help="letters for the naive readers")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--copies", type=int, default=8, help="copies of each PDF to ingest")
    args = parser.parse_args()

    pdfs = real_pdfs()
    if not pdfs:
        sys.exit("no real PDFs found in fixtures/pdf or ../shared/letters-pdf")
    base = [(p.name, p.read_bytes()) for p in pdfs]
    corpus = [base[i % len(base)] for i in range(args.n)]
    print(f"{len(pdfs)} real published PDFs, repeated to {len(corpus)} letters; one core, CPU time")

    bench_pipeline(base)  # warm: imports, the drug lexicon, regex caches
    read_times, total_times = bench_pipeline(corpus)
    rate, median, p95 = _stats(total_times)
    _, read_median, read_p95 = _stats(read_times)
    print(
        f"read + repair + extract: {rate:7.1f} letters/s  median {median:6.2f} ms  "
        f"p95 {p95:6.2f} ms  (target >= 50 letters/s: {'met' if rate >= 50 else 'MISSED'})"
    )
    print(
        f"  of which reading (PDFium): median {read_median:6.2f} ms  p95 {read_p95:6.2f} ms "
        f"({100 * sum(read_times) / sum(total_times):.0f}% of the time)"
    )

    sample = corpus[: args.naive]
    print(f"naive readers on {len(sample)} letters (text only, no extraction):")
    for label, result in (("pypdf + AES decrypt", bench_pypdf(sample)),
                          ("pdftotext process", bench_pdftotext(sample))):  # fmt: skip
        if isinstance(result, str):
            print(f"  {label:22s} skipped: {result}")
            continue
        _, n_median, n_p95 = _stats(result)
        print(
            f"  {label:22s} median {n_median:7.2f} ms  p95 {n_p95:7.2f} ms  "
            f"= {n_median / read_median:5.1f}x PDFium's median read, "
            f"{n_median / median:5.1f}x our whole read + extract"
        )

    if not args.skip_ingest:
        with tempfile.TemporaryDirectory() as tmp:
            # Each PDF with line breaks appended after %%EOF a few times over: new letters
            # (another sha256), the same text to read and extract.
            folder = Path(tmp)
            for copy in range(args.copies):
                for pdf, (_, data) in zip(pdfs, base, strict=True):
                    (folder / f"{copy}-{pdf.name}").write_bytes(data + b"\n" * (copy + 1))
            n = args.copies * len(pdfs)
            print(f"imrgold ingest of {n} real PDFs (wall clock, fresh store, warm caches):")
            bench_ingest(folder, 1)  # warm the caches a first run may have to build
            one = bench_ingest(folder, 1)
            print(f"  --jobs 1  {one:6.2f} s  {n / one:6.1f} letters/s")
            for jobs in range(2, (os.cpu_count() or 1) + 1):
                t = bench_ingest(folder, jobs)
                print(
                    f"  --jobs {jobs}  {t:6.2f} s  {n / t:6.1f} letters/s  "
                    f"({one / t:.2f}x --jobs 1)"
                )


if __name__ == "__main__":
    main()
