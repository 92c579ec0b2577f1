"""Every letter in the store: filter by status, search, see how far the gold set has come."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Label, ProgressBar, Select
from textual.worker import get_current_worker

from imrgold.core.models import LETTER_STATUSES, LetterSummary
from imrgold.tui.widgets.key_footer import KeyFooter
from imrgold.tui.widgets.queue_table import QueueTable

if TYPE_CHECKING:
    from imrgold.tui.app import ImrGoldApp


def matches(summary: LetterSummary, status: str | None, words: Sequence[str]) -> bool:
    if status is not None and summary.status != status:
        return False
    if not words:
        return True
    haystack = " ".join(
        [
            summary.name,
            summary.case_number or "",
            summary.status,
            " ".join(summary.decisions),
            summary.annotator or "",
            summary.comment or "",
        ]
    ).lower()
    return all(w in haystack for w in words)


def filter_summaries(
    summaries: Sequence[LetterSummary], status: str | None, query: str
) -> list[LetterSummary]:
    words = query.lower().split()
    return [s for s in summaries if matches(s, status, words)]


DONE = frozenset({"gold", "in_review", "reviewed"})
"""Statuses of a letter whose gold record stands."""


class QueueScreen(Screen[None]):
    _return_to: str | None = None
    """The letter the annotate screen had open when it was left: the cursor goes there."""

    @property
    def typed_app(self) -> ImrGoldApp:
        """The app this screen runs in, with its own methods typed."""
        return cast("ImrGoldApp", self.app)

    AUTO_FOCUS = "#queue"

    BINDINGS = [
        Binding("slash,ctrl+f", "search", "Search", id="queue.search"),
        Binding("s", "cycle_status", "Status filter", id="queue.cycle_status"),
        Binding("f5", "reload", "Reload", id="queue.reload"),
        Binding("escape", "clear", "Clear search", show=False, id="queue.clear"),
    ]

    def __init__(self) -> None:
        super().__init__(id="queue-screen")
        self.summaries: list[LetterSummary] = []
        self.shown: list[LetterSummary] = []

    def compose(self) -> ComposeResult:
        yield Label("imrgold", id="queue-title")
        with Horizontal(id="queue-bar"):
            yield Input(placeholder="search case, name, decision, comment", id="search")
            yield Select(
                [(s.replace("_", " "), s) for s in LETTER_STATUSES],
                prompt="all statuses",
                id="status-filter",
            )
            yield Label("", id="progress-label")
            yield ProgressBar(show_eta=False, show_percentage=False, id="progress")
        yield QueueTable(id="queue")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "imrgold"
        self.query_one(QueueTable).loading = True
        self.reload()

    def on_screen_resume(self) -> None:
        # Back from a letter: the cursor goes to the letter last open, not the one first opened.
        if self.app.is_screen_installed("annotate"):
            self._return_to = getattr(self.app.get_screen("annotate"), "letter_id", None)
        if self.summaries:
            self.reload()

    # -- loading and filtering -------------------------------------------------------------

    @work(thread=True, exclusive=True, group="queue")
    def reload(self) -> None:
        summaries = self.typed_app.load_summaries()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, summaries)

    def _loaded(self, summaries: list[LetterSummary]) -> None:
        self.summaries = summaries
        self.query_one(QueueTable).loading = False
        # A reviewed letter is still gold (it went through review): the count never goes back.
        gold = sum(1 for s in summaries if s.status in DONE)
        self.query_one("#progress-label", Label).update(f"{gold} of {len(summaries)} gold")
        self.query_one(ProgressBar).update(total=max(len(summaries), 1), progress=gold)
        label = self.typed_app.store_label
        self.query_one("#queue-title", Label).update(
            f"imrgold · {label}" if label else "imrgold", layout=False
        )
        self._refilter()

    def _status_filter(self) -> str | None:
        value = self.query_one("#status-filter", Select).value
        return None if value is Select.NULL else str(value)

    def _refilter(self) -> None:
        self._filter(self._status_filter(), self.query_one("#search", Input).value)

    @work(thread=True, exclusive=True, group="filter")
    def _filter(self, status: str | None, query: str) -> None:
        shown = filter_summaries(self.summaries, status, query)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, shown)

    def _show(self, shown: list[LetterSummary]) -> None:
        table = self.query_one(QueueTable)
        keep = self._return_to or table.current_id()
        self._return_to = None
        self.shown = shown
        table.show(shown, keep)

    @on(Input.Changed, "#search")
    def _searched(self, event: Input.Changed) -> None:
        self._refilter()

    @on(Input.Submitted, "#search")
    def _search_done(self, event: Input.Submitted) -> None:
        self.query_one(QueueTable).focus()

    @on(Select.Changed, "#status-filter")
    def _status_changed(self, event: Select.Changed) -> None:
        self._refilter()

    # -- actions ---------------------------------------------------------------------------

    @on(QueueTable.Selected)
    def _selected(self, event: QueueTable.Selected) -> None:
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(QueueTable)
        letter_id = table.current_id()
        if letter_id is None:
            return
        self.typed_app.open_letters(table.letter_ids, table.cursor_row)

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear(self) -> None:
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""
        self.query_one(QueueTable).focus()

    def action_cycle_status(self) -> None:
        select = self.query_one("#status-filter", Select)
        options = [None, *LETTER_STATUSES]
        current = self._status_filter()
        following = options[(options.index(current) + 1) % len(options)]
        select.value = Select.NULL if following is None else following

    def action_reload(self) -> None:
        self.reload()
