"""The end of a review session: what became of each letter walked."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static

from imrgold.tui.widgets.key_footer import KeyFooter


def outcomes_text(outcomes: list[tuple[str, str, str]]) -> Text:
    if not outcomes:
        return Text("Nothing to review or adjudicate.")
    # Text, not markup: a letter's file name may hold brackets ("letter [copy].pdf").
    text = Text("Done.\n\n")
    for kind, name, outcome in outcomes:
        text.append(f"{kind:<10} ", style="dim")
        text.append(f"{name}  ")
        text.append(f"{outcome}\n", style="bold")
    return text


class DoneScreen(Screen[None]):
    AUTO_FOCUS = ""  # no widget: every key is the screen's
    BINDINGS = [Binding("q,escape,enter", "app.quit", "Quit", id="review.done_quit")]

    def __init__(self, outcomes: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.outcomes = outcomes

    def compose(self) -> ComposeResult:
        yield Label(Text("imrgold review · done"), id="title-bar")
        with VerticalScroll(id="review-done-pane"):
            yield Static(outcomes_text(self.outcomes), id="review-done")
        yield KeyFooter()

    def show(self, outcomes: list[tuple[str, str, str]]) -> None:
        """A save finished since the screen opened: its outcome replaces "saving…"."""
        self.outcomes = outcomes
        self.query_one("#review-done", Static).update(outcomes_text(outcomes))
