"""A table of plain-text cells drawn like the annotate screen's field list.

The review and adjudication screens list a letter's fields with a few columns each; this is the
field list's look (`LineList`: its header, its cursor, one line a row) with columns sized to
what they hold.  A column either fits its widest cell (up to ``cap``, else in full) or shares
the room left with the other ``fill`` columns, whose cells are cut with an ellipsis (the
screens show the whole value below the table).  Cells are `Text`: a value from a letter is
never read as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message

from imrgold.tui.widgets.line_list import LineList

MIN_FILL = 6
"""The narrowest a fill column gets: a few characters and the ellipsis."""


@dataclass(frozen=True)
class Column:
    title: str
    cap: int | None = None
    """A sized column's widest; None: as wide as its widest cell, never cut."""
    fill: int = 0
    """A share of the room the sized columns leave (0: sized to its cells)."""


def column_widths(columns: list[Column], rows: list[list[Text]], width: int) -> list[int]:
    """Each column's width in a table ``width`` cells wide (a space between columns, one
    before the first)."""
    sized = []
    for i, column in enumerate(columns):
        widest = max([len(column.title), *(row[i].cell_len for row in rows)])
        sized.append(widest if column.cap is None else min(widest, column.cap))
    shares = sum(c.fill for c in columns)
    if not shares:
        return sized
    pairs = list(zip(sized, columns, strict=True))
    room = width - 1 - (len(columns) - 1) - sum(w for w, c in pairs if not c.fill)
    each = max(0, room) / shares
    return [max(MIN_FILL, int(each * c.fill)) if c.fill else w for w, c in pairs]


def fit(cell: Text, width: int) -> Text:
    """``cell`` cut (with an ellipsis) or padded to ``width`` cells."""
    cell = cell.copy()
    cell.truncate(width, overflow="ellipsis", pad=True)
    return cell


class CellTable(LineList):
    """Rows of cells; the screen moves the cursor, a move posts `Moved`, a click `Clicked`."""

    can_focus = False
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "cell-table--machine",
        "cell-table--person",
        "cell-table--chosen",
    }
    DEFAULT_CSS = """
    CellTable > .cell-table--machine { color: $warning; }
    CellTable > .cell-table--person { color: $success; }
    CellTable > .cell-table--chosen { color: $success; text-style: bold underline; }
    """

    class Moved(Message):
        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    class Clicked(Message):
        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[Column] = []
        self.rows: list[list[Text]] = []
        self._widths: list[int] = []

    def style_of(self, name: str) -> Style:
        """The theme's style for a kind of cell: ``machine``, ``person``, ``chosen``; its
        colour and text style only, so the cursor's background shows through."""
        style = self.get_component_rich_style(f"cell-table--{name}")
        return Style(
            color=style.color, bold=style.bold, italic=style.italic, underline=style.underline
        )

    def show(self, columns: list[Column], rows: list[list[Text]], cursor: int = 0) -> None:
        self.columns, self.rows = list(columns), [list(r) for r in rows]
        self._lay_out(cursor)

    def set_row(self, index: int, cells: list[Text]) -> None:
        """One row changed: redrawn alone unless its cells change the columns' widths."""
        self.rows[index] = list(cells)
        before = self._widths
        self._widths = column_widths(self.columns, self.rows, self.scrollable_content_region.width)
        if self._widths != before:
            self._lay_out(self.cursor_row)
        else:
            self.refresh_row(index)

    def _lay_out(self, cursor: int) -> None:
        self._widths = column_widths(self.columns, self.rows, self.scrollable_content_region.width)
        self.set_rows(len(self.rows), cursor, sum(self._widths) + len(self._widths))

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        if self.columns:
            self._lay_out(self.cursor_row)

    def _line(self, cells: list[Text]) -> Text:
        line = Text(" ")
        for i, (cell, width) in enumerate(zip(cells, self._widths, strict=True)):
            line.append_text(fit(cell, width))
            if i < len(cells) - 1:
                line.append(" ")
        return line

    def header_line(self, width: int) -> Text:
        return self._line([Text(c.title) for c in self.columns])

    def line(self, row: int, width: int) -> Text:
        return self._line(self.rows[row])

    def watch_cursor_row(self, old: int, new: int) -> None:
        super().watch_cursor_row(old, new)
        self.post_message(self.Moved(new))

    def on_click(self, event: events.Click) -> None:
        row = self.row_at(event.y)
        if row is not None:
            self.post_message(self.Clicked(row))
