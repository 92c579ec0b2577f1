"""`imrgold eval --gold FILE_OR_DIR`: the machine's proposals scored against gold records."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from imrgold.cli.common import UserError, bundled_letters_dir, db_path, fixtures_dir

if TYPE_CHECKING:  # imported where used: a command loads only what it runs
    from imrgold.core.evaluate import Evaluation, Flagging
    from imrgold.core.models import GoldRecord, Letter

NAME = "eval"
HELP = (
    "score the extractor against gold records, field by field, with a calibration table and "
    "its figures on letters held out of the calibration"
)
EXAMPLES = """examples:
  imrgold eval --gold fixtures/gold
  imrgold eval --gold fixtures/pdf/gold --letters fixtures/pdf --errors 20
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gold",
        required=True,
        metavar="FILE_OR_DIR",
        help="gold records: a JSON Lines file, or a folder of .json records",
    )
    parser.add_argument(
        "--letters",
        action="append",
        metavar="DIR",
        help="folder of letter files to find each record's letter in by sha256 (repeatable; "
        "default: the bundled fixtures/letters and fixtures/synthetic/letters, then the store)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument(
        "--errors", type=int, default=0, metavar="N", help="also list the first N wrong fields"
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text, not a gold record") from None


def _load_gold(path: Path) -> list[GoldRecord]:
    from pydantic import ValidationError

    from imrgold.core.models import GoldRecord

    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    sources: list[tuple[str, str]] = []
    if path.is_dir():
        # Plain files only: a folder named x.json is skipped, a FIFO would block the read.
        gold_files = sorted(p for p in path.glob("*.json") if p.is_file())
        sources = [(str(p), _read_text(p)) for p in gold_files]
    elif not path.is_file():
        raise UserError(f"{path}: not a regular file (a FIFO or device is not read)")
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
        stripped = text.lstrip()
        if stripped.startswith("{") and "\n{" not in stripped and path.suffix == ".json":
            sources = [(str(path), text)]
        else:
            sources = [
                (f"{path}:{n}", line) for n, line in enumerate(text.splitlines(), 1) if line.strip()
            ]
    records = []
    for where, raw in sources:
        try:
            records.append(GoldRecord.model_validate_json(raw))
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise UserError(f"{where}: not a gold record ({loc}: {first['msg']})") from None
    if not records:
        raise UserError(f"{path}: no gold records")
    return records


def _letter_index(folders: list[Path]) -> dict[str, tuple[str, Path]]:
    """letter_id -> (name, path) for every letter file in the folders."""
    from imrgold.core.reading import SUFFIXES

    index: dict[str, tuple[str, Path]] = {}
    for folder in folders:
        if not folder.is_dir():
            raise UserError(f"{folder}: not a folder")
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() in SUFFIXES and p.is_file():
                index.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), (p.stem, p))
    return index


def _store_letters(args: argparse.Namespace, letter_ids: list[str]) -> dict[str, Letter]:
    """The letters the store holds among ``letter_ids`` (none if there is no store)."""
    if not letter_ids:
        return {}
    from imrgold.store import Store, StoreError

    path = db_path(args.db)
    if not path.exists():
        return {}
    try:
        store = Store.open(path, read_only=True)
    except StoreError as err:
        from imrgold.cli.main import printable

        # The folders' letters are enough to go on with, but not silently (and in one line).
        print(f"imrgold eval: the store is not read: {printable(str(err))}", file=sys.stderr)
        return {}
    try:
        return {i: store.get_letter(i) for i in letter_ids if store.has_letter(i)}
    finally:
        store.close()


def run(args: argparse.Namespace) -> int:
    from imrgold.core.evaluate import evaluate, flagging, held_out
    from imrgold.core.extract import extract
    from imrgold.core.reading import LetterError, read_letter

    records = _load_gold(Path(args.gold).expanduser())
    if args.letters:
        folders = [Path(p).expanduser() for p in args.letters]
    else:
        root = fixtures_dir()
        candidates = [bundled_letters_dir()]
        if root is not None:
            candidates.append(root / "synthetic" / "letters")
        folders = [d for d in candidates if d is not None and d.is_dir()]
    index = _letter_index(folders)

    pairs = []
    raw_pairs = []
    names: dict[str, str] = {}
    missing: list[str] = []
    stored = _store_letters(args, [r.letter_id for r in records if r.letter_id not in index])
    for record in records:
        found = index.get(record.letter_id)
        if found is not None:
            try:
                letter = read_letter(found[1], check=False)
            except LetterError as err:
                raise UserError(str(err)) from None
            names[record.letter_id] = found[0]
        else:
            known = stored.get(record.letter_id)
            if known is None:
                missing.append(record.letter_id)
                continue
            letter = known
            names[record.letter_id] = Path(letter.name).stem
        pairs.append((record, extract(letter.text, letter.letter_id)))
        raw_pairs.append((record, extract(letter.text, letter.letter_id, calibrated=False)))
    for letter_id in missing:
        print(f"imrgold eval: no letter for gold record {letter_id[:12]}", file=sys.stderr)
    if not pairs:
        raise UserError("none of the gold records' letters were found (see --letters)")

    result = evaluate(pairs, names)
    # Records of one case (a text copy's and its PDF's) are one letter: left out together.
    case_of = {r.letter_id: r.case_number or r.letter_id for r, _ in raw_pairs}
    folds = held_out(evaluate(raw_pairs).samples, case_of)
    shipped = flagging(result.samples)
    report = result.to_dict()
    report["flags"] = shipped.to_dict()
    report["held_out"] = folds.to_dict()
    if not args.errors:
        report.pop("errors")
    else:
        report["errors"] = report["errors"][: args.errors]
    if args.json:
        print(json.dumps(report, default=str))
    else:
        _print_tables(result, args.errors)
        _print_flags(shipped, folds)
    return 1 if missing else 0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _print_flags(shipped: Flagging, folds: Flagging) -> None:
    from imrgold.core.calibration import FLAG_BELOW

    for title, f in (
        ("As shipped (calibration fitted on the repository's gold)", shipped),
        (f"Held out (calibration refitted without each letter, {folds.folds} folds)", folds),
    ):
        print(f"{title}:")
        print(f"  ECE {_pct(f.ece)} points")
        print(f"  flag share {_pct(f.flag_share)}% of {f.fields} fields below {FLAG_BELOW:.2f}")
        print(
            f"  flag recall {_pct(f.flag_recall)}% of the machine's errors "
            f"({f.errors_flagged} of {f.errors})"
        )


def _print_tables(result: Evaluation, n_errors: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    table = Table(
        title=f"Extraction vs gold: {result.letters} letters, items gold "
        f"{result.items_gold} / machine {result.items_machine} / matched "
        f"{result.items_matched}"
    )
    for col in ("field", "n", "accuracy %", "precision %", "recall %", "F1 %"):
        table.add_column(col, justify="left" if col == "field" else "right")
    for f in result.fields.values():
        lists = f.kind == "list"
        table.add_row(
            f.key,
            str(f.n),
            _pct(f.accuracy),
            _pct(f.precision) if lists else "",
            _pct(f.recall) if lists else "",
            _pct(f.f1) if lists else "",
        )
    overall = result.overall_list
    table.add_section()
    table.add_row(
        "overall",
        str(sum(f.n for f in result.fields.values())),
        _pct(result.overall_accuracy),
        _pct(overall.precision),
        _pct(overall.recall),
        _pct(overall.f1),
        style="bold",
    )
    console.print(table)

    cal = Table(title=f"Confidence calibration (ECE {_pct(result.ece)} points)")
    for col in ("confidence", "fields", "mean confidence %", "accuracy %"):
        cal.add_column(col, justify="right")
    for b in result.bins:
        high = min(b.high, 1.0)
        cal.add_row(f"{b.low:.2f}-{high:.2f}", str(b.n), _pct(b.mean_confidence), _pct(b.accuracy))
    console.print(cal)
    for err in result.errors[:n_errors]:
        # Text, not markup: the values are the letters' words.
        line = Text(str(err["where"]), style="red")
        line.append(
            f" {err['field']} (conf {err['confidence']:.2f}): "
            f"gold {json.dumps(err['gold'], default=str)[:120]} | "
            f"machine {json.dumps(err['machine'], default=str)[:120]}"
        )
        console.print(line, highlight=False)
