"""The letters of the store, one row each, keyed by letter id."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

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


def decisions_text(decisions: list[str]) -> str:
    """``["upheld", "upheld", "overturned"]`` -> ``2 upheld, 1 overturned``."""
    counts = Counter(decisions)
    return ", ".join(f"{n} {d}" for d, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _cells(s: LetterSummary) -> tuple[Text, str, str, str, str]:
    decisions = decisions_text(s.decisions)
    return (
        Text(s.status.replace("_", " "), style=STATUS_STYLES.get(s.status, "")),
        s.case_number or "—",
        str(s.n_items),
        decisions,
        s.name,
    )


class QueueTable(DataTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.letter_ids: list[str] = []

    def on_mount(self) -> None:
        self.add_column("status", key="status", width=12)
        self.add_column("case", key="case", width=13)
        self.add_column("items", key="items", width=5)
        self.add_column("decisions", key="decisions", width=22)
        self.add_column("letter", key="letter")

    def show(self, summaries: Sequence[LetterSummary], keep: str | None = None) -> None:
        self.clear()
        self.letter_ids = [s.letter_id for s in summaries]
        self.add_rows([_cells(s) for s in summaries])
        if keep in self.letter_ids:
            self.move_cursor(row=self.letter_ids.index(keep), animate=False)

    def current_id(self) -> str | None:
        if 0 <= self.cursor_row < len(self.letter_ids):
            return self.letter_ids[self.cursor_row]
        return None
