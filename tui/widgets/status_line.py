"""The line under the fields: how many are checked, the last message, and the walk's one
question asked in place.

Marking gold with fields unchecked asks "mark gold anyway?" here rather than in a dialog: a modal
screen repaints the whole letter dimmed behind it (a tenth of a second at 120x40), and the
question is asked a couple of hundred times a day.  The focus stays where it was (moving it and
back restyled the fields' pane twice): the screen that asks takes the answer with priority keys,
only `y` says yes; `n`, Escape and Enter say no (an Enter pressed at full speed must not say
yes), and holds every other key back from the field below while the question stands.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._answer: Callable[[bool], None] | None = None
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
        self._answer = answer
        self.add_class("-asking")
        self.update(
            Text.assemble((question, "bold"), "   y: yes · n, Esc, Enter: no"), layout=False
        )

    def answer(self, yes: bool) -> None:
        """The question is answered (or given up: no): the message comes back."""
        answer, self._answer = self._answer, None
        if answer is None:
            return
        self.remove_class("-asking")
        self.update(self._message, layout=False)
        answer(yes)
