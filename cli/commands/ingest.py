"""`imrgold ingest PATH...`: add letters and their proposals to the store."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from imrgold.cli.common import UserError, add_jobs_argument, db_path, jobs_for

if TYPE_CHECKING:
    from rich.progress import Progress

    from imrgold.core.ingest import Outcome
    from imrgold.core.models import Letter, Proposal
    from imrgold.store import Store

NAME = "ingest"
HELP = "add letters (.txt, .md, .pdf files, folders, globs) and their proposals to the store"
MAX_SIZE_MB = 1024
"""No letter is a gigabyte; a larger limit (or inf, nan) is a typing slip."""
EXAMPLES = """examples:
  imrgold ingest inbox/
  imrgold ingest "scans/**/*.pdf" --jobs 2
  imrgold ingest letter.txt --db team/ana.json
"""

EXIT_SKIPPED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Each file it cannot use gets one line 'PATH: problem' on stderr (so does each duplicate "
        "unless --quiet), then a summary line on stdout. A letter is known by the sha256 of its "
        "bytes. Exit status: 0 if nothing was skipped, 1 if any file was, 2 on a usage or store "
        "error."
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or quoted globs")
    add_jobs_argument(parser, "extract")
    parser.add_argument(
        "--max-size",
        type=float,
        default=None,
        metavar="MB",
        help="skip files larger than this many megabytes (default 20)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not list duplicates, only problems"
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.core.ingest import Summary, collect, ingest
    from imrgold.core.reading import DEFAULT_MAX_BYTES
    from imrgold.store import StoreError

    if args.max_size is not None and not 0 < args.max_size <= MAX_SIZE_MB:
        raise UserError(f"--max-size must be a number of megabytes from 0 to {MAX_SIZE_MB}")
    max_bytes = int(args.max_size * 1024 * 1024) if args.max_size else DEFAULT_MAX_BYTES

    inputs = collect(args.paths)
    if not inputs.files and not inputs.skipped:
        raise UserError(f"no .txt, .md or .pdf files in {' '.join(args.paths)}")
    jobs = jobs_for(args.jobs, len(inputs.files))
    summary = Summary(ignored=inputs.ignored)
    try:
        with _Reporter(len(inputs.files), quiet=args.quiet) as report:
            for outcome in inputs.skipped:
                summary.count(outcome)
                report.line(outcome.message)
            if inputs.files:
                with _open_store(db_path(args.db)) as sink:
                    outcomes = ingest(
                        inputs.files, sink, known=sink.letter_ids(), jobs=jobs, max_bytes=max_bytes
                    )
                    with _collector_spares_the_store() as settled:
                        for outcome in outcomes:
                            summary.count(outcome)
                            report.done(outcome)
                            settled()
    except KeyboardInterrupt:
        # What was added is stored whole; say so, since a rerun picks up from there.
        print(f"{summary.line()}; interrupted, run again to add the rest")
        raise
    except (OSError, StoreError):
        # A full disk or a store gone bad midway: what was added before it is kept; the summary
        # says how much, then the error's own line (cli.main) says why it stopped.
        print(f"{summary.line()}; stopped by the error below, run again to add the rest")
        raise
    print(summary.line())
    return EXIT_SKIPPED if summary.n_skipped else 0


@contextlib.contextmanager
def _collector_spares_the_store(every: int = 1000) -> Iterator[Callable[[], None]]:
    """Keep the garbage collector from walking the store's growing tables again and again.

    Automatic full collections visit every tracked object, and the store keeps thousands of
    records' JSON in memory: at 10,000 letters they took a sixth of the run.  Instead, every
    ``every`` letters, one collection of the young generations finds what cycles there are;
    what survives it is left to reference counting, which frees it all the same.
    """
    import gc

    count = 0

    def settled() -> None:
        nonlocal count
        count += 1
        if count % every == 0:
            gc.collect(1)

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield settled
    finally:
        if was_enabled:
            gc.enable()


class StoreSink:
    """The store as a `core.ingest.Sink`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def letter_ids(self) -> list[str]:
        return self.store.letter_ids()

    def known_name(self, letter_id: str) -> str | None:
        if not self.store.has_letter(letter_id):
            return None
        return self.store.summary(letter_id).name

    def save(self, letter: Letter, proposal: Proposal) -> bool:
        # One journal entry holds both, so a crash keeps both or neither.
        return self.store.add_letter(letter, proposal)

    def restore(self, letter: Letter) -> bool:
        return self.store.restore_text(letter)


@contextlib.contextmanager
def _open_store(path: Path) -> Iterator[StoreSink]:
    from imrgold.cli.identity import current
    from imrgold.store import Store

    store = Store.open(path, annotator=current())
    with store, store.batch():
        yield StoreSink(store)
        # Inside the batch the checkpoint writes the letters' files without one fsync each
        # and syncs once; left to close() it would fsync every file.
        store.checkpoint()


class _Reporter:
    """One line a problem on stderr and, on a terminal, a progress bar below them."""

    def __init__(self, total: int, *, quiet: bool) -> None:
        self.total = total
        self.quiet = quiet
        self.progress: Progress | None = None

    def __enter__(self) -> _Reporter:
        from rich.console import Console

        console = Console(stderr=True)
        if console.is_terminal and self.total > 1:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("ingesting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("ingest", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def line(self, text: str) -> None:
        from imrgold.cli.main import printable

        text = printable(text)  # a file name with a newline or an escape stays one line
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=sys.stderr)

    def done(self, outcome: Outcome) -> None:
        if outcome.message and not (self.quiet and outcome.status == "duplicate"):
            self.line(outcome.message)
        if self.progress is not None:
            self.progress.advance(self.task)
