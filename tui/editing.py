"""The annotator's working copy of one proposal, with undo and redo.

Every operation returns whether it changed anything, so the screen saves a draft only when there
is something new.  Undo keeps whole snapshots: a proposal is a few dozen small fields, and
snapshots make structural edits (removing or reordering items) as easy to undo as a value.
"""

from __future__ import annotations

from collections.abc import Callable

from imrgold.core.models import (
    ITEM_FIELDS,
    FieldState,
    Proposal,
    ProposedField,
    Span,
    item_path,
    split_item_path,
)
from imrgold.tui.fields import spans_aligned

UNDO_LIMIT = 200


def _states(field: ProposedField, n: int) -> list[FieldState]:
    """A list field's element states, ``n`` long: those not yet checked on their own take
    the field's state."""
    return (list(field.elements) + [field.state] * n)[:n]


def _set_states(field: ProposedField, states: list[FieldState]) -> None:
    field.elements = states
    field.confirmed = "machine" not in states


def _checked(states: list[FieldState]) -> list[FieldState]:
    return ["confirmed" if s == "machine" else s for s in states]


class Draft:
    def __init__(self, proposal: Proposal) -> None:
        self.proposal = proposal.model_copy(deep=True)
        self._undo: list[Proposal] = []
        self._redo: list[Proposal] = []

    # -- history ---------------------------------------------------------------------------

    def _checkpoint(self) -> None:
        self._undo.append(self._snapshot())
        del self._undo[:-UNDO_LIMIT]
        self._redo.clear()

    def _snapshot(self) -> Proposal:
        """The proposal as it stands, for undo.  Edits never change a field in place (each is
        copied, changed and put back: `_field`), so a snapshot shares the fields and copies only
        their table (a deep copy of a 20-item letter was 3-8 ms on every keystroke committed;
        tests/test_tui_units.py checks the two agree)."""
        return self.proposal.model_copy(update={"fields": dict(self.proposal.fields)})

    def _commit_if_changed(self, before: Proposal) -> bool:
        if before == self.proposal:
            self._undo.pop()
            return False
        return True

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.proposal)
        self.proposal = self._undo.pop()
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.proposal)
        self.proposal = self._redo.pop()
        return True

    def _edit(self, change: Callable[[], object]) -> bool:
        self._checkpoint()
        before = self._undo[-1]
        change()
        return self._commit_if_changed(before)

    # -- fields ----------------------------------------------------------------------------

    def _field(self, path: str) -> ProposedField:
        return self.proposal.get(path).model_copy(deep=True)

    def set_value(self, path: str, value: object, span: Span | None = None) -> bool:
        """The annotator's value for a field; confirmed, since a person wrote it."""

        def change() -> None:
            field = self._field(path)
            if field.value == value and span is None:
                field.confirmed = True
                field.elements = _checked(field.elements)
            else:
                field.value = value
                field.source = "human"
                field.confirmed = True
                field.elements = []  # the whole list was written at once
                if span is not None:
                    field.spans = [span]
            self.proposal.fields[path] = field

        return self._edit(change)

    def set_element(self, path: str, index: int, text: str, span: Span | None = None) -> bool:
        """One element of a list field (a diagnosis), keeping its span aligned; only that
        element counts as checked."""

        def change() -> None:
            field = self._field(path)
            values = list(field.value or [])
            states = _states(field, len(values))
            if values[index] == text and span is None:
                states[index] = "confirmed" if states[index] == "machine" else states[index]
            else:
                values[index] = text
                field.value = values
                field.source = "human"
                states[index] = "corrected"
                if span is not None:
                    spans = list(field.spans) + [span] * max(0, index + 1 - len(field.spans))
                    spans[index] = span
                    field.spans = spans
            _set_states(field, states)
            self.proposal.fields[path] = field

        return self._edit(change)

    def replace_element(self, path: str, index: int, values: list[str]) -> bool:
        """One drug of a list typed again: it becomes ``values`` (a brand read as its
        ingredients, none to remove it); the list stays sorted and without repeats, as the
        schema keeps drugs.  Retyping the same drug confirms it; the others keep their states."""

        def change() -> None:
            field = self._field(path)
            old = list(field.value or [])
            states = _states(field, len(old))
            if index >= len(old):
                return
            if values == [old[index]]:
                if states[index] == "machine":
                    states[index] = "confirmed"
                _set_states(field, states)
            else:
                pairs = zip(old, states, strict=True)
                kept = {v: s for j, (v, s) in enumerate(pairs) if j != index}
                for value in values:
                    kept.setdefault(value, "corrected")  # a drug already listed keeps its state
                ordered = sorted(kept)
                field.value, field.source = ordered, "human"
                _set_states(field, [kept[v] for v in ordered])
            self.proposal.fields[path] = field

        return self._edit(change)

    def set_diagnosis(self, index: int, text: str, code: str | None) -> bool:
        """A diagnosis and its ICD-10-CM code together, as one step to undo."""

        def change() -> None:
            for path, value in (("diagnoses", text), ("diagnosis_codes", code)):
                field = self._field(path)
                values = list(field.value or [])
                if index >= len(values):
                    continue
                states = _states(field, len(values))
                if values[index] != value:
                    values[index], field.value, field.source = value, values, "human"
                    states[index] = "corrected"
                elif states[index] == "machine":
                    states[index] = "confirmed"
                _set_states(field, states)
                self.proposal.fields[path] = field

        return self._edit(change)

    def confirm(self, path: str, index: int | None = None) -> bool:
        """Mark a field checked as it stands; with ``index``, only that element of a list."""

        def change() -> None:
            field = self._field(path)
            if index is None:
                field.confirmed = True
                field.elements = _checked(field.elements)
            else:
                states = _states(field, len(field.value or []))
                if index < len(states) and states[index] == "machine":
                    states[index] = "confirmed"
                _set_states(field, states)
            self.proposal.fields[path] = field

        return self._edit(change)

    def confirm_all(self) -> bool:
        def change() -> None:
            for path in self.proposal.paths():
                field = self._field(path)
                if not field.confirmed or "machine" in field.elements:
                    field.confirmed = True
                    field.elements = _checked(field.elements)
                    self.proposal.fields[path] = field

        return self._edit(change)

    # -- list elements (diagnoses, drugs) -----------------------------------------------------

    def _aligned(self, path: str) -> tuple[str, ...]:
        """A list field and those kept element by element beside it: a diagnosis's code moves,
        goes and comes with the diagnosis."""
        if path == "diagnoses" and "diagnosis_codes" in self.proposal.fields:
            return ("diagnoses", "diagnosis_codes")
        return (path,)

    def add_element(self, path: str, after: int | None, text: str = "") -> bool:
        def change() -> None:
            for name in self._aligned(path):
                field = self._field(name)
                values = list(field.value or [])
                at = len(values) if after is None else after + 1
                states = _states(field, len(values))
                states.insert(at, "corrected")  # a person added it
                values.insert(at, text if name == path else None)
                field.elements = states
                if spans_aligned(name) and len(field.spans) >= at:
                    field.spans = [*field.spans[:at], Span(start=0, end=0), *field.spans[at:]]
                field.value, field.source = values, "human"
                self.proposal.fields[name] = field

        return self._edit(change)

    def remove_element(self, path: str, index: int) -> bool:
        def change() -> None:
            for name in self._aligned(path):
                field = self._field(name)
                values = list(field.value or [])
                if index >= len(values):
                    continue
                states = _states(field, len(values))
                del values[index], states[index]
                field.elements = states
                if spans_aligned(name) and index < len(field.spans):
                    field.spans = [s for i, s in enumerate(field.spans) if i != index]
                field.value, field.source = values, "human"
                self.proposal.fields[name] = field

        return self._edit(change)

    def move_element(self, path: str, index: int, delta: int) -> bool:
        field = self.proposal.get(path)
        target = index + delta
        if not 0 <= target < len(field.value or []):
            return False

        def change() -> None:
            for name in self._aligned(path):
                moved = self._field(name)
                values = list(moved.value or [])
                if max(index, target) >= len(values):
                    continue
                values[index], values[target] = values[target], values[index]
                states = _states(moved, len(values))
                states[index], states[target] = states[target], states[index]
                moved.elements = states
                if len(moved.spans) == len(values):
                    spans = list(moved.spans)
                    spans[index], spans[target] = spans[target], spans[index]
                    moved.spans = spans
                moved.value, moved.source = values, "human"
                self.proposal.fields[name] = moved

        return self._edit(change)

    # -- items -----------------------------------------------------------------------------

    def _items(self) -> list[dict[str, ProposedField]]:
        items: list[dict[str, ProposedField]] = [{} for _ in range(self.proposal.n_items)]
        for path, field in self.proposal.fields.items():
            split = split_item_path(path)
            if split:
                items[split[0]][split[1]] = field
        return items

    def _set_items(self, items: list[dict[str, ProposedField]]) -> None:
        fields = {p: f for p, f in self.proposal.fields.items() if not split_item_path(p)}
        for i, item in enumerate(items):
            for name, field in item.items():
                fields[item_path(i, name)] = field
        self.proposal.fields = fields

    def add_item(self, after: int | None = None) -> int:
        """A blank item after ``after`` (at the end for None); returns its index."""
        items = self._items()
        at = len(items) if after is None else after + 1
        blank = {
            name: ProposedField(
                value=[] if name in ("drugs", "guidelines") else None,
                source="human",
                confidence=1.0,
            )
            for name in ITEM_FIELDS
        }
        blank["request"] = ProposedField(value="", source="human", confidence=1.0)
        self._checkpoint()
        self._set_items([*items[:at], blank, *items[at:]])
        return at

    def remove_item(self, index: int) -> bool:
        items = self._items()
        if not 0 <= index < len(items):
            return False
        self._checkpoint()
        self._set_items(items[:index] + items[index + 1 :])
        return True

    def move_item(self, index: int, delta: int) -> bool:
        items = self._items()
        target = index + delta
        if not (0 <= index < len(items) and 0 <= target < len(items)):
            return False
        items[index], items[target] = items[target], items[index]
        # Two identical items (two blank ones) swapped change nothing: no undo step for it.
        return self._edit(lambda: self._set_items(items))
