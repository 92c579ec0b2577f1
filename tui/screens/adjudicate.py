"""Adjudication: the versions of one letter side by side, one chosen difference by difference.

Only the fields where the versions differ are listed.  ``1``, ``2``, ... (or ``a``, ``b``) take
that version's value for the selected difference and move to the next; ``A``/``B`` take one
version for every difference not chosen yet; ``e`` writes a value of one's own when neither
version is right; Ctrl+G stores the adjudicated record as final and goes on.
"""

from __future__ import annotations

import copy
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from imrgold.store.qa.adjudication import (
    EDITED,
    AdjudicationRow,
    AdjudicationSession,
    finish_adjudication,
)
from imrgold.tui import fields
from imrgold.tui.review_rows import next_pending, value_cell, value_spans
from imrgold.tui.screens.qa_screen import QAScreen
from imrgold.tui.seams import StoreLike
from imrgold.tui.widgets.cell_table import Column
from imrgold.tui.widgets.field_table import FIELD_WIDTH
from imrgold.tui.widgets.letter_view import LetterView

LETTERS = "abcd"  # letter aliases for the first versions; stops before "e" (write own)


def row_label(row: AdjudicationRow) -> str:
    if row.whole_item:
        return f"item {int(row.path.split('.')[1]) + 1}"
    return fields.label(row.path)


def adjudicated(store: StoreLike, session: AdjudicationSession, adjudicator: str) -> str:
    finish_adjudication(store, session, adjudicator)
    return "reviewed (adjudicated)"


class AdjudicateScreen(QAScreen):
    WORKFLOW = """\
[b]Adjudicating a letter[/b]
  Each row is a field where the versions differ (or an item only some of them have).
  1, 2, ... (or a, b) take that version's value and go to the next difference; A, B take it
  for every difference not chosen yet; e writes your own value when neither is right.
  Ctrl+G stores the adjudicated record as final; Ctrl+N leaves the letter for later.
"""
    BINDINGS = [
        *(
            Binding(
                ",".join([str(i + 1), *LETTERS[i : i + 1]]),
                f"choose({i})",
                f"Take {i + 1}",
                show=i < 2,
                tooltip=f"Take version {i + 1}'s value and go to the next difference",
                id=f"adjudicate.take_{i + 1}",
            )
            for i in range(9)
        ),
        *(
            Binding(
                c.upper(),
                f"choose_rest({i})",
                f"Take {i + 1} for the rest",
                show=False,
                id=f"adjudicate.take_rest_{i + 1}",
            )
            for i, c in enumerate(LETTERS)
        ),
        Binding(
            "e",
            "edit",
            "Write own",
            tooltip="Neither version is right: write the value (Enter keeps it)",
            id="adjudicate.edit",
        ),
        Binding(
            "ctrl+g,ctrl+s",
            "finish",
            "Final+next",
            tooltip="Store the adjudicated record as final and go on",
            id="adjudicate.finish",
        ),
    ]

    def __init__(
        self,
        session: AdjudicationSession,
        *,
        name: str,
        text: str,
        position: tuple[int, int],
        adjudicator: str,
    ) -> None:
        super().__init__(name=name, text=text, position=position, reviewer=adjudicator)
        self.session = session

    def compose_details(self) -> ComposeResult:
        with Horizontal(id="adjudicate-details"):
            for i, _ in enumerate(self.session.annotators):
                with VerticalScroll(classes="adjudicate-version"):
                    yield Static("", id=f"version-{i}")
        yield Static("", id="adjudicate-own")

    # -- what is shown ---------------------------------------------------------------------

    def title_text(self) -> Text:
        at, total = self.position
        title = Text(f"{self.letter_name} · adjudication {at} of {total}")
        for i, annotator in enumerate(self.session.annotators):
            title.append_text(Text.assemble(" · ", (str(i + 1), "bold"), " ", annotator))
        return title

    def counts(self) -> str:
        rows = self.session.rows
        if not rows:
            return "the versions agree: Ctrl+G stores the record as final"
        return f"{len(rows) - len(self.session.pending())}/{len(rows)} difference(s) chosen"

    def _chosen_label(self, row: AdjudicationRow) -> Text:
        if row.choice is None:
            return Text("·", style="dim")
        if row.choice is EDITED:
            return Text(f"✎ {self.reviewer}", style=self.table.style_of("person"))
        number = self.session.annotators.index(row.choice) + 1
        return Text(f"{number} {row.choice}", style=self.table.style_of("person"))

    def _cells(self, row: AdjudicationRow) -> list[Text]:
        chosen = self.table.style_of("chosen")
        versions = [
            value_cell(row.values[a], chosen if row.choice == a else "")
            for a in self.session.annotators
        ]
        return [Text(row_label(row)), *versions, self._chosen_label(row)]

    def fill_table(self) -> None:
        columns = [
            Column("field", cap=FIELD_WIDTH - 1),
            *(Column(f"{i + 1} {a}", fill=1) for i, a in enumerate(self.session.annotators)),
            Column("chosen"),  # never cut: who was chosen is the point of the row
        ]
        self.table.show(columns, [self._cells(r) for r in self.session.rows])
        if not self.session.rows:
            self.query_one("#adjudicate-details").display = False

    def row_changed(self, row: int) -> None:
        if row >= len(self.session.rows):
            return
        current = self.session.rows[row]
        about = f"{row_label(current)}{' (the whole item)' if current.whole_item else ''}"
        for i, annotator in enumerate(self.session.annotators):
            chosen = (" chosen ", "reverse") if current.choice == annotator else ""
            shown = Text.assemble((f"{i + 1} {annotator}", "bold"), " ", chosen, "\n")
            shown.append_text(value_cell(current.values[annotator]))
            self.query_one(f"#version-{i}", Static).update(shown)
        own = self.query_one("#adjudicate-own", Static)
        own.display = current.choice is EDITED
        if current.choice is EDITED:
            own.update(
                Text.assemble((f"written by {self.reviewer}: ", "bold"), value_cell(current.edited))
            )
        # Plain text: a border title is read as markup.
        self.query_one("#adjudicate-details").border_title = Text(about)
        marks = [s for v in current.values.values() for s in value_spans(self.text, v)]
        self.query_one(LetterView).mark(marks)

    def _chosen(self, index: int, message: str) -> None:
        self.table.set_row(index, self._cells(self.session.rows[index]))
        pending = self.session.pending()
        if pending:
            self.move_to(next_pending(pending, index))
            self.status(message)
        else:
            self.row_changed(self.cursor)
            self.status(f"{message}: every difference chosen, Ctrl+G saves the final record")

    # -- actions -----------------------------------------------------------------------------

    def action_choose(self, version: int) -> None:
        if not self.session.rows or version >= len(self.session.annotators):
            return
        annotator = self.session.annotators[version]
        self.session.choose(self.cursor, annotator)
        self._chosen(self.cursor, f"{row_label(self.session.rows[self.cursor])}: {annotator}'s")

    def action_choose_rest(self, version: int) -> None:
        if version >= len(self.session.annotators):
            return
        pending = self.session.pending()
        for index in pending:
            self.session.choose(index, self.session.annotators[version])
            self.table.set_row(index, self._cells(self.session.rows[index]))
        self.row_changed(self.cursor)
        self.status(f"{len(pending)} difference(s): {self.session.annotators[version]}'s")

    def action_edit(self) -> None:
        if not self.session.rows:
            return
        row = self.session.rows[self.cursor]
        if row.whole_item:
            self.status("an item only one version has is kept (take its version) or dropped")
            return
        first = row.values[self.session.annotators[0]]
        current = self.session.value_of(self.cursor) if row.choice else first
        self.open_editor(fields.to_text(current), "your value: Enter keeps it, Escape cancels")

    def edited_path(self) -> str:
        return self.session.rows[self.cursor].path

    def corrected(self, value: object) -> None:
        index = self.cursor
        self.session.write(index, value)
        self._chosen(index, f"{row_label(self.session.rows[index])}: written by {self.reviewer}")

    def action_finish(self) -> None:
        pending = self.session.pending()
        if pending:
            self.move_to(pending[0])
            self.status(f"{len(pending)} difference(s) not chosen yet")
            return
        done = copy.deepcopy(self.session)
        self.finish(done.record, partial(adjudicated, session=done, adjudicator=self.reviewer))
