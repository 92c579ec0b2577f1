"""The state of the annotation project in charts: letters a day per annotator, the machine's
accuracy per field (confirmed against corrected, and by day), agreement per field between
annotators, and decisions by category.  The figures are `store.dashboard.gather_dashboard`'s,
the same `imrgold stats --json` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Sparkline, Static
from textual.worker import Worker, WorkerState

from imrgold.core.dashboard import NOT_STATED, Dashboard
from imrgold.core.models import DECISIONS
from imrgold.tui.widgets.bar_chart import GLYPHS, LEVELS, Bar, BarChart
from imrgold.tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from imrgold.tui.app import ImrGoldApp

TREND_PERIODS = 12
"""Days the accuracy trend shows (the last ones with gold letters): the bars keep the room."""
EMPTY = (
    "No letters in this store yet. Ingest some (imrgold ingest FILES) and mark them gold: "
    "the charts fill in as the work goes."
)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _legend(*names: str) -> Text:
    text = Text()
    for i, name in enumerate(names):
        text.append(f"  {GLYPHS[i]} {name}")
    return text


class DashboardScreen(Screen[None]):
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("escape", "close", "Back to the queue", id="dashboard.close"),
        Binding("f5", "reload", "Reload", id="dashboard.reload"),
    ]

    @property
    def typed_app(self) -> ImrGoldApp:
        return cast("ImrGoldApp", self.app)

    def __init__(self) -> None:
        super().__init__(id="dashboard-screen")
        self.figures: Dashboard | None = None

    def compose(self) -> ComposeResult:
        yield Label("imrgold · dashboard", id="dashboard-title")
        yield VerticalScroll(id="dashboard-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "dashboard"
        label = self.typed_app.store_label
        if label:
            title = Text("imrgold · dashboard · ")
            title.append(label)
            self.query_one("#dashboard-title", Label).update(title)
        self.query_one("#dashboard-body").loading = True
        self.load()

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def load(self) -> Dashboard:
        return self.typed_app.load_dashboard()

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "dashboard" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
        ):
            return
        body = self.query_one("#dashboard-body", VerticalScroll)
        await body.remove_children()
        if event.state == WorkerState.ERROR:
            # A damaged store says what is wrong in one line; the queue stays usable.
            await body.mount(
                Static(Text(f"The figures could not be read: {worker.error}"), id="dashboard-error")
            )
        else:
            assert isinstance(worker.result, Dashboard)
            self.figures = worker.result
            await body.mount_all(self._sections(self.figures))
        body.loading = False

    def _sections(self, d: Dashboard) -> list:
        if d.empty:
            return [Static(EMPTY, id="dashboard-empty", classes="dashboard-empty")]
        annotators = len(d.letters_per_day)
        out: list = [
            Static(
                f"{d.gold} of {d.letters} letters gold · {annotators} annotator(s)"
                + (f" · {d.days[0]} to {d.days[-1]}" if d.days else ""),
                id="dashboard-summary",
            )
        ]
        out += self._per_day(d)
        out += self._accuracy(d)
        out += self._agreement(d)
        out += self._decisions(d)
        return out

    def _heading(self, title: str, legend: Text | None = None) -> Static:
        text = Text(title, "bold")
        if legend is not None:
            text.append_text(legend)
        return Static(text, classes="dashboard-heading")

    def _none(self, message: str) -> Static:
        return Static(message, classes="dashboard-empty")

    def _per_day(self, d: Dashboard) -> list:
        out: list = [self._heading("Letters a day, by annotator (gold versions made)")]
        if not d.days:
            return [*out, self._none("No letter marked gold yet.")]
        for annotator, counts in d.letters_per_day.items():
            out.append(
                Horizontal(
                    Label(Text(annotator), classes="dashboard-name"),
                    Sparkline(counts, classes="dashboard-spark"),
                    Label(
                        f"{sum(counts)} in {len(counts)} day(s), at most {max(counts)} a day",
                        classes="dashboard-note",
                    ),
                    classes="dashboard-row",
                )
            )
        return out

    def _accuracy(self, d: Dashboard) -> list:
        out: list = [
            self._heading(
                "Machine accuracy per field",
                _legend("confirmed", "corrected").append(
                    f"  {LEVELS[0]}-{LEVELS[-1]} share confirmed a day "
                    f"(last {TREND_PERIODS} days with gold)"
                ),
            )
        ]
        if not d.accuracy:
            return [*out, self._none("No gold letter with a machine proposal yet.")]
        bars = [
            Bar(
                f.field,
                (f.confirmed, f.corrected),
                f"{_percent(f.share)} of {f.total}",
                tuple(f.shares[-TREND_PERIODS:]),
            )
            for f in d.accuracy
        ]
        return [*out, BarChart(bars, id="dashboard-accuracy")]

    def _agreement(self, d: Dashboard) -> list:
        title = "Agreement per field between annotators (exact)"
        if not d.pairs:
            return [
                self._heading(title),
                self._none("No letter has gold versions by two annotators yet."),
            ]
        legend = _legend("same", "different")
        legend.append("  ·  ")
        legend.append(", ".join(d.pairs) if len(d.pairs) < 4 else f"{len(d.pairs)} pairs")
        bars = [
            Bar(f.field, (f.same, f.compared - f.same), f"{_percent(f.share)} of {f.compared}")
            for f in d.agreement
        ]
        return [self._heading(title, legend), BarChart(bars, id="dashboard-agreement")]

    def _decisions(self, d: Dashboard) -> list:
        names = (*DECISIONS, NOT_STATED)
        out: list = [self._heading("Decisions by category", _legend(*names))]
        if not d.decisions:
            return [*out, self._none("No disputed item in a gold record yet.")]
        bars = [
            Bar(
                category,
                tuple(float(counts.get(n, 0)) for n in names),
                ", ".join(f"{counts[n]} {n}" for n in names if counts.get(n)),
            )
            for category, counts in d.decisions.items()
        ]
        return [*out, BarChart(bars, relative=False, id="dashboard-decisions")]

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.query_one("#dashboard-body").loading = True
        self.load()
