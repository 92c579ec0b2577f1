"""A yes/no question; dismisses with True or False."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.answer_yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.answer_no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._question, id="dialog-title")
            yield Label("[b]y[/b]/Enter: yes · [b]n[/b]/Escape: no", classes="hint")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class StrictConfirmScreen(ConfirmScreen):
    """A yes/no question only `y` answers yes: an Enter meant for the field list, pressed at full
    speed, must not say yes to it."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_strict.answer_yes"),
        Binding("n,escape,enter", "answer(False)", "No", id="confirm_strict.answer_no"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._question, id="dialog-title")
            yield Label("[b]y[/b]: yes · [b]n[/b]/Escape/Enter: no", classes="hint")
