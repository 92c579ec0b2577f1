"""The line under the letter where a search is typed.

Its own keys step through the occurrences (Enter or Down: next, Shift+Enter or Up: previous), so
the walk's Up/Down bindings on the screen never see them while the bar has the focus; the screen
does the finding (it owns the letter), the bar only says what was asked.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FindBar(Input):
    BINDINGS = [
        Binding("enter,down", "step(True)", "Next hit", id="find.next"),
        Binding("shift+enter,up", "step(False)", "Previous hit", id="find.previous"),
        Binding("escape", "close", "Close", id="find.close"),
    ]

    class Closed(Message):
        """The search is over: hide the bar and its hits."""

    class Step(Message):
        """Select the next (``forward``) or previous occurrence of ``query``."""

        def __init__(self, query: str, forward: bool) -> None:
            super().__init__()
            self.query = query
            self.forward = forward

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="find in letter: Enter/↓ next · ↑ previous · Esc done", id=id)

    def action_step(self, forward: bool) -> None:
        self.post_message(self.Step(self.value, forward))

    def action_close(self) -> None:
        self.post_message(self.Closed())
