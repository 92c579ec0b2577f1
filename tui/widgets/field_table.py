"""Every field of the letter's record, one row each, with its state and confidence.

The table only shows; the editor below it changes values.  Rows are keyed by `Row.key`, so the
screen can update one row in place after an edit and rebuild only when items or diagnoses are
added, removed or reordered.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.fields import Row

STATE_MARKS = {"machine": "·", "confirmed": "✓", "corrected": "✎"}


def _state_cell(row: Row) -> Text:
    if row.low:
        return Text(f"! {row.confidence:.1f}", style="bold black on #d7af00")
    mark = STATE_MARKS.get(row.state, "?")
    style = {"confirmed": "green", "corrected": "cyan"}.get(row.state, "dim")
    return Text(mark, style=style)


def _value_cell(row: Row) -> Text:
    if not row.text:
        return Text("—", style="dim")
    text = row.text if len(row.text) <= 200 else row.text[:199] + "…"
    return Text(text, style="bold" if row.low else "")


class FieldTable(DataTable):
    """Cursor row = the field being edited."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id=id)
        self.keys: list[str] = []

    def on_mount(self) -> None:
        self.add_column("", key="state", width=5)
        self.add_column("field", key="field", width=16)
        self.add_column("value", key="value")

    def show_rows(self, rows: list[Row], focus_key: str | None = None) -> None:
        self.clear()
        self.keys = [r.key for r in rows]
        self.add_rows(
            [(_state_cell(r), Text(r.label, style="bold" if r.low else ""), _value_cell(r))
             for r in rows]
        )
        if focus_key in self.keys:
            self.move_cursor(row=self.keys.index(focus_key), animate=False)

    def update_row(self, row: Row) -> None:
        if row.key not in self.keys:
            return
        index = self.keys.index(row.key)
        self.update_cell_at((index, 0), _state_cell(row))
        self.update_cell_at((index, 2), _value_cell(row), update_width=False)

    def current_key(self) -> str | None:
        if not self.keys or not 0 <= self.cursor_row < len(self.keys):
            return None
        return self.keys[self.cursor_row]

    def select_key(self, key: str) -> None:
        if key in self.keys:
            self.move_cursor(row=self.keys.index(key), animate=False, scroll=True)
