"""What the review and adjudication screens say about a value: who vouches for it, and how it
reads in a cell.

Pure functions over the store's models.  Who vouches comes from the draft the store keeps
beside an annotator's gold record (`Store.mark_gold` keeps the proposal as it was marked, with
each field's state, and each diagnosis's and drug's): a value the machine proposed that nobody
touched, one the annotator confirmed, one they wrote.  The reviewer's verdict comes last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, auto

from rich.style import Style
from rich.text import Text

from imrgold.core.export import find_in_text
from imrgold.core.models import FieldState, Proposal, Span
from imrgold.store.qa.adjudication import MISSING
from imrgold.tui import fields


class _Unproposed(Enum):
    """The machine proposed nothing (no proposal kept): equal to no value, None included."""

    NOTHING = auto()


@dataclass(frozen=True)
class Provenance:
    """The annotator's part in a value: ``machine`` (never touched), ``confirmed`` or
    ``corrected``; a list checked element by element says how many of its ``of`` elements
    the annotator ``checked``."""

    state: FieldState
    checked: int = 0
    of: int = 0

    @property
    def partly(self) -> bool:
        return 0 < self.checked < self.of


def provenance(
    values: Mapping[str, object], draft: Proposal | None, machine: Proposal | None
) -> dict[str, Provenance]:
    """Who vouches for each of an annotator's values (``values``: their gold record's flat
    paths), from the draft kept with it and the machine's proposal.

    A value the draft does not hold as it stands (edited since, or a version merged from
    another store, whose draft says only that a person gave every value) is the annotator's:
    confirmed when it is what the machine proposed, else written by them.
    """
    out = {}
    for path, value in values.items():
        field = draft.fields.get(path) if draft is not None else None
        proposed = machine.get(path).value if machine is not None else _Unproposed.NOTHING
        if field is None or field.value != value:
            out[path] = Provenance("confirmed" if value == proposed else "corrected")
        elif field.elements and isinstance(value, list) and value:
            states = [field.element_state(i) for i in range(len(value))]
            checked = sum(s != "machine" for s in states)
            state: FieldState = "corrected" if "corrected" in states else "confirmed"
            out[path] = Provenance("machine" if not checked else state, checked, len(value))
        elif field.state == "corrected" and value == proposed:
            out[path] = Provenance("confirmed")
        else:
            out[path] = Provenance(field.state)
    return out


def voucher(
    origin: Provenance, annotator: str, verdict: FieldState | None, reviewer: str
) -> tuple[str, str]:
    """(who, kind) for the table's ``by`` column: the reviewer once they have given a verdict,
    else the annotator if they checked the value (``alice 2/3``: two of three diagnoses),
    else the machine; ``kind`` is ``machine`` or ``person`` (how the cell is styled)."""
    if verdict is not None:
        return (f"{reviewer} ✎" if verdict == "corrected" else reviewer), "person"
    if origin.state == "machine":
        return "machine", "machine"
    if origin.partly:
        return f"{annotator} {origin.checked}/{origin.of}", "person"
    return (f"{annotator} ✎" if origin.state == "corrected" else annotator), "person"


def story(origin: Provenance, annotator: str, verdict: FieldState | None, reviewer: str) -> str:
    """Who did what to a value, in words, for the line under the table."""
    if origin.state == "machine":
        said = f"the machine's, never checked by {annotator}"
    elif origin.partly:
        said = f"{annotator} checked {origin.checked} of {origin.of}, the rest the machine's"
    elif origin.state == "corrected":
        said = f"written by {annotator}"
    else:
        said = f"confirmed by {annotator}"
    if verdict is not None:
        said += f"; {verdict} by {reviewer}"
    return said


def value_cell(value: object, style: Style | str = "") -> Text:
    """A value as a table cell or a detail shows it: plain text (a DataTable or a Static would
    read a `str` as markup), the empty marker when there is nothing."""
    if value is MISSING:
        return Text("no such item", style="dim italic")
    text = " ".join(fields.to_text(value).split())
    return Text(text, style=style) if text else Text(fields.EMPTY, style="dim")


def value_spans(text: str, value: object) -> list[Span]:
    """Where each element of a value (a list's every element) is written in the letter."""
    found = []
    for element in value if isinstance(value, list) else [value]:
        if element not in (None, "", MISSING) and (span := find_in_text(text, str(element))):
            found.append(span)
    return found


def next_pending(pending: list[int], current: int) -> int:
    """The first row still to do after ``current``, else the first one (wrapping round)."""
    return next((i for i in pending if i > current), pending[0])
