"""The letters of the store, one line each, for stores of any size."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message

from imrgold.core.models import LetterStatus, LetterSummary
from imrgold.tui.fields import status_label
from imrgold.tui.widgets.line_list import LineList

STATUS_STYLES: dict[LetterStatus, str] = {
    "new": "dim",
    "in_progress": "yellow",
    "gold": "bold green",
    "in_review": "cyan",
    "flagged": "bold red",
    "reviewed": "green",
    "adjudication": "magenta",
}
COLUMNS = (
    ("status", 12),
    ("fixes", 7),
    ("case", 13),
    ("decided", 10),
    ("letter", 36),
    ("items", 5),
    ("decisions", 24),
)
SORT_COLUMNS = {"status": "status", "expected": "fixes", "case": "case", "decision_date": "decided"}
"""The column each order of `core.queue.SORTS` sorts by (marked in the header)."""


def decisions_text(decisions: list[str]) -> str:
    """``["upheld", "upheld", "overturned"]`` -> ``2 upheld, 1 overturned``."""
    counts = Counter(decisions)
    return ", ".join(f"{n} {d}" for d, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def fixes_text(expected: float) -> str:
    """Expected corrections as the column shows them: calibrated confidences make most letters'
    figures small, so two decimals tell them apart; ten and more need only one."""
    return f"{expected:.2f}" if expected < 10 else f"{expected:.1f}"


def cell(text: str, width: int) -> str:
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


def row_text(s: LetterSummary) -> Text:
    line = Text(" ")
    status = status_label(s.status, s.edited)
    line.append(cell(status, COLUMNS[0][1]), STATUS_STYLES.get(s.status, ""))
    fixes = "—" if s.expected_corrections is None else fixes_text(s.expected_corrections)
    values = (
        fixes.rjust(COLUMNS[1][1] - 2),
        s.case_number or "—",
        s.decision_date.isoformat() if s.decision_date else "—",
        s.name,
        str(s.n_items),
        decisions_text(s.decisions),
    )
    for value, (_, width) in zip(values, COLUMNS[1:], strict=True):
        line.append(" " + cell(value, width))
    return line


class QueueTable(LineList, can_focus=True):
    """Up/Down/PageUp/PageDown/Home/End move the cursor; Enter posts `Selected`."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="queue.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="queue.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="queue.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="queue.page_down"),
        Binding("home", "cursor_to(0)", "First", show=False, id="queue.first"),
        Binding("end", "cursor_to(-1)", "Last", show=False, id="queue.last"),
        Binding("enter", "select", "Open", id="queue.select"),
    ]

    class Selected(Message):
        def __init__(self, letter_id: str, index: int) -> None:
            super().__init__()
            self.letter_id, self.index = letter_id, index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.summaries: list[LetterSummary] = []
        self.letter_ids: list[str] = []
        self._lines: dict[int, Text] = {}
        self.sort_column = "expected"
        """The order shown (a key of `core.queue.SORTS`): its column is marked."""

    def show(self, summaries: Sequence[LetterSummary], keep: str | None = None) -> None:
        self.summaries = list(summaries)
        self.letter_ids = [s.letter_id for s in self.summaries]
        self._lines = {}
        cursor = self.letter_ids.index(keep) if keep in self.letter_ids else 0
        self.set_rows(len(self.summaries), cursor, sum(w + 1 for _, w in COLUMNS) + 1)

    def current_id(self) -> str | None:
        if 0 <= self.cursor_row < len(self.letter_ids):
            return self.letter_ids[self.cursor_row]
        return None

    def header_line(self, width: int) -> Text:
        marked = SORT_COLUMNS.get(self.sort_column)
        return Text(
            " " + " ".join(cell(f"{name} ↓" if name == marked else name, w) for name, w in COLUMNS)
        )

    def line(self, row: int, width: int) -> Text:
        text = self._lines.get(row)
        if text is None:
            text = self._lines[row] = row_text(self.summaries[row])
        return text

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta)

    def action_page(self, delta: int) -> None:
        self.move_cursor(row=self.cursor_row + delta * self.page_size())

    def action_cursor_to(self, row: int) -> None:
        self.move_cursor(row=row if row >= 0 else self.row_count - 1)

    def action_select(self) -> None:
        letter_id = self.current_id()
        if letter_id is not None:
            self.post_message(self.Selected(letter_id, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        row = self.row_at(event.y)
        if row is not None and row == self.cursor_row and event.chain > 1:
            self.action_select()
        super().on_click(event)
