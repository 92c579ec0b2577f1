"""The letters of the store, one line each, for stores of any size.

A line-API scroll view rather than a `DataTable`: a DataTable measures every cell of every row
when rows are added (seconds for 10,000 letters), while this renders only the lines on screen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from core.models import LetterSummary

STATUS_STYLES = {
    "new": "dim",
    "in_progress": "yellow",
    "gold": "bold green",
    "in_review": "cyan",
    "flagged": "bold red",
    "reviewed": "green",
    "adjudication": "magenta",
}
COLUMNS = (("status", 12), ("case", 13), ("items", 5), ("decisions", 24), ("letter", 0))


def decisions_text(decisions: list[str]) -> str:
    """``["upheld", "upheld", "overturned"]`` -> ``2 upheld, 1 overturned``."""
    counts = Counter(decisions)
    return ", ".join(f"{n} {d}" for d, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _cell(text: str, width: int) -> str:
    if not width:
        return text
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


def row_text(s: LetterSummary) -> Text:
    status = s.status.replace("_", " ")
    line = Text(" ")
    line.append(_cell(status, COLUMNS[0][1]), STATUS_STYLES.get(s.status, ""))
    for value, (_, width) in zip(
        (s.case_number or "—", str(s.n_items), decisions_text(s.decisions), s.name),
        COLUMNS[1:], strict=True,
    ):
        line.append(" " + _cell(value, width))
    return line


def header_text() -> Text:
    return Text(" " + " ".join(_cell(name, width) for name, width in COLUMNS), style="bold")


class QueueTable(ScrollView, can_focus=True):
    """Up/Down/PageUp/PageDown/Home/End move the cursor; Enter posts `Selected`."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "select", "Open"),
    ]
    COMPONENT_CLASSES = {"queue--header", "queue--cursor"}
    DEFAULT_CSS = """
    QueueTable > .queue--header { background: $panel; }
    QueueTable > .queue--cursor { background: $accent 40%; }
    QueueTable:focus > .queue--cursor { background: $accent; }
    """

    cursor_row: reactive[int] = reactive(0, init=False)

    class Selected(Message):
        def __init__(self, letter_id: str, index: int) -> None:
            super().__init__()
            self.letter_id, self.index = letter_id, index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.summaries: list[LetterSummary] = []
        self.letter_ids: list[str] = []
        self._lines: dict[int, Text] = {}

    # -- content ---------------------------------------------------------------------------

    def show(self, summaries: Sequence[LetterSummary], keep: str | None = None) -> None:
        self.summaries = list(summaries)
        self.letter_ids = [s.letter_id for s in self.summaries]
        self._lines = {}
        width = sum(w for _, w in COLUMNS) + len(COLUMNS) + 40
        self.virtual_size = Size(width, len(self.summaries) + 1)
        row = self.letter_ids.index(keep) if keep in self.letter_ids else 0
        self.set_reactive(QueueTable.cursor_row, min(row, max(len(self.letter_ids) - 1, 0)))
        self._scroll_to_cursor()
        self.refresh()

    def current_id(self) -> str | None:
        if 0 <= self.cursor_row < len(self.letter_ids):
            return self.letter_ids[self.cursor_row]
        return None

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self.cursor_row = max(0, min(row, len(self.letter_ids) - 1))

    # -- cursor ----------------------------------------------------------------------------

    def watch_cursor_row(self) -> None:
        self._scroll_to_cursor()
        self.refresh()

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = self.scroll_offset.y
        page = self._page()
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta)

    def action_page(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta * self._page())

    def action_cursor_to(self, row: int) -> None:
        self.move_cursor(row=row if row >= 0 else len(self.letter_ids) - 1)

    def action_select(self) -> None:
        letter_id = self.current_id()
        if letter_id is not None:
            self.post_message(self.Selected(letter_id, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y - 1
        if 0 <= row < len(self.letter_ids):
            if row == self.cursor_row and event.chain > 1:
                self.action_select()
            self.move_cursor(row=row)

    # -- rendering -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            text = header_text()
            style = base + self.get_component_rich_style("queue--header")
        else:
            row = scroll_y + y - 1
            if row >= len(self.summaries):
                return Strip.blank(width, base)
            text = self._lines.get(row)
            if text is None:
                text = self._lines[row] = row_text(self.summaries[row])
            style = base
            if row == self.cursor_row:
                style = base + self.get_component_rich_style("queue--cursor")
        segments = text.render(self.app.console)
        strip = Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width)
        return strip.apply_style(style if isinstance(style, Style) else Style())
