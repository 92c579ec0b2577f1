"""The gold data set in the forms people train and evaluate from.

Pure functions over `GoldRecord` (and, for spans, the letter text and the proposal's spans); the
command in `cli/commands/export.py` picks the records from the store and writes the lines.

- ``jsonl``: one gold record (docs/gold-record.md) a line; `pandas.read_json(path, lines=True)`
  and the datasets library's json loader read it as is.
- ``csv``: one row per disputed item, the letter's fields repeated on each row, list values joined
  with ``"; "`` so a spreadsheet shows them in one cell.
- ``spans``: the letter text with the character span and label of every field, one JSON object a
  line, in the ``{"text", "spans": [{"start", "end", "label"}]}`` form spaCy and Prodigy read;
  the export adds Prodigy's tokens and token ranges (``core.tokens.with_tokens``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from imrgold.core.models import (
    HEADER_FIELDS,
    ITEM_FIELDS,
    LETTER_FIELDS,
    PATIENT_FIELDS,
    REVIEWER_FIELDS,
    GoldRecord,
    Proposal,
    Span,
    flatten,
    item_path,
    split_item_path,
)

LIST_SEPARATOR = "; "

# ---------------------------------------------------------------------------------------------
# jsonl


def jsonl_line(record: GoldRecord) -> str:
    return record.model_dump_json()


def jsonl_lines(records: Iterable[GoldRecord]) -> Iterator[str]:
    for record in records:
        yield jsonl_line(record)


# ---------------------------------------------------------------------------------------------
# csv

LETTER_COLUMNS: tuple[str, ...] = (
    "letter_id",
    *HEADER_FIELDS,
    *(p.replace(".", "_") for p in REVIEWER_FIELDS + PATIENT_FIELDS),
    "diagnoses",
    "diagnosis_codes",
)
ITEM_COLUMNS: tuple[str, ...] = ("item_index", *(f"item_{n}" for n in ITEM_FIELDS))
CSV_COLUMNS: tuple[str, ...] = LETTER_COLUMNS + ITEM_COLUMNS


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return value


# The letter columns' field paths (``reviewer.licensure`` for ``reviewer_licensure``).
_LETTER_PATHS: tuple[str, ...] = tuple(
    next(p for p in LETTER_FIELDS if p.replace(".", "_") == column) for column in LETTER_COLUMNS[1:]
)


def csv_rows(record: GoldRecord) -> list[list[Any]]:
    """One row per disputed item, its cells in `CSV_COLUMNS` order; a letter without items
    still gets one row (item cells empty), so no letter silently drops out of the table."""
    flat = flatten(record)
    letter = [record.letter_id, *(_cell(flat[p]) for p in _LETTER_PATHS)]
    if not record.items:
        return [letter + [None] * len(ITEM_COLUMNS)]
    rows = []
    for index in range(len(record.items)):
        at = item_path(index, "")  # the item's paths' common start
        rows.append([*letter, index, *[_cell(flat[at + name]) for name in ITEM_FIELDS]])
    return rows


def csv_lines(records: Iterable[GoldRecord]) -> Iterator[str]:
    """The CSV a record at a time (header first), each yield one or more lines without the
    last newline: what an export streams to its file."""
    yield csv_line(CSV_COLUMNS)
    for record in records:
        yield "\n".join(csv_line(row) for row in csv_rows(record))


def csv_line(cells: Iterable[Any]) -> str:
    """One CSV line (without its newline) as `csv.writer` writes it (minimal quoting, ``,`` and
    ``"``, None as an empty cell), of more than one cell (`csv.writer` quotes a lone empty
    one).  Spelled out: the csv module, a character at a time, was a third of an export at
    10,000 letters; tests/test_fast_paths.py holds this to it."""
    return ",".join([_csv_field(cell) for cell in cells])


def _csv_field(value: Any) -> str:
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text:  # not "\r": `csv.writer` quotes its line ending's only
        return '"' + text + '"'
    return text


def csv_text(records: Iterable[GoldRecord]) -> str:
    return "".join(chunk + "\n" for chunk in csv_lines(records))


# ---------------------------------------------------------------------------------------------
# spans


def label_of(path: str) -> str:
    """``items.2.drugs`` -> ``drugs``; ``reviewer.licensure`` -> ``reviewer.licensure``."""
    split = split_item_path(path)
    return split[1] if split else path


def _elements(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None and str(v)]
    return [str(value)]


def _loose_pattern(needle: str, flags: int = 0) -> re.Pattern[str]:
    # The gold value folds line breaks and runs of spaces; the letter text does not.
    body = r"\s+".join(re.escape(w) for w in needle.split())
    # A short value ("51", "MD") must not match inside a longer word or number.
    before = r"(?<!\w)" if re.match(r"\w", needle.strip()) else ""
    after = r"(?!\w)" if re.search(r"\w$", needle.strip()) else ""
    return re.compile(before + body + after, flags)


def find_in_text(text: str, needle: str, start: int = 0) -> Span | None:
    """First place the value is written in the text from ``start``, whitespace-insensitively;
    as written (same case) first, since a summary often mentions an item in other words before
    its heading."""
    if not needle.strip():
        return None
    found = _loose_pattern(needle).search(text, start) or _loose_pattern(
        needle, re.IGNORECASE
    ).search(text, start)
    return Span(start=found.start(), end=found.end()) if found else None


def _item_starts(record: GoldRecord, text: str, known: dict[str, list[Span]]) -> dict[int, int]:
    """Where each item's heading is, in order: its fields are looked for from there on, so a
    decision is found under its own heading rather than at the letter's first "Upheld"."""
    starts: dict[int, int] = {}
    cursor = 0
    for index, item in enumerate(record.items):
        spans = known.get(f"items.{index}.request") or []
        span = spans[0] if spans else find_in_text(text, item.request, cursor)
        if span is not None:
            starts[index] = span.start
            cursor = span.end
    return starts


def field_spans(
    record: GoldRecord, text: str, proposal: Proposal | None = None
) -> list[dict[str, Any]]:
    """Every located value of the record as ``{start, end, label, path, item}``.

    The proposal's own spans are used when it proposed the same value (they point where the
    annotator looked); otherwise the value is searched in the text, an item's fields from its
    heading on. Values written nowhere in the text (normalised ones such as ISO dates or generic
    drug names) get no span rather than a wrong one.
    """
    flat = flatten(record)
    known = _proposed_spans(flat, text, proposal)
    item_starts = _item_starts(record, text, known)
    out: list[dict[str, Any]] = []
    codes = flat.get("diagnosis_codes") or []
    for path, value in flat.items():
        elements = _elements(value)
        if not elements or path == "diagnosis_codes":
            continue  # a diagnosis's code is carried on the diagnosis's own span
        split = split_item_path(path)
        item = split[0] if split else None
        start = item_starts.get(item, 0) if item is not None else 0
        located = known.get(path) or [
            s for e in elements if (s := find_in_text(text, e, start)) is not None
        ]
        aligned = path == "diagnoses" and len(located) == len(elements)
        out += _span_objects(path, item, located, codes if aligned else [])
    out.sort(key=lambda s: (s["start"], s["end"], s["path"]))
    return out


def _proposed_spans(
    flat: Mapping[str, Any], text: str, proposal: Proposal | None
) -> dict[str, list[Span]]:
    """The proposal's spans of each value it proposed as the record holds it (and that lie in
    the text)."""
    known: dict[str, list[Span]] = {}
    if proposal is None:
        return known
    for path, value in flat.items():
        proposed = proposal.fields.get(path)
        if proposed is not None and proposed.value == value:
            spans = [s for s in proposed.spans if s.end <= len(text) and s.start < s.end]
            if spans:
                known[path] = spans
    return known


def _span_objects(
    path: str, item: int | None, located: list[Span], codes: list[Any]
) -> list[dict[str, Any]]:
    """One value's spans; ``codes``: the ICD-10 code of each span, when they pair up."""
    # "item" and "icd10" on every span (None where they do not apply): one schema for
    # Arrow-based loaders.
    return [
        {
            "start": span.start,
            "end": span.end,
            "label": label_of(path),
            "path": path,
            "item": item,
            "icd10": codes[index] if index < len(codes) else None,
        }
        for index, span in enumerate(located)
    ]


def spans_object(
    record: GoldRecord,
    text: str,
    proposal: Proposal | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "text": text,
        "spans": field_spans(record, text, proposal),
        "meta": {"letter_id": record.letter_id, **(meta or {})},
        "record": record.model_dump(mode="json"),
    }


def spans_line(
    record: GoldRecord,
    text: str,
    proposal: Proposal | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    return json.dumps(spans_object(record, text, proposal, meta), ensure_ascii=False)
