"""The gold record of docs/gold-record.md and the machine's proposal for it.

`GoldRecord` is the single statement of the schema: the export, the JSON Schema printed by
`imrgold schema`, the evaluation and the store all go through it.  A `Proposal` carries the same
values as flat *field paths* (``case_number``, ``reviewer.specialties``, ``items.0.drugs``), each
with the spans of the original text it came from, its source and a confidence, so the interface
can highlight, confirm and correct one field at a time without a second copy of the schema.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

Decision = Literal["upheld", "overturned"]
Category = Literal[
    "medication", "therapy", "imaging", "procedure", "equipment", "consultation", "other"
]
Guideline = Literal["MTUS", "ODG", "ACOEM", "other"]
Priority = Literal["standard", "expedited"]
Sex = Literal["male", "female"]
Source = Literal["machine", "human"]

DECISIONS: tuple[str, ...] = get_args(Decision)
CATEGORIES: tuple[str, ...] = get_args(Category)
GUIDELINES: tuple[str, ...] = get_args(Guideline)
PRIORITIES: tuple[str, ...] = get_args(Priority)
SEXES: tuple[str, ...] = get_args(Sex)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Reviewer(_Strict):
    """The physician reviewer as the letter describes them."""

    specialties: list[str] = Field(
        default_factory=list, description="Board certifications, title case"
    )
    subspecialties: list[str] = Field(default_factory=list)
    licensure: list[str] = Field(
        default_factory=list, description="Two-letter US state codes of licensure"
    )

    @field_validator("licensure")
    @classmethod
    def _state_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if len(code) != 2 or not code.isalpha() or not code.isupper():
                raise ValueError(f"licensure must be two-letter state codes, got {code!r}")
        return value


class Patient(_Strict):
    age: int | None = Field(default=None, ge=0, le=130)
    sex: Sex | None = None


class DisputedItem(_Strict):
    """One disputed item/service with its decision, as set forth under IMR ISSUES."""

    request: str = Field(description="The item's heading text as the letter writes it")
    decision: Decision | None = None
    category: Category | None = None
    drugs: list[str] = Field(
        default_factory=list, description="Sorted lowercase generic active ingredients"
    )
    strength: str | None = None
    form: str | None = None
    amount: str | None = None
    quantity: str | None = None
    route: str | None = None
    frequency: str | None = None
    guidelines: list[Guideline] = Field(
        default_factory=list, description="Guideline families the MAXIMUS reviewer cites"
    )
    rationale: str | None = None

    @field_validator("guidelines")
    @classmethod
    def _guideline_order(cls, value: list[str]) -> list[str]:
        # docs/gold-record.md fixes the order MTUS, ODG, ACOEM, other; dedupe while we are at it.
        return sorted(set(value), key=GUIDELINES.index)

    @field_validator("drugs")
    @classmethod
    def _drugs_sorted(cls, value: list[str]) -> list[str]:
        return sorted({d.strip().lower() for d in value if d.strip()})


class Diagnosis(_Strict):
    """A diagnosis the letter states, in its words, linked to ICD-10-CM."""

    text: str = Field(description="The diagnosis as the letter writes it, line breaks folded")
    icd10: str | None = Field(
        default=None,
        description="Its billable ICD-10-CM code, with the dot; null when no code fits",
        pattern=r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$",
    )

    @field_validator("icd10")
    @classmethod
    def _in_code_set(cls, value: str | None) -> str | None:
        from imrgold.core.icd10 import is_code

        if value is not None and not is_code(value):
            raise ValueError(f"{value} is not a billable ICD-10-CM code")
        return value


class GoldRecord(_Strict):
    """One IMR final determination letter as gold data (docs/gold-record.md)."""

    letter_id: str = Field(
        description="sha256 of the original bytes, hex", pattern=r"^[0-9a-f]{64}$"
    )
    case_number: str | None = None
    date_assigned: dt.date | None = None
    date_of_injury: dt.date | None = None
    decision_date: dt.date | None = None
    ur_denial_date: dt.date | None = None
    application_received: dt.date | None = None
    priority: Priority | None = None
    reviewer: Reviewer = Field(default_factory=Reviewer)
    patient: Patient = Field(default_factory=Patient)
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    items: list[DisputedItem] = Field(default_factory=list)

    @field_validator("diagnoses", mode="before")
    @classmethod
    def _plain_diagnoses(cls, value: Any) -> Any:
        # Records written before diagnoses were linked to ICD-10-CM hold plain strings.
        if isinstance(value, list):
            return [{"text": d, "icd10": None} if isinstance(d, str) else d for d in value]
        return value


# ---------------------------------------------------------------------------------------------
# Field paths: the unit of proposal, correction, history and evaluation.

HEADER_FIELDS: tuple[str, ...] = (
    "case_number",
    "date_assigned",
    "date_of_injury",
    "decision_date",
    "ur_denial_date",
    "application_received",
    "priority",
)
REVIEWER_FIELDS: tuple[str, ...] = tuple(f"reviewer.{n}" for n in Reviewer.model_fields)
PATIENT_FIELDS: tuple[str, ...] = tuple(f"patient.{n}" for n in Patient.model_fields)
ITEM_FIELDS: tuple[str, ...] = tuple(DisputedItem.model_fields)
# A record's diagnoses are two flat fields, aligned element by element: their texts and their
# ICD-10-CM codes (None where no code fits), so each is proposed, confirmed and scored alone.
DIAGNOSIS_FIELDS: tuple[str, ...] = ("diagnoses", "diagnosis_codes")
LETTER_FIELDS: tuple[str, ...] = HEADER_FIELDS + REVIEWER_FIELDS + PATIENT_FIELDS + DIAGNOSIS_FIELDS
LIST_FIELDS = frozenset(
    {"reviewer.specialties", "reviewer.subspecialties", "reviewer.licensure"}
    | set(DIAGNOSIS_FIELDS)
    | {f for f in ITEM_FIELDS if f in ("drugs", "guidelines")}
)


def item_path(index: int, name: str) -> str:
    return f"items.{index}.{name}"


# Cached: agreement and stats split the same few hundred paths millions of times at 10,000 letters.
@functools.lru_cache(maxsize=4096)
def split_item_path(path: str) -> tuple[int, str] | None:
    """``items.3.drugs`` -> ``(3, "drugs")``; None for a letter-level path."""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


@functools.lru_cache(maxsize=4096)
def is_list_field(path: str) -> bool:
    split = split_item_path(path)
    return (split[1] if split else path) in LIST_FIELDS or path in LIST_FIELDS


def field_paths(n_items: int) -> list[str]:
    """Every field path of a record with ``n_items`` disputed items, in reading order."""
    return list(_field_paths(n_items))


@functools.lru_cache(maxsize=256)
def _field_paths(n_items: int) -> tuple[str, ...]:
    return LETTER_FIELDS + tuple(item_path(i, n) for i in range(n_items) for n in ITEM_FIELDS)


def n_items_of(paths: Iterable[str]) -> int:
    """How many disputed items field paths reach (the highest item index plus one)."""
    indexes = {s[0] for p in paths if (s := split_item_path(p))}
    return max(indexes) + 1 if indexes else 0


def flat_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Proposed values by path as a record's flat map: every path of as many items as they
    reach, in reading order, an absent one empty ([] for a list field, else None)."""
    return {
        p: values[p] if p in values else ([] if is_list_field(p) else None)
        for p in _field_paths(n_items_of(values))
    }


def _owner(path: str) -> tuple[type[BaseModel], str]:
    """The model a field path's value belongs to, and its name there."""
    split = split_item_path(path)
    if split:
        return DisputedItem, split[1]
    group, _, name = path.partition(".")
    if name:
        groups: dict[str, type[BaseModel]] = {"reviewer": Reviewer, "patient": Patient}
        return groups[group], name
    return GoldRecord, path


def validate_value(path: str, value: Any) -> Any:
    """``value`` for the field at ``path`` as the schema takes it, through the model's own
    validators (types, ranges, choices, state codes, guideline order, drugs sorted, ICD-10-CM
    codes): the one statement of each rule, which the interface validates through too.
    Raises `ValueError` (pydantic's `ValidationError` is one) saying what is wrong."""
    if path == "diagnoses":
        return [Diagnosis(text=text).text for text in value]
    if path == "diagnosis_codes":
        return [_code(code) for code in value]
    model, name = _owner(path)
    if name not in model.model_fields:
        raise ValueError(f"no field {path!r} in the gold record")
    # Assignment validation runs the field's type and its validators, and nothing else: the
    # other (required) fields of a constructed instance are never looked at.
    instance = model.model_construct()
    setattr(instance, name, value)
    return getattr(instance, name)


def _code(code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return Diagnosis(text="-", icd10=code).icd10
    except ValueError as err:
        raise ValueError(f"{code}: {problem(err)}") from None


def problem(err: ValueError) -> str:
    """What a `validate_value` error says, in one line for the annotator."""
    from pydantic import ValidationError

    if isinstance(err, ValidationError) and err.errors():
        message = str(err.errors()[0]["msg"])
        return message.removeprefix("Value error, ")
    return str(err)


def flatten(record: GoldRecord) -> dict[str, Any]:
    """A record as ``{path: json value}`` (dates as ISO strings), letter_id excluded."""
    data = record.model_dump(mode="json")
    flat: dict[str, Any] = {}
    for path in field_paths(len(record.items)):
        split = split_item_path(path)
        if split:
            flat[path] = data["items"][split[0]][split[1]]
        elif path == "diagnoses":
            flat[path] = [d["text"] for d in data["diagnoses"]]
        elif path == "diagnosis_codes":
            flat[path] = [d["icd10"] for d in data["diagnoses"]]
        elif "." in path:
            group, name = path.split(".")
            flat[path] = data[group][name]
        else:
            flat[path] = data[path]
    return flat


def unflatten(letter_id: str, flat: dict[str, Any]) -> GoldRecord:
    """Inverse of `flatten`; validates, so a bad value raises `pydantic.ValidationError`."""
    data: dict[str, Any] = {"letter_id": letter_id, "reviewer": {}, "patient": {}, "items": []}
    items: dict[int, dict[str, Any]] = {}
    for path, value in flat.items():
        split = split_item_path(path)
        if split:
            items.setdefault(split[0], {})[split[1]] = value
        elif "." in path:
            group, name = path.split(".")
            data[group][name] = value
        else:
            data[path] = value
    data["items"] = [items[i] for i in sorted(items)]
    texts = data.pop("diagnoses", None) or []
    codes = list(data.pop("diagnosis_codes", None) or [])
    codes += [None] * (len(texts) - len(codes))
    data["diagnoses"] = [{"text": t, "icd10": c} for t, c in zip(texts, codes, strict=False)]
    return GoldRecord.model_validate(data)


# ---------------------------------------------------------------------------------------------
# The machine's proposal, and the annotator's working copy of it.


class Span(_Strict):
    """Half-open character range ``[start, end)`` in the *original* letter text."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


FieldState = Literal["machine", "confirmed", "corrected"]


class ProposedField(_Strict):
    value: Any = None
    spans: list[Span] = Field(
        default_factory=list,
        description="Where the value came from; one per list element when known",
    )
    source: Source = "machine"
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    confirmed: bool = Field(default=False, description="A person has checked this value")
    elements: list[FieldState] = Field(
        default_factory=list,
        description="A list checked element by element (diagnoses): each element's state, "
        "aligned with value; empty while the field is checked as a whole",
    )

    @property
    def state(self) -> FieldState:
        if self.source == "human":
            return "corrected"
        return "confirmed" if self.confirmed else "machine"

    def element_state(self, index: int) -> FieldState:
        """One element's state: its own once the list was checked element by element, else
        the field's."""
        return self.elements[index] if index < len(self.elements) else self.state


class Proposal(_Strict):
    """Every field of a gold record with provenance: what the extractor proposed, as corrected."""

    letter_id: str
    fields: dict[str, ProposedField] = Field(default_factory=dict)
    calibrated: bool = Field(
        default=False,
        description="Confidences are calibrated on real letters (core.calibration); proposals "
        "stored before calibration hold the rules' own strengths and are calibrated when read",
    )
    failure: str | None = Field(
        default=None,
        description="Why the machine proposed nothing: the extractor's rule that failed and its "
        "error (the letter is flagged for a person when stored)",
    )
    extractor: str | None = Field(
        default=None,
        description="The fingerprint of the extractor that proposed it "
        "(core.machine_cache.fingerprint), stamped at ingest: a letter whose proposal has the "
        "current fingerprint needs no extracting again to know what the machine proposes now",
    )

    @property
    def failure_note(self) -> str | None:
        """What a person is told of a failed extraction (the letter's comment); None when the
        machine did not fail."""
        return f"extraction failed in {self.failure}" if self.failure else None

    @property
    def n_items(self) -> int:
        return n_items_of(self.fields)

    def paths(self) -> list[str]:
        return field_paths(self.n_items)

    def get(self, path: str) -> ProposedField:
        found = self.fields.get(path)
        if found is not None:
            return found
        return ProposedField(value=[] if is_list_field(path) else None, confidence=0.0)

    def to_record(self) -> GoldRecord:
        flat = {p: self.get(p).value for p in self.paths()}
        for i in range(self.n_items):
            if flat[item_path(i, "request")] is None:
                flat[item_path(i, "request")] = ""
        return unflatten(self.letter_id, flat)

    @classmethod
    def from_record(cls, record: GoldRecord, *, source: Source = "human") -> Proposal:
        return cls(
            letter_id=record.letter_id,
            fields={
                p: ProposedField(value=v, source=source, confidence=1.0, confirmed=True)
                for p, v in flatten(record).items()
            },
        )


def gold_json_schema() -> dict[str, Any]:
    return GoldRecord.model_json_schema()


# ---------------------------------------------------------------------------------------------
# What the store keeps besides gold records.

LetterStatus = Literal[
    "new", "in_progress", "gold", "in_review", "flagged", "reviewed", "adjudication"
]
LETTER_STATUSES: tuple[LetterStatus, ...] = get_args(LetterStatus)


class Letter(_Strict):
    """A letter as ingested: its identity is the sha256 of the original bytes."""

    letter_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: str = Field(description="File name it was ingested from")
    source_path: str | None = None
    text: str = Field(description="Decoded text; spans index into this string")
    encoding: str = "utf-8"
    n_bytes: int = 0
    ingested_at: dt.datetime | None = None


class LetterSummary(_Strict):
    """One row of the queue: enough to list, filter and search without loading the letter."""

    letter_id: str
    name: str
    status: LetterStatus = "new"
    case_number: str | None = None
    n_items: int = 0
    decisions: list[str] = Field(default_factory=list)
    annotator: str | None = None
    updated_at: dt.datetime | None = None
    comment: str | None = None
    edited: bool = Field(
        default=False,
        description="A letter with a gold record whose draft has changed since (not yet gold)",
    )
    decision_date: dt.date | None = None
    expected_corrections: float | None = Field(
        default=None,
        description="Sum of 1 - confidence over the fields not yet checked (see "
        "core.progress.expected_corrections); None in a row written before it was kept",
    )
    gold_at: dt.datetime | None = Field(
        default=None, description="When the letter was last marked gold (any annotator)"
    )
    has_gold: bool = Field(default=False, description="A gold or final record exists")


class Change(_Strict):
    """One change to a field of a letter's record: the unit of history."""

    letter_id: str
    path: str
    old: Any = None
    new: Any = None
    source: Source = "human"
    annotator: str | None = None
    at: dt.datetime
