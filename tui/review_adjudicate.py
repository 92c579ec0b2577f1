"""Adjudication: the versions of one letter side by side, one chosen difference by difference.

Only the fields where the versions differ are listed.  ``1``, ``2``, ... (or ``a``, ``b``) take
that version's value for the selected difference and move to the next; ``A``/``B`` take one
version for every difference not chosen yet; ``e`` writes a value of one's own when neither
version is right; ``ctrl+s`` stores the adjudicated record as final.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Static

from imrgold.store.qa import EDITED, MISSING, AdjudicationSession
from imrgold.tui import fields
from imrgold.tui.review_screen import QAScreen, next_pending, short, value_spans
from imrgold.tui.widgets.letter_view import LetterView

LETTERS = "abcd"  # letter aliases for the first versions; stops before "e" (write own)


def _text(value) -> str:
    if value == MISSING:
        return "— no such item —"
    return fields.to_text(value) or "(empty)"


class AdjudicateScreen(QAScreen):
    AUTO_FOCUS = "#adjudicate-rows"

    BINDINGS = [
        *(
            Binding(
                ",".join([str(i + 1), *LETTERS[i : i + 1]]),
                f"choose({i})",
                f"Take {i + 1}",
                show=i < 2,
                id=f"adjudicate.take_{i + 1}",
            )
            for i in range(9)
        ),
        *(
            Binding(c.upper(), f"choose_rest({i})", show=False, id=f"adjudicate.take_rest_{i + 1}")
            for i, c in enumerate(LETTERS)
        ),
        Binding("e", "edit", "Write own", id="adjudicate.edit"),
        Binding("ctrl+s", "finish", "Save final", priority=True, id="adjudicate.finish"),
        Binding("ctrl+n", "skip", "Skip letter", id="adjudicate.skip"),
        Binding("f2", "toggle_letter", "Letter⇄table", id="adjudicate.toggle_letter"),
        Binding("escape", "cancel_edit", "Cancel", show=False, id="adjudicate.cancel_edit"),
    ]

    def __init__(self, session: AdjudicationSession, text: str, position: str = "") -> None:
        super().__init__()
        self.session = session
        self.text = text
        self.position = position

    def compose(self) -> ComposeResult:
        yield Header()
        title = Text(f"Adjudicate {self.position}: {len(self.session.rows)} difference(s) between")
        for i, annotator in enumerate(self.session.annotators):
            title.append_text(Text.assemble("  ", (str(i + 1), "bold"), " ", annotator))
        yield Static(title, id="adjudicate-title")
        with Horizontal(id="adjudicate-body"):
            with Vertical(id="adjudicate-side"):
                yield DataTable(id="adjudicate-rows", cursor_type="row", zebra_stripes=True)
                yield Input(id="adjudicate-input", placeholder="your value; enter to save")
                with Horizontal(id="adjudicate-details"):
                    for i, _ in enumerate(self.session.annotators):
                        with VerticalScroll(classes="adjudicate-version"):
                            yield Static("", id=f"version-{i}")
            yield LetterView(id="adjudicate-letter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self.query_one(LetterView).show_letter(self.text)
        table = self.query_one(DataTable)
        table.add_column("field", key="field")
        for i, annotator in enumerate(self.session.annotators):
            table.add_column(f"{i + 1} {annotator}", key=f"v{i}")
        table.add_column("chosen", key="chosen")
        for index, row in enumerate(self.session.rows):
            table.add_row(
                row.path if row.whole_item else fields.label(row.path),
                *(short(_text(row.values[a]), 36) for a in self.session.annotators),
                "·",
                key=str(index),
            )
        if not self.session.rows:
            self.notify("the versions agree: ctrl+s stores the record as final")
        self._show(0)

    # -- helpers ------------------------------------------------------------------------------

    def _current(self) -> int | None:
        table = self.query_one(DataTable)
        return table.cursor_row if table.row_count else None

    def _show(self, index: int | None) -> None:
        if index is None or index >= len(self.session.rows):
            return
        row = self.session.rows[index]
        # Values from the letter as plain text, never markup: "[sic]" stays, "[/]" is harmless.
        for i, annotator in enumerate(self.session.annotators):
            chosen = (" chosen ", "reverse") if row.choice == annotator else ""
            self.query_one(f"#version-{i}", Static).update(
                Text.assemble(
                    (f"{i + 1} {annotator}", "bold"),
                    chosen,
                    f"\n{row.path}\n\n",
                    _text(row.values[annotator]),
                )
            )
        if row.choice == EDITED:
            self.query_one("#version-0", Static).update(
                Text.assemble(
                    ("written by the adjudicator", "bold"), f"\n{row.path}\n\n", _text(row.edited)
                )
            )
        blank = (None, "", MISSING)
        self.query_one(LetterView).mark(
            [s for value in row.values.values() for s in value_spans(self.text, value, blank)]
        )

    def _refresh(self, index: int) -> None:
        row = self.session.rows[index]
        if row.choice is None:
            label = "·"
        elif row.choice == EDITED:
            label = f"✎ {short(_text(row.edited), 24).plain}"
        else:
            label = f"{self.session.annotators.index(row.choice) + 1} {row.choice}"
        self.query_one(DataTable).update_cell(str(index), "chosen", Text(label))

    # -- events and actions -------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.cursor_row)

    def action_choose(self, version: int) -> None:
        index = self._current()
        if index is None or version >= len(self.session.annotators):
            return
        self.session.choose(index, self.session.annotators[version])
        self._chosen(index)

    def _chosen(self, index: int) -> None:
        self._refresh(index)
        self._show(index)
        pending = self.session.pending()
        if pending:
            self.query_one(DataTable).move_cursor(row=next_pending(pending, index))
        else:
            self.notify("every difference chosen: ctrl+s saves the final record")

    def action_choose_rest(self, version: int) -> None:
        if version >= len(self.session.annotators):
            return
        for index in self.session.pending():
            self.session.choose(index, self.session.annotators[version])
            self._refresh(index)
        self._show(self._current())

    def action_edit(self) -> None:
        index = self._current()
        if index is None:
            return
        row = self.session.rows[index]
        if row.whole_item:
            self.notify(
                "an item only one version has is kept (its version) or dropped", severity="warning"
            )
            return
        editor = self.query_one(Input)
        current = (
            self.session.value_of(index) if row.choice else row.values[self.session.annotators[0]]
        )
        editor.value = fields.to_text(current)
        editor.display = True
        editor.focus()

    @on(Input.Submitted, "#adjudicate-input")
    def _submitted(self, event: Input.Submitted) -> None:
        index = self._current()
        if index is None:
            return
        try:
            value = fields.parse(self.session.rows[index].path, event.value)
        except ValueError as err:
            self.notify(str(err), severity="error")
            return
        self.session.write(index, value)
        self.action_cancel_edit()
        self._chosen(index)

    def action_cancel_edit(self) -> None:
        editor = self.query_one(Input)
        if editor.display:
            editor.display = False
            self.query_one(DataTable).focus()

    def action_finish(self) -> None:
        pending = self.session.pending()
        if pending:
            self.notify(f"{len(pending)} difference(s) not chosen yet", severity="warning")
            self.query_one(DataTable).move_cursor(row=pending[0])
            return
        self._save(lambda: self.typed_app.finish_adjudication(self.session))
