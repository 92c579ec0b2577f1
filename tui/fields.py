"""The rows the annotator walks through: one per field, one per diagnosis, one per drug.

Pure functions over a `Proposal`: the screen turns these rows into a table and an editor, and
parses what the annotator typed back into a schema value.  Diagnoses and an item's drugs get a
row each so each is checked (and flagged) on its own; diagnoses can also be reordered and are
tied to their own span in the letter.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic_core import to_jsonable_python

from imrgold.core.calibration import FLAG_BELOW
from imrgold.core.models import (
    CATEGORIES,
    DECISIONS,
    GUIDELINES,
    ITEM_FIELDS,
    LETTER_FIELDS,
    PRIORITIES,
    SEXES,
    FieldState,
    LetterStatus,
    Proposal,
    ProposedField,
    Span,
    is_list_field,
    item_path,
    problem,
    split_item_path,
    validate_value,
)

LOW_CONFIDENCE = FLAG_BELOW
"""Below this a machine value is flagged: the row stands out and `next low` stops there
(confidences are calibrated on real letters: `core.calibration`, where the threshold is set)."""


def confidence_percent(confidence: float) -> int:
    """A confidence as the whole percentage shown, rounded down: never a figure at or above the
    threshold for a value below it.  The nudge undoes binary fractions (0.57 * 100 is
    56.999...), far below the 0.001 steps calibrated confidences come in."""
    return math.floor(confidence * 100 + 1e-9)


LIST_SEPARATOR = "; "
DRUG_FIELDS = frozenset({"drugs", "strength", "form", "amount", "quantity", "route", "frequency"})
"""An item's fields that only a medication has."""

DATE_FIELDS = frozenset(
    {"date_assigned", "date_of_injury", "decision_date", "ur_denial_date", "application_received"}
)
CHOICES: dict[str, tuple[str, ...]] = {
    "decision": DECISIONS,
    "category": CATEGORIES,
    "priority": PRIORITIES,
    "patient.sex": SEXES,
}


@dataclass(frozen=True)
class Row:
    """One editable thing: a field path, or one element of a list (``index`` set): a diagnosis,
    a drug."""

    key: str
    path: str
    index: int | None
    label: str
    text: str
    state: FieldState
    confidence: float
    spans: tuple[Span, ...]

    @property
    def low(self) -> bool:
        return self.state == "machine" and self.confidence < LOW_CONFIDENCE


def element_key(path: str, index: int) -> str:
    return f"{path}#{index}"


def diagnosis_key(index: int) -> str:
    return element_key("diagnoses", index)


def parse_key(key: str) -> tuple[str, int | None]:
    """``diagnoses#2`` -> ``("diagnoses", 2)``; a field path -> ``(path, None)``."""
    path, _, index = key.partition("#")
    return path, (int(index) if index else None)


def short_name(path: str) -> str:
    split = split_item_path(path)
    return split[1] if split else path


LABELS = {
    "application_received": "application rcvd",
    "reviewer.specialties": "specialties",
    "reviewer.subspecialties": "subspecialties",
    "reviewer.licensure": "licensure",
    "patient.age": "patient age",
    "patient.sex": "patient sex",
    "diagnosis_codes": "ICD-10-CM codes",
}
EMPTY = "—"
"""How every table of the interface shows a value that is empty (None, "", an empty list)."""
NO_CODE = EMPTY
"""How a diagnosis without an ICD-10-CM code shows among the codes (and may be typed)."""


def label(path: str, index: int | None = None) -> str:
    """At most 16 characters: the table's field column."""
    split = split_item_path(path)
    if index is not None:
        return f"{split[0] + 1} drug {index + 1}" if split else f"diagnosis {index + 1}"
    if split:
        return f"{split[0] + 1} {split[1]}"
    return LABELS.get(path, path.replace("_", " "))


def choices(path: str) -> tuple[str, ...] | None:
    return CHOICES.get(short_name(path)) or CHOICES.get(path)


PROSE_FIELDS = frozenset({"request", "rationale"})
"""An item's fields written as sentences: edited in a wrapped, multi-line box."""


def is_prose(path: str) -> bool:
    return short_name(path) in PROSE_FIELDS


def is_drug_field(path: str) -> bool:
    return short_name(path) == "drugs"


def spans_aligned(path: str) -> bool:
    """A list whose spans go element by element (a diagnosis and where the letter states it);
    an item's drugs share the span of the request they were read from."""
    return path in ("diagnoses", "diagnosis_codes")


def suggestion_kind(row: Row) -> Literal["drugs", "diagnosis"] | None:
    """What the editor suggests while ``row`` is typed in: drug names, ICD-10-CM codes, none."""
    if is_drug_field(row.path):  # the whole list while it is empty, or one drug
        return "drugs"
    if row.path == "diagnoses" and row.index is not None:
        return "diagnosis"
    return None


def to_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(NO_CODE if v is None else str(v) for v in value)
    return str(value)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def parse(path: str, text: str) -> Any:
    """What the annotator typed for ``path`` as a schema value; ValueError says what is wrong.

    Only reading what was typed happens here (lists split, case as the schema writes it, dates
    in the letters' own formats); every rule a value must keep is the schema's, checked by
    `core.models.validate_value`."""
    name = path.split(".")[-1]
    text = " ".join(text.split())
    value = _typed_value(path, name, text)
    try:
        valid = validate_value(path, value)
    except ValueError as err:
        raise ValueError(problem(err)) from None
    return to_jsonable_python(valid)  # a proposal holds JSON values (dates as ISO text)


def _typed_value(path: str, name: str, text: str) -> Any:
    if name == "diagnosis_codes":
        return _codes(text)
    if is_list_field(path):
        if name == "diagnoses":
            return [text] if text else []
        parts = _split_list(text)
        if name == "licensure":
            return [p.upper() for p in parts]
        if name == "guidelines":
            # Typed in any case; the schema's own spelling when it is one of its values.
            lookup = {g.lower(): g for g in GUIDELINES}
            return [lookup.get(p.lower(), p) for p in parts]
        return parts
    if not text:
        return None
    if choices(path) is not None:
        return text.lower()
    if name in DATE_FIELDS:
        return _date(name, text)
    if path == "patient.age":
        if not text.isdigit():
            raise ValueError("age is a whole number of years, 0-130")
        return int(text)
    return text


DrugReader = Callable[[str], tuple[list[str], list[str]]]
"""`Lexicon.read_drugs`: (generics a text spells exactly, words nothing explains)."""


@dataclass(frozen=True)
class ResolvedDrugs:
    drugs: list[str]
    """What the field stores: generic ingredients, and what the lexicon did not know as typed."""
    unknown: list[str]
    """Typed names the lexicon does not know: kept as typed, and said so."""
    no_ingredient: list[str]
    """Typed names the lexicon knows as having no drug ingredient (a medical food)."""


def resolve_drugs(parts: list[str], read: DrugReader) -> ResolvedDrugs:
    """Drugs typed by hand, each read through the lexicon: a brand or a combination becomes its
    generic ingredients ("norco" -> acetaminophen, hydrocodone); a name it does not know stays as
    typed and is named in ``unknown``, never silently stored as if it were a drug name."""
    drugs: set[str] = set()
    unknown, no_ingredient = [], []
    for part in parts:
        generics, unexplained = read(part)
        if generics and not unexplained:
            drugs.update(generics)
        elif not generics and not unexplained:
            no_ingredient.append(part)
        else:
            drugs.add(part)
            unknown.append(part)
    return ResolvedDrugs(sorted(drugs), unknown, no_ingredient)


def _date(name: str, text: str) -> str:
    """A date as annotators type it, stored ISO: 2011-07-14, 7/14/2011, 07/14/11, July 14, 2011
    (two-digit years as the gold conventions read them)."""
    from imrgold.core.extract_dates import parse_date

    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    found = parse_date(text, dt.date.today().year)
    if found is None or len(text) > 30:
        raise ValueError(
            f"{name.replace('_', ' ')} is a date: YYYY-MM-DD, MM/DD/YYYY or Month D, YYYY"
        )
    return found.isoformat()


def _codes(text: str) -> list[str | None]:
    """ICD-10-CM codes typed one per diagnosis, ';' between them, '—' or '-' for none."""
    if not text.strip():
        return []
    codes = [part.strip().upper() for part in text.split(";")]
    return [None if code in ("", "-", NO_CODE, "NONE", "NULL") else code for code in codes]


def _row(key: str, path: str, index: int | None, field: ProposedField) -> Row:
    if index is None:
        value, spans, state = field.value, tuple(field.spans), field.state
    else:
        values = field.value or []
        value = values[index] if index < len(values) else ""
        if spans_aligned(path):
            spans = (field.spans[index],) if index < len(field.spans) else ()
        else:
            spans = tuple(field.spans)
        state = field.element_state(index)  # each element is checked on its own
    return Row(key, path, index, label(path, index), to_text(value), state, field.confidence, spans)


def rows_for(proposal: Proposal) -> list[Row]:
    """Every row in reading order: header, reviewer, patient, diagnoses, then each item; a
    list of drugs a row a drug (one row to type them into while it is empty)."""
    rows: list[Row] = []
    for path in LETTER_FIELDS:
        field = proposal.get(path)
        if path == "diagnoses":
            rows.extend(
                _row(diagnosis_key(i), path, i, field) for i in range(len(field.value or []))
            )
            continue
        rows.append(_row(path, path, None, field))
    for i in range(proposal.n_items):
        medication = proposal.get(item_path(i, "category")).value == "medication"
        for name in ITEM_FIELDS:
            path = item_path(i, name)
            field = proposal.get(path)
            # Drug rows only where they apply: a therapy or an MRI has no strength to check
            # (they appear when the category becomes medication, or hold a value to clear).
            if name in DRUG_FIELDS and not medication and field.value in (None, [], ""):
                continue
            if name == "drugs" and field.value:
                n = len(field.value)
                rows.extend(_row(element_key(path, j), path, j, field) for j in range(n))
                continue
            rows.append(_row(path, path, None, field))
    return rows


def status_label(status: LetterStatus, edited: bool = False) -> str:
    """A letter's status as the header and the queue show it: a gold letter changed since it
    was marked gold is "gold, edited" until it is marked gold again or the edits are dropped."""
    words = status.replace("_", " ")
    return f"{words}, edited" if edited else words


def gold_blockers(proposal: Proposal) -> list[tuple[str, str]]:
    """(field path, why) for what stops a record from being gold, in reading order: an item
    without a request or a decision, then any value the schema refuses."""
    from pydantic import ValidationError

    found = []
    for i in range(proposal.n_items):
        request = proposal.get(item_path(i, "request")).value
        if not (request or "").strip():
            found.append((item_path(i, "request"), f"item {i + 1} has no request"))
        if proposal.get(item_path(i, "decision")).value is None:
            found.append((item_path(i, "decision"), f"item {i + 1} has no decision"))
    if not found:
        try:
            proposal.to_record()
        except ValidationError as err:
            first = err.errors()[0]
            loc = [str(p) for p in first["loc"]]
            path = ".".join(loc[:3]) if loc and loc[0] == "items" else ".".join(loc[:2])
            found.append((path, f"{'.'.join(loc)}: {first['msg']}"))
    return found
