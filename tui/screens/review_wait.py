"""Shown while the next letter to review is read from the store: the keys typed meanwhile are
kept, in order, for the letter's screen (a reviewer typing ahead loses nothing)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label

from imrgold.tui.widgets.key_footer import KeyFooter


class WaitScreen(Screen[None]):
    AUTO_FOCUS = ""  # no widget: every key is the screen's

    class Resumed(Message):
        """The screen is on top again (a dialog over it closed): the letter may be read by now."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[events.Key] = []

    def compose(self) -> ComposeResult:
        yield Label(Text("imrgold review · opening the next letter…"), id="title-bar")
        yield KeyFooter()

    def on_screen_resume(self) -> None:
        self.post_message(self.Resumed())

    def on_key(self, event: events.Key) -> None:
        # Not run here (the app's bindings, Ctrl+Q and F1, still are: they come first).
        event.stop()
        event.prevent_default()
        self.held.append(events.Key(event.key, event.character))
