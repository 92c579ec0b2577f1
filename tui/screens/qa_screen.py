"""What the review and the adjudication screens share, laid out as the annotate screen is.

The letter on the left, a table of the letter's fields on the right with the selected one in
full below it, the title bar on top, the status line and the key footer at the bottom (the
annotate screen's own ids, so its stylesheet draws both alike).  Every key is the screen's
(the table never has the focus), so a key pressed in a burst acts on whatever screen is shown
when it is read.  The store is never touched here: a finished letter dismisses the screen with
a `Save`, which the app runs in a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from imrgold.tui import fields
from imrgold.tui.screens.letter_screen import LetterScreen
from imrgold.tui.seams import StoreLike
from imrgold.tui.widgets.cell_table import CellTable
from imrgold.tui.widgets.key_footer import KeyFooter
from imrgold.tui.widgets.letter_view import LetterView
from imrgold.tui.widgets.status_line import StatusLine


@dataclass(frozen=True)
class Save:
    """What finishing a letter writes: ``run(store)`` returns the letter's outcome."""

    run: Callable[[StoreLike], str]


# The keys that still act while a value is typed in the box (the box takes the others).
EDITING_ACTIONS = frozenset({"cancel_edit"})


class QAScreen(LetterScreen[Save | None]):
    """A table of rows beside the letter; dismisses with a `Save`, or None when skipped."""

    AUTO_FOCUS = ""  # no widget: every key is the screen's

    BINDINGS = [
        Binding("tab,down", "cursor(1)", "Next field", show=False, id="qa.next_field"),
        Binding("shift+tab,up", "cursor(-1)", "Prev field", show=False, id="qa.prev_field"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="qa.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="qa.page_up"),
        Binding("ctrl+home,home", "edge(0)", "First field", show=False, id="qa.first"),
        Binding("ctrl+end,end", "edge(-1)", "Last field", show=False, id="qa.last"),
        Binding(
            "ctrl+n",
            "skip",
            "Skip",
            show=False,
            tooltip="Leave this letter as it is and go to the next",
            id="qa.skip",
        ),
        Binding(
            "escape",
            "cancel_edit",
            "Cancel",
            tooltip="Close the box without changing the value",
            id="qa.cancel_edit",
        ),
    ]

    def __init__(self, *, name: str, text: str, position: tuple[int, int], reviewer: str) -> None:
        super().__init__()
        self.letter_name, self.text, self.position, self.reviewer = name, text, position, reviewer
        self.editing = False

    # -- what each screen gives --------------------------------------------------------------

    def compose_details(self) -> ComposeResult:
        """Below the table: the selected row in full."""
        yield from ()

    def title_text(self) -> Text:
        raise NotImplementedError

    def counts(self) -> str:
        raise NotImplementedError

    def fill_table(self) -> None:
        raise NotImplementedError

    def row_changed(self, row: int) -> None:
        """The cursor is on ``row`` now."""

    def edited_path(self) -> str:
        """The field path whose value the box below the table holds."""
        raise NotImplementedError

    def corrected(self, value: object) -> None:
        """The box below the table was entered with ``value``, read as its field's value."""

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label("", id="title-bar")
        with Horizontal(id="panes"):
            yield from self.compose_letter_pane()
            with Vertical(id="fields-pane"):
                yield CellTable(id="qa-rows")
                yield Input(id="qa-input")
                yield from self.compose_details()
        yield StatusLine(id="status-line")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#qa-input", Input).display = False
        self.hide_find()
        self.query_one(LetterView).show_letter(self.text)
        # Plain text: a letter's file name and annotators' names may hold brackets.
        self.query_one("#title-bar", Label).update(self.title_text())
        self.fill_table()
        self.row_changed(self.cursor)
        self.status("")

    @property
    def table(self) -> CellTable:
        return self.query_one(CellTable)

    @property
    def cursor(self) -> int:
        return self.table.cursor_row

    def say(self, message: str) -> None:
        self.status(message)

    def focus_fields(self) -> None:
        self.set_focus(None)  # every key is the screen's

    def status(self, message: str) -> None:
        counts = self.counts()
        # Plain text: the message may quote a value or a comment.
        self.query_one(StatusLine).show(Text(f"{counts}{' · ' + message if message else ''}"))

    # -- the cursor ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a value is typed, only Escape (and the box's own keys) act; Escape only then.
        return self.editing == (action in EDITING_ACTIONS)

    def move_to(self, row: int) -> None:
        self.table.move_cursor(row=row)

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, delta: int) -> None:
        self.move_to(self.cursor + delta * self.table.page_size())

    def action_edge(self, where: int) -> None:
        self.move_to(0 if where == 0 else self.table.row_count - 1)

    @on(CellTable.Moved)
    def _moved(self, event: CellTable.Moved) -> None:
        self.row_changed(event.row)

    @on(CellTable.Clicked)
    def _clicked(self, event: CellTable.Clicked) -> None:
        if not self.editing:
            self.move_to(event.row)

    # -- the box under the table -----------------------------------------------------------

    def open_editor(self, value: str, placeholder: str) -> None:
        editor = self.query_one("#qa-input", Input)
        editor.value, editor.placeholder = value, placeholder
        editor.display = True
        self.editing = True
        editor.focus()
        self.refresh_bindings()

    def close_editor(self) -> None:
        editor = self.query_one("#qa-input", Input)
        editor.display = False
        self.editing = False
        self.set_focus(None)
        self.refresh_bindings()

    @on(Input.Submitted, "#qa-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = fields.parse(self.edited_path(), event.value)
        except ValueError as err:  # said, and the box stays open to put it right
            self.app.bell()
            self.status(str(err))
            return
        self.close_editor()
        self.corrected(value)

    def action_cancel_edit(self) -> None:
        if self.editing:
            self.close_editor()
            self.status("not changed")

    # -- the letter ----------------------------------------------------------------------------

    def action_skip(self) -> None:
        self.dismiss(None)

    def finish(self, check: Callable[[], object], save: Callable[[StoreLike], str]) -> None:
        """Leave with ``save`` for the app to run, once ``check`` finds the record valid."""
        try:
            check()
        except (ValueError, ValidationError) as err:
            self.status(f"cannot save: {err}".splitlines()[0])
            return
        self.dismiss(Save(save))
