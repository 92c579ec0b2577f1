"""Every field of the letter's record, one row each, with its state and confidence.

The table only shows; the editor below it changes values.  Rows are keyed by `Row.key`, so the
screen can update one row in place after an edit and refill only when items or diagnoses are
added, removed or reordered.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message

from imrgold.core.models import FieldState
from imrgold.tui.fields import EMPTY, Row, confidence_percent
from imrgold.tui.widgets.line_list import LineList

STATE_MARKS: dict[FieldState, str] = {"machine": "·", "confirmed": "✓", "corrected": "✎"}
STATE_STYLES: dict[FieldState, str] = {"machine": "dim", "confirmed": "green", "corrected": "cyan"}
STATE_WIDTH, FIELD_WIDTH = 5, 17


def confidence_badge(confidence: float) -> str:
    """A low confidence as a whole percentage, rounded down: 0.75 shows "!75" and 0.799 "!79",
    never a figure at or above the threshold for a value that is below it (0.75 once showed
    as "!0.8", the threshold itself)."""
    return f"!{confidence_percent(confidence)}"


def state_mark(state: FieldState) -> Text:
    """A row's state as a mark in the state column: unchecked, confirmed, corrected."""
    return Text(STATE_MARKS[state].center(STATE_WIDTH - 1), style=STATE_STYLES[state])


def state_cell(row: Row, low_style: Style) -> Text:
    if row.low:
        return Text(confidence_badge(row.confidence).ljust(STATE_WIDTH - 1), style=low_style)
    return state_mark(row.state)


def row_line(row: Row, width: int, low_style: Style) -> Text:
    """``low_style``: the badge of a low confidence (the table's theme gives it)."""
    line = Text(" ")
    line.append_text(state_cell(row, low_style))
    label = row.label[: FIELD_WIDTH - 1].ljust(FIELD_WIDTH)
    line.append(" " + label, style="bold" if row.low else "")
    room = max(1, width - STATE_WIDTH - FIELD_WIDTH - 2)
    if not row.text:
        line.append(EMPTY, style="dim")
    else:
        value = row.text if len(row.text) <= room else row.text[: room - 1] + "…"
        line.append(value, style="bold" if row.low else "")
    return line


class FieldTable(LineList):
    """Cursor row = the field being edited; a click posts `Clicked`."""

    can_focus = False
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"field-table--low"}
    DEFAULT_CSS = """
    FieldTable > .field-table--low { background: $warning; color: $text; text-style: bold; }
    """

    class Clicked(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self.keys: list[str] = []

    def show_rows(self, rows: list[Row], focus_key: str | None = None) -> None:
        self.rows, self.keys = list(rows), [r.key for r in rows]
        cursor = self.keys.index(focus_key) if focus_key in self.keys else 0
        self.set_rows(len(rows), cursor)

    def update_row(self, row: Row) -> None:
        if row.key in self.keys:
            index = self.keys.index(row.key)
            self.rows[index] = row
            self.refresh_row(index)

    def current_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self.keys):
            return self.keys[self.cursor_row]
        return None

    def select_key(self, key: str, clear_bottom: int = 0) -> None:
        """Put the cursor on ``key``'s row, kept out of the bottom ``clear_bottom`` lines
        (suggestions float over them): one scroll at most, whether the cursor moves or not."""
        self.clear_bottom = clear_bottom
        if key in self.keys:
            self.move_cursor(row=self.keys.index(key))
        self.scroll_to_cursor()

    def header_line(self, width: int) -> Text:
        return Text(" " + "".ljust(STATE_WIDTH) + "field".ljust(FIELD_WIDTH + 1) + "value")

    def line(self, row: int, width: int) -> Text:
        return row_line(self.rows[row], width, self.get_component_rich_style("field-table--low"))

    def on_click(self, event: events.Click) -> None:
        row = self.row_at(event.y)
        if row is not None:
            self.post_message(self.Clicked(self.keys[row]))
