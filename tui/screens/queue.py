"""Every letter in the store: order, filter by status, search (the letters' words too), see
how far the gold set has come and at what pace."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Label, ProgressBar, Select
from textual.widgets.select import NoSelection
from textual.worker import get_current_worker

from imrgold.core.models import LETTER_STATUSES, LetterStatus, LetterSummary
from imrgold.core.progress import progress, progress_text
from imrgold.core.queue import (
    SORTS,
    filter_summaries,
    is_gold,
    next_sort,
    query_words,
    sort_summaries,
)
from imrgold.tui.widgets.key_footer import KeyFooter
from imrgold.tui.widgets.queue_table import QueueTable

if TYPE_CHECKING:
    from imrgold.tui.app import ImrGoldApp
    from imrgold.tui.screens.annotate import AnnotateScreen


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
        Binding(
            "o",
            "cycle_sort",
            "Order",
            tooltip="Order by expected corrections, case number, decision date, status, "
            "last touched (each press the next)",
            id="queue.sort",
        ),
        Binding("f5", "reload", "Reload", id="queue.reload"),
        Binding(
            "d",
            "dashboard",
            "Stats",
            tooltip="The dashboard: letters a day, the machine's accuracy, agreement, decisions",
            id="queue.dashboard",
        ),
        Binding("escape", "clear", "Clear search", show=False, id="queue.clear"),
    ]

    def __init__(self) -> None:
        super().__init__(id="queue-screen")
        self._stored: list[LetterSummary] = []
        """Every letter in the store's (ingest) order."""
        self.summaries: list[LetterSummary] = []
        """Every letter, in the current order."""
        self.shown: list[LetterSummary] = []
        self.sort_key = next(iter(SORTS))

    def compose(self) -> ComposeResult:
        yield Label("imrgold", id="queue-title")
        yield Label("", id="queue-pace", markup=False)
        with Horizontal(id="queue-bar"):
            yield Input(placeholder="search case, name, decision, comment, text", id="search")
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
            self._return_to = cast("AnnotateScreen", self.app.get_screen("annotate")).letter_id
        if self.summaries:
            self.reload()

    # -- loading and filtering -------------------------------------------------------------

    @work(thread=True, exclusive=True, group="queue")
    def reload(self) -> None:
        summaries = self.typed_app.load_summaries()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, summaries)

    def _loaded(self, summaries: list[LetterSummary]) -> None:
        self._stored = summaries
        self.summaries = sort_summaries(summaries, self.sort_key)
        self.query_one(QueueTable).loading = False
        # Reviewed, adjudicated, flagged since: a letter with a gold record stays counted.
        gold = sum(1 for s in summaries if is_gold(s))
        self.query_one("#progress-label", Label).update(f"{gold} of {len(summaries)} gold")
        self.query_one(ProgressBar).update(total=max(len(summaries), 1), progress=gold)
        app = self.typed_app
        pace = progress(
            (s.gold_at for s in summaries if s.gold_at is not None),
            left=len(summaries) - gold,
            now=app.clock(),
            session_start=app.session_start,
        )
        self.query_one("#queue-pace", Label).update(progress_text(pace), layout=False)
        self._title()
        self._refilter()

    def _title(self) -> None:
        label = self.typed_app.store_label
        self.query_one("#queue-title", Label).update(
            Text.assemble(
                f"imrgold · {label}" if label else "imrgold",
                (f" · order: {SORTS[self.sort_key][0]}", "dim"),
            ),
            layout=False,
        )

    def ordered_ids(self) -> list[str]:
        return [s.letter_id for s in self.summaries]

    def _status_select(self) -> Select[LetterStatus]:
        # Composed with LETTER_STATUSES as its values.
        return cast("Select[LetterStatus]", self.query_one("#status-filter", Select))

    def _status_filter(self) -> LetterStatus | None:
        value = self._status_select().value
        return None if isinstance(value, NoSelection) else value

    def _refilter(self) -> None:
        self._filter(self._status_filter(), self.query_one("#search", Input).value)

    @work(thread=True, exclusive=True, group="filter")
    def _filter(self, status: LetterStatus | None, query: str) -> None:
        worker = get_current_worker()
        summaries = self.summaries
        shown = filter_summaries(summaries, status, query)
        if worker.is_cancelled:
            return
        self.app.call_from_thread(self._show, shown)
        words = query_words(query)
        if not words:
            return
        # Then the letters' words: those whose summary already matched need no reading.
        matched = {s.letter_id for s in shown}
        rest = [
            s
            for s in summaries
            if s.letter_id not in matched and (status is None or s.status == status)
        ]
        found = self.typed_app.search_texts(words, rest, lambda: worker.is_cancelled)
        if found and not worker.is_cancelled:
            shown = filter_summaries(summaries, status, query, found_in_text=found)
            self.app.call_from_thread(self._show, shown)

    def _show(self, shown: list[LetterSummary]) -> None:
        table = self.query_one(QueueTable)
        keep = self._return_to or table.current_id()
        self._return_to = None
        self.shown = shown
        table.show(shown, keep)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "search":
            self.typed_app.warm_texts()  # the first search in the letters' words reads them

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
        select = self._status_select()
        options: list[LetterStatus | None] = [None, *LETTER_STATUSES]
        current = self._status_filter()
        following = options[(options.index(current) + 1) % len(options)]
        select.value = Select.NULL if following is None else following

    def action_cycle_sort(self) -> None:
        self.sort_key = next_sort(self.sort_key)
        # From the store's order each time: ties keep it, not the order before.
        self.summaries = sort_summaries(self._stored, self.sort_key)
        self.query_one(QueueTable).sort_column = self.sort_key
        self._title()
        self._refilter()

    def action_reload(self) -> None:
        self.reload()

    def action_dashboard(self) -> None:
        from imrgold.tui.screens.dashboard import DashboardScreen

        self.app.push_screen(DashboardScreen())
