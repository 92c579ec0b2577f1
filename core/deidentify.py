"""Removing or shifting what identifies a person in an exported gold data set.

What it does (and `Deidentifier.summary` says so after an export):

- case numbers (``CM16-0237844``) become a stable pseudonym, ``CASE-`` plus ten hex digits of an
  HMAC of the number under the store's secret key: the same case gets the same pseudonym in every
  export of that store, and without the key a pseudonym cannot be turned back into a case number
  by trying all 10^9 of them;
- every date of a letter (the five header dates, and dates written in the letter text, requests,
  rationales and diagnoses) moves by the same per-letter offset of 1 to `MAX_SHIFT_DAYS` days, back
  or forward, derived from the key and the letter: intervals within a letter are kept, alignment
  across letters is not;
- ages over 89 become 90, meaning "90 or older" (HIPAA safe harbour), in the record and the text;
- the letter id (the sha256 of the original file, which identifies it) becomes an HMAC of it.

Pure: no store, no files. The key comes from the caller.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from imrgold.core.models import GoldRecord

MAX_SHIFT_DAYS = 365
AGE_CAP = 89
GROUPED_AGE = 90
DATE_FIELDS: tuple[str, ...] = (
    "date_assigned",
    "date_of_injury",
    "decision_date",
    "ur_denial_date",
    "application_received",
)

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
CASE_NUMBER = re.compile(r"\bCM\d{2}-\d{7}\b", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}|\d{2})(?!\d)")
_ISO_DATE = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")
# Any word then a day and year; the word is checked against `_MONTHS` afterwards, which is far
# faster than a 25-way alternation tried at every position of a long rationale.
_LONG_DATE = re.compile(
    r"\b(?P<mon>[A-Za-z]{3,9}+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b"
)
_MONTH_YEAR = re.compile(r"\b(?P<mon>[A-Za-z]{3,9}+)\.?,?\s+(?P<y>\d{4})\b")
_AGE = re.compile(
    r"\b(?P<n>\d{2,3})(?P<rest>(?:\s*|-)years?(?:\s*|-)old\b)|\b(?P<aged>aged\s+)(?P<n2>\d{2,3})\b",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------
# Text edits that keep spans pointing at the same words.


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    new: str


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, Callable[[int, bool], int]]:
    """Apply non-overlapping edits; return the new text and a position mapper.

    ``mapper(pos, is_end)`` maps an old offset to the new text; a position inside a replaced
    stretch snaps to its start (or, for a span end, to its end), so a span that covered a date
    covers the shifted date.
    """
    ordered = sorted(edits, key=lambda e: e.start)
    parts: list[str] = []
    starts: list[int] = []
    kept: list[Edit] = []
    cursor = 0
    for edit in ordered:
        if edit.start < cursor:  # overlapping match: the first one wins
            continue
        parts.append(text[cursor : edit.start])
        parts.append(edit.new)
        cursor = edit.end
        kept.append(edit)
        starts.append(edit.start)
    parts.append(text[cursor:])
    deltas = []
    total = 0
    for edit in kept:
        total += len(edit.new) - (edit.end - edit.start)
        deltas.append(total)

    def mapper(pos: int, is_end: bool = False) -> int:
        i = bisect.bisect_right(starts, pos if not is_end else pos - 1) - 1
        if i < 0:
            return pos
        edit = kept[i]
        before = deltas[i] - (len(edit.new) - (edit.end - edit.start))
        if pos >= edit.end:
            return pos + deltas[i]
        # Inside the replaced stretch.
        new_start = edit.start + before
        return new_start + len(edit.new) if is_end else new_start

    return "".join(parts), mapper


# ---------------------------------------------------------------------------------------------
# Dates


def _year(text: str, pivot: int) -> int:
    if len(text) == 4:
        return int(text)
    two = int(text)
    return 1900 + two if two > pivot % 100 else 2000 + two


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _date_edits(text: str, shift: Callable[[dt.date], dt.date], pivot: int) -> list[Edit]:
    edits: list[Edit] = []
    for match in _NUMERIC_DATE.finditer(text):
        ys = match["y"]
        day = _safe_date(_year(ys, pivot), int(match["m"]), int(match["d"]))
        if day is None:
            continue
        moved = shift(day)
        year = f"{moved.year:04d}" if len(ys) == 4 else f"{moved.year % 100:02d}"
        mm = f"{moved.month:02d}" if len(match["m"]) == 2 else str(moved.month)
        dd = f"{moved.day:02d}" if len(match["d"]) == 2 else str(moved.day)
        edits.append(Edit(match.start(), match.end(), f"{mm}/{dd}/{year}"))
    for match in _ISO_DATE.finditer(text):
        day = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if day is not None:
            edits.append(Edit(match.start(), match.end(), shift(day).isoformat()))
    for match in _LONG_DATE.finditer(text):
        month = _MONTHS.get(match["mon"].lower())
        day = _safe_date(int(match["y"]), month, int(match["d"])) if month else None
        if day is None:
            continue
        moved = shift(day)
        edits.append(
            Edit(
                match.start(),
                match.end(),
                f"{calendar.month_name[moved.month]} {moved.day:02d}, {moved.year}",
            )
        )
    taken = [(e.start, e.end) for e in edits]
    for match in _MONTH_YEAR.finditer(text):
        month = _MONTHS.get(match["mon"].lower())
        if month is None or any(s <= match.start() < e for s, e in taken):
            continue
        # A month without its day: move the middle of that month.
        moved = shift(dt.date(int(match["y"]), month, 15))
        edits.append(
            Edit(match.start(), match.end(), f"{calendar.month_name[moved.month]} {moved.year}")
        )
    return edits


def _age_edits(text: str) -> list[Edit]:
    lowered = text.lower()
    if "old" not in lowered and "aged" not in lowered:
        return []
    edits = []
    for match in _AGE.finditer(text):
        number = match["n"] or match["n2"]
        if int(number) <= AGE_CAP:
            continue
        start, end = match.span("n") if match["n"] else match.span("n2")
        edits.append(Edit(start, end, f"{GROUPED_AGE}+"))
    return edits


# ---------------------------------------------------------------------------------------------


@dataclass
class Deidentifier:
    """Deidentify records (and letter texts with their spans) under one secret key."""

    key: bytes | str
    max_shift_days: int = MAX_SHIFT_DAYS
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if isinstance(self.key, str):
            self.key = self.key.encode()
        if not self.key:
            raise ValueError("a deidentification key must not be empty")

    def _mac(self, kind: str, value: str) -> str:
        key = self.key.encode() if isinstance(self.key, str) else self.key
        return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, case_number: str) -> str:
        return "CASE-" + self._mac("case", case_number.strip().upper())[:10].upper()

    def letter_id(self, letter_id: str) -> str:
        return self._mac("letter", letter_id)

    def offset_days(self, letter_id: str) -> int:
        """Never zero: every date of every letter moves."""
        n = int(self._mac("shift", letter_id)[:12], 16)
        days = 1 + n % self.max_shift_days
        return days if (n >> 47) & 1 else -days

    # -- records ------------------------------------------------------------------------------

    def _shifter(self, letter_id: str) -> Callable[[dt.date], dt.date]:
        delta = dt.timedelta(days=self.offset_days(letter_id))
        return lambda day: day + delta

    def _pivot(self, record: GoldRecord) -> int:
        """The year two-digit years are read against (GOLD_CONVENTIONS.md): the decision year,
        else the latest four-digit year the record mentions."""
        if record.decision_date:
            return record.decision_date.year
        years = [int(y) for y in _YEAR.findall(record.model_dump_json(exclude={"letter_id"}))]
        return max(years, default=dt.date.today().year)

    def free_text(self, text: str, letter_id: str, pivot: int) -> tuple[str, Callable]:
        """Case numbers, dates and old ages in running text, counted in `counts`."""
        edits = [
            Edit(m.start(), m.end(), self.pseudonym(m.group(0))) for m in CASE_NUMBER.finditer(text)
        ]
        self.counts["case numbers in text"] += len(edits)
        dates = _date_edits(text, self._shifter(letter_id), pivot)
        ages = _age_edits(text)
        self.counts["dates in text"] += len(dates)
        self.counts["ages over 89 in text"] += len(ages)
        return apply_edits(text, [*edits, *dates, *ages])

    def _string(self, value: str | None, letter_id: str, pivot: int) -> str | None:
        return None if value is None else self.free_text(value, letter_id, pivot)[0]

    def record(self, record: GoldRecord) -> GoldRecord:
        data = record.model_dump()
        original_id = record.letter_id
        pivot = self._pivot(record)
        shift = self._shifter(original_id)
        self.counts["letters"] += 1
        data["letter_id"] = self.letter_id(original_id)
        if record.case_number:
            data["case_number"] = self.pseudonym(record.case_number)
            self.counts["case numbers"] += 1
        for name in DATE_FIELDS:
            if data[name] is not None:
                data[name] = shift(data[name])
                self.counts["dates"] += 1
        if record.patient.age is not None and record.patient.age > AGE_CAP:
            data["patient"]["age"] = GROUPED_AGE
            self.counts["ages over 89"] += 1
        data["diagnoses"] = [
            {"text": self._string(d.text, original_id, pivot), "icd10": d.icd10}
            for d in record.diagnoses
        ]
        for item in data["items"]:
            item["request"] = self._string(item["request"], original_id, pivot)
            item["rationale"] = self._string(item["rationale"], original_id, pivot)
        return GoldRecord.model_validate(data)

    def spans_object(self, obj: dict[str, Any], record: GoldRecord) -> dict[str, Any]:
        """A ``core.export.spans_object`` made from ``record``, with its text and spans moved."""
        text, mapper = self.free_text(obj["text"], record.letter_id, self._pivot(record))
        spans = [
            {**s, "start": mapper(s["start"]), "end": mapper(s["end"], True)} for s in obj["spans"]
        ]
        new = self.record(record)
        meta = {**obj.get("meta", {}), "letter_id": new.letter_id}
        return {
            **obj,
            "text": text,
            "spans": spans,
            "meta": meta,
            "record": new.model_dump(mode="json"),
        }

    # -- report -------------------------------------------------------------------------------

    def summary(self) -> list[str]:
        c = self.counts
        lines = [
            f"deidentified {c['letters']} letter(s):",
            f"  case numbers replaced by stable pseudonyms (CASE-...): {c['case numbers']} "
            f"in records, {c['case numbers in text']} in text",
            f"  dates shifted by a per-letter offset of 1-{self.max_shift_days} days "
            f"(intervals within a letter kept): {c['dates']} in records, "
            f"{c['dates in text']} in text",
            f"  ages over {AGE_CAP} grouped as {GROUPED_AGE} (meaning {GROUPED_AGE} or older): "
            f"{c['ages over 89']} in records, {c['ages over 89 in text']} in text",
            "  letter ids (sha256 of the original file) replaced by a keyed hash",
        ]
        return lines
