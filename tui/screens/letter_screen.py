"""What every screen that shows a letter beside its fields shares: the keys that read the letter
(find, next and previous hit, the raw text, into the letter and back) and the ones that lay out
the two panes (the letter wider or narrower, one pane alone).

Annotation, review and adjudication show the letter the same way and take the same keys for it;
each screen gives only where its messages go (`say`) and where the focus goes back to when the
letter is left (`focus_fields`).
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen

from imrgold.tui.widgets.find_bar import FindBar
from imrgold.tui.widgets.letter_view import LetterView

ResultType = TypeVar("ResultType")


class LetterScreen(Screen[ResultType]):
    WORKFLOW: ClassVar[str | None] = None
    """How the screen's work goes, for the help (markup); None: the annotation's."""

    BINDINGS = [
        Binding(
            "ctrl+f",
            "find",
            "Find",
            tooltip="Find in the letter (Enter or ↓: next hit, ↑: previous; in the letter n, N)",
            id="letter_screen.find",
        ),
        Binding(
            "alt+r",
            "raw_letter",
            "Raw letter",
            show=False,
            priority=True,
            tooltip="The letter as ingested (line breaks, markup) or reflowed and clean",
            id="letter_screen.raw_letter",
        ),
        Binding(
            "f2",
            "toggle_letter",
            "Letter⇄fields",
            show=False,
            tooltip="Move into the letter (arrows, Shift+arrows select) and back",
            id="letter_screen.toggle_letter",
        ),
        Binding(
            "f3",
            "cycle_panes",
            "Letter/fields",
            show=False,
            tooltip="The letter and the fields side by side, the letter alone, the fields alone",
            id="letter_screen.cycle_panes",
        ),
        # Letters, not "," and ".": a terminal sends Alt as ESC+key, and Textual reads ESC and a
        # punctuation mark as the bare mark (it would be typed into the field).
        Binding(
            "alt+w",
            "letter_width(1)",
            "Wider letter",
            show=False,
            priority=True,
            id="letter_screen.wider_letter",
        ),
        Binding(
            "alt+shift+w",
            "letter_width(-1)",
            "Narrower letter",
            show=False,
            priority=True,
            id="letter_screen.narrower_letter",
        ),
    ]

    # The letter pane's share of the width, in steps (the step it starts at is the .tcss width
    # of #letter-pane); F3 shows one pane alone.
    LETTER_WIDTHS = (25, 35, 45, 55, 65, 75)
    PANES = ("both", "letter", "fields")

    letter_width_step = 2
    panes = "both"
    HIT_HINT = ""
    """Said after a search's hit: what the screen lets one do with it."""

    # -- what each screen gives --------------------------------------------------------------

    def say(self, message: str) -> None:
        """Show ``message`` in the screen's status line."""
        raise NotImplementedError

    def focus_fields(self) -> None:
        """Give the focus back to the fields' side (the letter is left)."""
        raise NotImplementedError

    def compose_letter_pane(self) -> ComposeResult:
        with Vertical(id="letter-pane"):
            yield LetterView(id="letter")
            yield FindBar(id="find")

    # -- find ----------------------------------------------------------------------------------

    def action_find(self) -> None:
        view = self.query_one(LetterView)
        if not view.has_focus:
            view.place_cursor_at_mark()  # find from the field's value on
        find = self.query_one(FindBar)
        find.display = True
        find.focus()

    @on(FindBar.Step)
    def _find_step(self, event: FindBar.Step) -> None:
        event.stop()
        self._find(event.query, event.forward)

    @on(FindBar.Closed)
    def _find_closed(self, event: FindBar.Closed) -> None:
        event.stop()
        self.hide_find()
        self.focus_fields()

    def action_find_step(self, forward: bool) -> None:
        """n / N in the letter: the last search's next or previous hit."""
        query = self.query_one(FindBar).value
        if query.strip():
            self._find(query, forward)
        else:
            self.action_find()

    def _find(self, query: str, forward: bool) -> None:
        found = self.query_one(LetterView).find(query, forward=forward)
        if found is None:
            self.say(f"{query!r} not found")
        else:
            self.say(f"hit {found.hit} of {found.hits}{self.HIT_HINT}")

    @property
    def finding(self) -> bool:
        return bool(self.query_one(FindBar).display)

    def hide_find(self) -> None:
        self.query_one(FindBar).display = False
        self.query_one(LetterView).clear_hits()

    # -- the letter ------------------------------------------------------------------------

    def action_raw_letter(self) -> None:
        view = self.query_one(LetterView)
        view.set_clean(not view.clean)
        self.say("the letter reflowed, markup hidden" if view.clean else "the letter as ingested")

    def action_toggle_letter(self) -> None:
        view = self.query_one(LetterView)
        if view.has_focus:
            self.focus_fields()
        else:
            view.place_cursor_at_mark()
            view.focus()

    # -- the two panes -----------------------------------------------------------------------

    def action_letter_width(self, delta: int) -> None:
        step = max(0, min(self.letter_width_step + delta, len(self.LETTER_WIDTHS) - 1))
        self.letter_width_step, self.panes = step, "both"
        self._lay_out_panes()
        self.say(f"letter {self.LETTER_WIDTHS[step]}% of the width")

    def action_cycle_panes(self) -> None:
        self.panes = self.PANES[(self.PANES.index(self.panes) + 1) % len(self.PANES)]
        self._lay_out_panes()
        if self.panes == "letter":
            view = self.query_one(LetterView)
            view.place_cursor_at_mark()
            view.focus()
        else:
            self.focus_fields()

    def _lay_out_panes(self) -> None:
        letter, fields_pane = self.query_one("#letter-pane"), self.query_one("#fields-pane")
        share = self.LETTER_WIDTHS[self.letter_width_step]
        letter.display = self.panes != "fields"
        fields_pane.display = self.panes != "letter"
        letter.styles.width = f"{share}%" if self.panes == "both" else "1fr"
        fields_pane.styles.width = f"{100 - share}%" if self.panes == "both" else "1fr"
