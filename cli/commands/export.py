"""`imrgold export`: write the gold data set as JSON Lines, CSV, text-plus-spans, a spaCy
DocBin or Parquet."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imrgold.cli.common import (
    UserError,
    add_jobs_argument,
    check_statuses,
    db_path,
    existing_store,
    jobs_for,
)

if TYPE_CHECKING:
    from imrgold.core.deidentify import Deidentifier
    from imrgold.core.models import GoldRecord
    from imrgold.store import Store
    from imrgold.store.qa.selection import ExportEntry

NAME = "export"
HELP = "write the gold data set (jsonl, csv, spans, docbin or parquet) to a file"
EXAMPLES = """examples:
  imrgold export --format jsonl --out gold.jsonl
  imrgold export --format csv --status reviewed --out reviewed.csv
  imrgold export --format spans --deidentify --out spans.jsonl
  imrgold export --format docbin --out train.spacy      # needs imrgold[spacy]
  imrgold export --format parquet --out gold.parquet    # needs imrgold[parquet]
"""
# Written as one binary file, never to standard output.
BINARY_FORMATS = ("docbin", "parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv", "spans", *BINARY_FORMATS),
        default="jsonl",
        help="jsonl: one docs/gold-record.md record a line (and FILE.features.json, its "
        "datasets features); csv: one row per disputed item; spans: letter text, tokens and "
        "labelled spans (Prodigy's format); docbin: the spans as a spaCy DocBin; parquet: one "
        "row a record with a fixed Arrow schema",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        default="-",
        help="file to write (default: standard output); for docbin, a folder (FOLDER/, new or "
        "empty) takes it in parts: one file holds a few hundred letters at most",
    )
    parser.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="only letters in this status (repeatable; default: every letter with a gold record)",
    )
    parser.add_argument(
        "--annotator",
        metavar="NAME",
        default=None,
        help="export this annotator's version instead of the final one",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="write the rest when the store has lost some gold records (they are named)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="write an empty data set (exit 0) when nothing matches the filters",
    )
    add_jobs_argument(parser, "cut tokens and de-identify")
    parser.add_argument(
        "--deidentify",
        action="store_true",
        help="remove what identifies a person (HIPAA Safe Harbor as far as letters hold it): "
        "names of the labelled header and every later mention, honorifics' names, street "
        "addresses, cities, ZIP codes, phone and fax numbers, e-mail, URLs, IP addresses, SSN, "
        "MRN, claim, policy and WCAB ADJ numbers (each as [KIND]); case numbers in any spacing "
        "as a stable pseudonym; every date shifted by a per-letter offset (31-365 days); ages "
        "over 89 (digits or words) as 90 and such birth dates removed; letter ids hashed",
    )


def _check_arguments(args: argparse.Namespace) -> None:
    """What can be refused before the store is read."""
    check_statuses(args.status)
    jobs_for(args.jobs, 0)
    if args.format in BINARY_FORMATS and args.out == "-":
        raise UserError(f"--format {args.format} writes a binary file: give --out FILE")
    _check_extra(args.format)
    if _in_parts(args):
        _check_parts_folder(Path(args.out).expanduser())


def _in_parts(args: argparse.Namespace) -> bool:
    return args.format == "docbin" and _folder_target(args.out)


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    path = existing_store(db_path(args.db), "; run `imrgold ingest` first")

    from imrgold.cli.identity import current
    from imrgold.store import Store
    from imrgold.store.qa.selection import awaiting_adjudication, export_records
    from imrgold.store.storage import paused_gc

    # The deidentification key is created on first use and kept in the store.  Records read
    # make no reference cycle: the collector would only rescan the gold shards, again and again.
    # spaCy's Docs do: a DocBin in parts would keep every part's without it.
    collector = contextlib.nullcontext() if args.format == "docbin" else paused_gc(freeze=True)
    with (
        collector,
        Store.open(path, read_only=not args.deidentify, annotator=current()) as store,
    ):
        missing: list[str] | None = [] if args.allow_missing else None
        jobs = _jobs(store, args)
        entries = export_records(
            store,
            statuses=args.status,
            annotator=args.annotator,
            # Whose record it is: the spans are labelled from that annotator's proposal, read
            # with the letter's text where it is rendered (`_render`).
            whose=args.format in ("spans", "docbin"),
            missing=missing,
        )
        # Streamed: one record read, rendered and written at a time (memory stays flat at any
        # size); the first is read before anything is written, to refuse an empty data set.
        first = next(entries, None)
        if first is None and not args.allow_empty:
            raise UserError(
                f"nothing to export: no gold record {_filters(args)} (--allow-empty "
                "writes an empty data set)",
                exit_code=1,
            )
        counted = _Counted(itertools.chain([first] if first else [], entries))
        chunks, deid = _render(store, counted, args, path=path, jobs=jobs)
        if _in_parts(args):
            _write_parts(Path(args.out).expanduser(), chunks)
        else:
            _write(args.out, chunks, binary=args.format in BINARY_FORMATS)
        if args.format == "jsonl" and args.out != "-":
            _write_features(Path(args.out).expanduser())
        waiting = 0 if args.status or args.annotator else awaiting_adjudication(store)
        report = _left_out(waiting, missing or []) + (deid.summary() if deid is not None else [])
    where = "standard output" if args.out == "-" else args.out
    print(f"exported {counted.n} letter(s) as {args.format} to {where}", file=sys.stderr)
    for line in report:
        print(line, file=sys.stderr)
    return 0


def _left_out(waiting: int, missing: list[str]) -> list[str]:
    """What the data set lacks, said after it is written."""
    said = []
    if waiting:
        said.append(
            f"left out {waiting} letter(s) awaiting adjudication "
            "(`imrgold review --adjudicate`, or --status adjudication)"
        )
    if missing:
        said.append(
            f"left out {len(missing)} letter(s) whose gold record is lost: " + "; ".join(missing)
        )
    return said


class _Counted:
    """The entries, counted as they pass."""

    def __init__(self, entries: Iterable[ExportEntry]) -> None:
        self._entries, self.n = entries, 0

    def __iter__(self) -> Iterator[ExportEntry]:
        for entry in self._entries:
            self.n += 1
            yield entry


def _render(
    store: Store,
    entries: Iterable[ExportEntry],
    args: argparse.Namespace,
    *,
    path: Path,
    jobs: int,
) -> tuple[Iterator[str] | Iterator[bytes], Deidentifier | None]:
    """The export's lines (a binary format's chunks), produced as they are written, and the
    de-identifier (its summary is complete once the lines are).  Tokens and de-identification
    run in `core.render`, in ``jobs`` worker processes for a large store (`_jobs`); with
    workers, the spans format's letters are read there too (`store.qa.rendering`)."""
    from imrgold.core import export
    from imrgold.core.render import record_of, rendered, spans_object_of, spans_of
    from imrgold.core.tokens import with_tokens
    from imrgold.store.qa import rendering

    deid = key = None
    if args.deidentify:
        from imrgold.core.deidentify import Deidentifier
        from imrgold.store.qa.deidentify import deidentify_key

        key = deidentify_key(store)
        deid = Deidentifier(key)

    # A spans letter: its record, status and whose record it is (`rendering.letter_of` reads
    # the rest, here or in a worker).
    stored = ((entry.record, entry.status, entry.annotator) for entry in entries)
    letters = (rendering.letter_of(store, item) for item in stored)

    # Tokens last: they are cut where the spans of the text as written out are.
    if args.format == "spans" and jobs > 1:
        reading = _reading_workers(path, key)
        return rendered(rendering.spans_of_stored, stored, **reading, jobs=jobs, into=deid), deid
    if args.format == "spans":
        return rendered(spans_of, letters, key=key, jobs=1, into=deid), deid
    if args.format == "docbin":
        from imrgold.core.docbin import PART, docbin_parts

        # Here: spaCy's objects are built in this process, and a DocBin is serialized whole.
        objs = rendered(spans_object_of, letters, key=key, jobs=1, into=deid)
        docs = (with_tokens(obj) for obj in objs)
        if _folder_target(args.out):
            return docbin_parts(docs), deid

        def at_most_one_part() -> Iterator[dict[str, Any]]:
            for count, doc in enumerate(docs, 1):
                if count > PART:
                    raise UserError(
                        f"a DocBin is built whole in memory: more than {PART} letters; give "
                        f"--out FOLDER/ to write it in parts of {PART} (spaCy reads the folder "
                        "as one corpus)"
                    )
                yield doc

        return docbin_parts(at_most_one_part()), deid
    records: Iterable[GoldRecord] = (e.record for e in entries)
    if deid is not None and jobs > 1:
        # With each letter's text, read by the worker: the names its header labels leave the
        # record too.
        reading = _reading_workers(path, key)
        records = rendered(rendering.record_of_stored, records, **reading, jobs=jobs, into=deid)
    elif deid is not None:
        texts = ((r, rendering.letter_text(store, r.letter_id)) for r in records)
        records = rendered(record_of, texts, key=key, jobs=1, into=deid)
    if args.format == "parquet":
        from imrgold.core.columnar import parquet_chunks

        return parquet_chunks(records), deid
    if args.format == "jsonl":
        return export.jsonl_lines(records), deid
    return export.csv_lines(records), deid


def _reading_workers(path: Path, key: bytes | str | None) -> Any:
    """`core.render.rendered`'s arguments for workers that read their letters from the store
    (`store.qa.rendering`)."""
    from imrgold.store.qa import rendering

    return {
        "key": key,
        "initializer": rendering.start,
        "initargs": (str(path.absolute()), key),
        "preload": ["imrgold.core.render", "imrgold.store.qa.rendering"],
    }


def _jobs(store: Store, args: argparse.Namespace) -> int:
    return jobs_for(args.jobs, len(store))


def _folder_target(out: str) -> bool:
    """``--out`` names a folder (one that is, or a name ending in a slash): a DocBin in parts."""
    return out.endswith("/") or Path(out).expanduser().is_dir()


def _check_parts_folder(folder: Path) -> None:
    """A DocBin's parts go to a new or empty folder: old parts would read as the same corpus."""
    try:
        if folder.is_dir() and any(folder.iterdir()):
            raise UserError(f"folder {folder} is not empty: give a new or empty folder")
    except OSError as err:
        raise UserError(f"cannot read folder {folder}: {err.strerror or err}") from None
    if not folder.parent.is_dir():
        raise UserError(f"folder {folder.parent} does not exist")


def _write_parts(folder: Path, parts: Iterable[Any]) -> None:
    """Each part (bytes) to ``folder/part-NNNNN.spacy`` (0600, the folder 0700 when made
    here); if one fails, the parts written before it go too: never half a data set."""
    from imrgold.core.files import atomic_write, private_dir

    made = not folder.exists()
    written: list[Path] = []
    try:
        private_dir(folder)
        for index, part in enumerate(parts):
            path = folder / f"part-{index:05d}.spacy"
            atomic_write(path, [part])
            written.append(path)
    except BaseException as err:
        for path in written:
            path.unlink(missing_ok=True)
        if made:
            with contextlib.suppress(OSError):  # not empty: something else wrote there
                folder.rmdir()
        if isinstance(err, OSError):
            raise UserError(f"cannot write {folder}: {err.strerror or err}") from None
        raise


def _check_extra(fmt: str) -> None:
    """Refuse a format whose optional library is missing before anything is read or written."""
    from imrgold.core.extras import MissingExtra, require

    needs = {"docbin": ("spacy", "spacy"), "parquet": ("pyarrow.parquet", "parquet")}
    if fmt in needs:
        try:
            require(*needs[fmt], f"--format {fmt}")
        except MissingExtra as err:
            raise UserError(str(err)) from None


def _write_features(target: Path) -> None:
    """The JSONL export's `datasets` features beside it (``gold.jsonl`` ->
    ``gold.features.json``), so every export loads with the same types."""
    from imrgold.core.columnar import datasets_features

    features = json.dumps(datasets_features(), indent=2) + "\n"
    _write(str(target.with_suffix(".features.json")), [features.encode("utf-8")], binary=True)


def _filters(args: argparse.Namespace) -> str:
    said = [f"with status {' or '.join(args.status)}" if args.status else "",
            f"by annotator {args.annotator!r}" if args.annotator else ""]  # fmt: skip
    return " and ".join(s for s in said if s) or "in the store"


def _chunks(lines: Iterable[str], size: int = 1 << 20) -> Iterator[str]:
    """Lines in batches of about ``size`` characters: one write a megabyte, not one a line.
    Counted in characters, not lines: a spans line with its tokens is 100 kB, and a few hundred
    of them held (then joined, then encoded) took 100 MB."""
    batch: list[str] = []
    held = 0
    for line in lines:
        batch.append(line)
        held += len(line) + 1
        if held >= size:
            yield "\n".join(batch) + "\n"
            batch, held = [], 0
    if batch:
        yield "\n".join(batch) + "\n"


def _write(out: str, lines: Iterable[Any], binary: bool = False) -> None:
    """Text lines (bytes if ``binary``) to the file ``out`` or, for text, standard output."""
    from imrgold.core.files import UnsafeTarget, atomic_write

    if out == "-":
        for chunk in _chunks(lines):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    target = Path(out).expanduser()
    if target.parent and not target.parent.is_dir():
        raise UserError(f"folder {target.parent} does not exist")
    # A new 0600 file under a random name, renamed over the target: an interrupted export never
    # leaves half a data set, and a link planted in the folder is never written through.
    try:
        chunks = lines if binary else (chunk.encode("utf-8") for chunk in _chunks(lines))
        atomic_write(target, chunks)
    except UnsafeTarget as err:
        raise UserError(f"{err}; give a file name, or --out - for standard output") from None
    except OSError as err:
        raise UserError(f"cannot write {target}: {err.strerror or err}") from None
