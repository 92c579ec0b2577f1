"""Keys handled in the order they were typed, whatever a key sets moving.

A terminal delivers a burst of keys at once ("Down, a, b, c").  Textual runs a key's binding
only once the key has bubbled up to the app, while the focused box types a printable key as
soon as it reads it: "abc" overtook the Down and went into the row being left.  So the
editor's boxes (`HoldsKeys`) run the binding of each key they read themselves, there and then
(the same binding the app would pick, by the app's own lookup), and a move that goes through
a message (Enter commits, a choice is picked, an arrow leaves the prose box) holds every later
key until the screen has made it (`moved`); the held keys then go, in order, to whatever has
the focus by then: the row moved to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events
from textual.message import Message

if TYPE_CHECKING:
    from textual.widget import Widget

    _Box = Widget
else:
    _Box = object  # a plain mixin: a Widget base here would hide the box's own CSS classes


class HoldsKeys(_Box):
    """Mixed into the editor's boxes, before the Textual widget class; their `_on_key` starts
    with ``if await self.walk_key(event): return``."""

    class _Drain(Message):
        """Handle the keys held while a move was under way."""

    swallowing = False
    """A question stands (the status line's): keys are held back from the box, not typed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._leaving = False
        self._draining = False
        self._held: list[events.Key] = []

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        # While a question stands the box types nothing, so the screen's answer keys (y, n)
        # are not filtered out of the bindings as keys the box would consume.
        if self.swallowing:
            return False
        return bool(super().check_consume_key(key, character))

    @property
    def holding(self) -> bool:
        """Keys wait: a move is under way, or the keys held meanwhile are being handled."""
        return self._leaving or self._draining

    def leaving(self) -> None:
        """A move was asked for by message: later keys wait until the screen has made it."""
        self._leaving = True

    def moved(self) -> None:
        """The screen has handled the move this box asked for (or found nothing to do)."""
        if not self._leaving:
            return
        self._leaving = False
        if self._held:
            self._draining = True
            self.post_message(self._Drain())

    async def walk_key(self, event: events.Key) -> bool:
        """True when ``event`` was dealt with here (held, passed on, or its binding run)."""
        focused = self.app.focused
        if focused is not self:
            # The focus moved on while this key waited: it is for the box that has it now.
            self._stop(event)
            if focused is not None:
                focused.post_message(events.Key(event.key, event.character))
            return True
        if self.swallowing:
            self._stop(event)
            return True
        if self.holding:
            self._stop(event)
            self._held.append(event)
            return True
        # The app's own binding lookup, run now instead of once the key has bubbled up: it
        # walks the focus chain and passes over actions that decline (SkipAction), as Input's
        # scroll_down does for Down.  Textual is pinned (pyproject); the tests drive bursts
        # through it.
        if not event.is_printable and await self.app._check_bindings(event.key):
            self._stop(event)
            return True
        return False

    async def on_holds_keys__drain(self, message: HoldsKeys._Drain) -> None:
        message.stop()
        self._draining = False
        # The box's own handler, as if each key came now: one for a box the focus has moved to
        # is passed there (walk_key); a held Enter that moves on again leaves the rest held
        # until that move is made.
        while self._held and not self._leaving:
            await self._on_key(self._held.pop(0))

    @staticmethod
    def _stop(event: events.Key) -> None:
        event.stop()
        event.prevent_default()
