"""The line under the fields: how many are checked, the last message, and the walk's one
question asked in place.

Marking gold with fields unchecked asks "mark gold anyway?" here rather than in a dialog: a modal
screen repaints the whole letter dimmed behind it (a tenth of a second at 120x40), and the
question is asked a couple of hundred times a day.  While it asks, the line holds the focus:
only `y` says yes; `n`, Escape and Enter say no (an Enter pressed at full speed must not say yes);
every other key is swallowed, not typed into the field below.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static


class StatusLine(Static, can_focus=False):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="status.yes"),
        Binding("n,escape,enter", "answer(False)", "No", id="status.no"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._answer: Callable[[bool], None] | None = None
        self._return_to: Widget | None = None
        self._message = Text()

    @property
    def asking(self) -> bool:
        return self._answer is not None

    def show(self, text: Text) -> None:
        """The counts and the latest message (shown again once a question is answered)."""
        self._message = text
        if not self.asking:
            self.update(text, layout=False)

    def ask(self, question: str, answer: Callable[[bool], None]) -> None:
        """Ask ``question``; ``answer`` gets True for `y`, False for anything that says no."""
        self._answer, self._return_to = answer, self.app.focused
        self.can_focus = True
        self.add_class("-asking")
        self.update(
            Text.assemble((question, "bold"), "   y: yes · n, Esc, Enter: no"), layout=False
        )
        self.focus()

    def action_answer(self, yes: bool) -> None:
        answer, self._answer = self._answer, None
        if answer is None:
            return
        self.can_focus = False
        self.remove_class("-asking")
        self.update(self._message, layout=False)
        if self._return_to is not None and self._return_to.is_attached:
            self._return_to.focus()
        answer(yes)

    def on_key(self, event: events.Key) -> None:
        # Keys meant for the field do not reach it while the question stands.
        if self.asking and event.key not in ("y", "n", "escape", "enter"):
            event.stop()
            event.prevent_default()

    def on_blur(self) -> None:
        # Focus taken elsewhere (a click, a priority key that opens a letter): that is a no.
        if self.asking:
            self.action_answer(False)
