"""The list of a choice field's values (decision, category, priority, sex), opened on Space or
Ctrl+O; dismisses with the value chosen, or None when left with Escape.

Typing narrows to the first value starting with what was typed, as a menu does; Enter takes
the highlighted value.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class ChoiceMenu(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "leave", "Close", id="choice_menu.close")]

    def __init__(self, title: str, choices: Sequence[str], current: str | None) -> None:
        super().__init__()
        self._title, self._choices, self._current = title, list(choices), current
        self._typed = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="dialog-title")
            yield OptionList(*[Option(c, id=c) for c in self._choices], id="choice-list")
            yield Label("type to find · Enter: take · Escape: close", classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self._current in self._choices:
            options.highlighted = self._choices.index(self._current)
        options.focus()

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isprintable() and event.character != " ":
            self._typed += event.character.lower()
            found = self._first(self._typed)
            if found is None:  # no value goes on like that: start again from this key
                self._typed = event.character.lower()
                found = self._first(self._typed)
            if found is not None:
                self.query_one(OptionList).highlighted = found
            event.stop()

    def _first(self, prefix: str) -> int | None:
        return next((i for i, c in enumerate(self._choices) if c.startswith(prefix)), None)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_leave(self) -> None:
        self.dismiss(None)
