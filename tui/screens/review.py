"""QA review of one letter: someone else's gold record, field by field, confirmed or corrected.

The table says who vouches for each value (the machine, never touched; the annotator, who
confirmed or wrote it; the reviewer once they have); the selected value shows in full below.
Enter (or ``y``) confirms and moves to the next field not reviewed, ``e`` corrects, Ctrl+G
finishes the letter: all confirmed -> reviewed; anything corrected -> the adjudication queue
with both versions.  Ctrl+R flags a record a field-by-field review cannot fix (an item missing
or split wrongly) with a comment, for its annotator to rework.
"""

from __future__ import annotations

import copy
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from imrgold.core.models import LetterStatus, Span
from imrgold.store.qa.review import ReviewSession, finish_review
from imrgold.tui import fields
from imrgold.tui.review_rows import Provenance, next_pending, story, value_cell, voucher
from imrgold.tui.screens.comment import CommentScreen
from imrgold.tui.screens.qa_screen import QAScreen, Save
from imrgold.tui.seams import StoreLike
from imrgold.tui.widgets.cell_table import Column
from imrgold.tui.widgets.field_table import FIELD_WIDTH, STATE_WIDTH, state_mark
from imrgold.tui.widgets.letter_view import LetterView, Shade

COLUMNS = [
    Column("", cap=STATE_WIDTH - 1),
    Column("field", cap=FIELD_WIDTH - 1),
    Column("value", fill=1),
    Column("by", cap=16),
]


def flag_letter(store: StoreLike, letter_id: str, comment: str) -> str:
    store.set_status(letter_id, "flagged", comment)
    return "flagged"


class ReviewScreen(QAScreen):
    WORKFLOW = """\
[b]Reviewing a record[/b]
  Each row is one field of the annotator's record; [b]by[/b] says who vouches for its value:
  [b]machine[/b] (the annotator never checked it), the annotator (✎: they wrote it; 2/3: they
  checked two of three diagnoses or drugs), or you once you have given your verdict.
  Enter (or y) confirms the value and goes to the next field not reviewed; e corrects it.
  Ctrl+L jumps to the next value the annotator never checked; Ctrl+B confirms the rest.
  Ctrl+G finishes: all confirmed, the record is final (reviewed); anything corrected, both
  versions go to adjudication. Ctrl+R flags a record a field-by-field review cannot fix.
"""
    BINDINGS = [
        Binding(
            "enter,ctrl+o,y",
            "confirm",
            "Confirm",
            tooltip="The value is right: confirm it and go to the next field not reviewed",
            id="review.confirm",
        ),
        Binding(
            "e",
            "edit",
            "Correct",
            tooltip="Write the right value (Enter keeps it, Escape cancels)",
            id="review.edit",
        ),
        Binding(
            "ctrl+g,ctrl+s",
            "finish",
            "Done+next",
            tooltip="Finish the letter (all confirmed: reviewed; else to adjudication) and go on",
            id="review.finish",
        ),
        Binding(
            "ctrl+l",
            "next_unchecked",
            "Unchecked",
            tooltip="Jump to the next value the annotator never checked (the machine's)",
            id="review.next_unchecked",
        ),
        Binding(
            "ctrl+b,Y",
            "confirm_rest",
            "Confirm all",
            show=False,
            tooltip="Confirm every field not reviewed yet",
            id="review.confirm_rest",
        ),
        Binding(
            "ctrl+r,f",
            "flag",
            "Flag",
            show=False,
            tooltip="Flag the record for its annotator to rework, with a comment",
            id="review.flag",
        ),
    ]

    def __init__(
        self,
        session: ReviewSession,
        *,
        name: str,
        status: LetterStatus,
        text: str,
        position: tuple[int, int],
        origins: dict[str, Provenance],
        spans: dict[str, list[Span]],
    ) -> None:
        super().__init__(name=name, text=text, position=position, reviewer=session.reviewer)
        self.session = session
        self.letter_status = status
        self.origins = origins
        self.spans = spans

    def compose_details(self) -> ComposeResult:
        yield Static("", id="review-detail")

    # -- what is shown ---------------------------------------------------------------------

    def title_text(self) -> Text:
        at, total = self.position
        return Text(
            f"{self.letter_name} · {fields.status_label(self.letter_status)} · review {at} of "
            f"{total} · {self.session.annotator}'s record"
        )

    def counts(self) -> str:
        s = self.session
        unchecked = sum(1 for p in s.paths if self._origin(p).state == "machine")
        return (
            f"{len(s.paths) - len(s.pending())}/{len(s.paths)} reviewed · "
            f"{len(s.corrections)} corrected · {unchecked} never checked by {s.annotator}"
        )

    def _origin(self, path: str) -> Provenance:
        return self.origins.get(path, Provenance("corrected"))

    def _cells(self, path: str) -> list[Text]:
        verdict = self.session.verdicts.get(path)
        who, kind = voucher(self._origin(path), self.session.annotator, verdict, self.reviewer)
        return [
            # With annotate's marks: · no verdict yet, ✓, ✎.
            state_mark(verdict or "machine"),
            Text(fields.label(path)),
            value_cell(self.session.values[path]),
            Text(who, style=self.table.style_of(kind)),
        ]

    def fill_table(self) -> None:
        self.table.show(COLUMNS, [self._cells(p) for p in self.session.paths])
        self._highlight()

    def _highlight(self) -> None:
        """Every value in the letter coloured by who vouches for it, as annotate colours them
        by their state."""
        marks: list[tuple[Span, Shade]] = []
        for path, spans in self.spans.items():
            verdict = self.session.verdicts.get(path)
            state = verdict or self._origin(path).state
            marks.extend((span, state) for span in spans)
        self.query_one(LetterView).highlight(marks)

    @property
    def current_path(self) -> str:
        return self.session.paths[self.cursor]

    def row_changed(self, row: int) -> None:
        if not self.session.paths:
            return
        path = self.session.paths[row]
        value, original = self.session.values[path], self.session.original[path]
        verdict = self.session.verdicts.get(path)
        about = story(self._origin(path), self.session.annotator, verdict, self.reviewer)
        shown = Text.assemble((fields.label(path), "bold"), " · ", (about, "dim"), "\n")
        shown.append_text(value_cell(value))
        if value != original:
            shown.append_text(Text.assemble("\n", (f"{self.session.annotator} wrote: ", "dim")))
            shown.append_text(value_cell(original))
        self.query_one("#review-detail", Static).update(shown)
        self.query_one(LetterView).mark(self.spans.get(path, []))

    def _refresh(self, path: str) -> None:
        self.table.set_row(self.session.paths.index(path), self._cells(path))

    def _advance(self, message: str) -> None:
        pending = self.session.pending()
        if not pending:
            self.row_changed(self.cursor)
            self.status(f"{message}: every field reviewed, Ctrl+G finishes the letter")
            return
        order = self.session.paths
        target = next_pending(sorted(order.index(p) for p in pending), self.cursor)
        self.move_to(target)
        self.status(message)

    # -- actions -----------------------------------------------------------------------------

    def action_confirm(self) -> None:
        path = self.current_path
        self.session.confirm(path)
        self._refresh(path)
        self._highlight()
        self._advance(f"{fields.label(path)} confirmed")

    def action_confirm_rest(self) -> None:
        pending = self.session.pending()
        for path in pending:
            self.session.confirm(path)
            self._refresh(path)
        self._highlight()
        self.row_changed(self.cursor)
        self.status(f"{len(pending)} field(s) confirmed")

    def action_next_unchecked(self) -> None:
        paths = self.session.paths
        rows = [
            i
            for i, p in enumerate(paths)
            if self._origin(p).state == "machine" and p not in self.session.verdicts
        ]
        if rows:
            self.move_to(next_pending(rows, self.cursor))
        else:
            self.status(f"no value left that {self.session.annotator} never checked")

    def action_edit(self) -> None:
        value = fields.to_text(self.session.values[self.current_path])
        self.open_editor(value, "the right value: Enter keeps it, Escape cancels")

    def edited_path(self) -> str:
        return self.current_path

    def corrected(self, value: object) -> None:
        path = self.current_path
        self.session.correct(path, value)
        self._refresh(path)
        self._highlight()
        self._advance(f"{fields.label(path)} {self.session.verdicts[path]}")

    def action_flag(self) -> None:
        def flagged(comment: str | None) -> None:
            if comment is None:
                return
            if not comment:
                self.status("not flagged: say what is wrong, so the annotator can fix it")
                return
            note = f"{self.reviewer}: {comment}"
            self.dismiss(Save(partial(flag_letter, letter_id=self.session.letter_id, comment=note)))

        self.app.push_screen(
            CommentScreen("Flag this record: what is wrong?", "comment for the annotator"), flagged
        )

    def action_finish(self) -> None:
        pending = self.session.pending()
        if pending:
            self.move_to(self.session.paths.index(pending[0]))
            self.status(f"{len(pending)} field(s) not reviewed yet (Ctrl+B confirms them all)")
            return
        # A copy: the worker saves the letter as it was finished, whatever comes after.
        done = copy.deepcopy(self.session)
        # The reviewer's version, kept when they corrected anything, must be a valid record.
        self.finish(done.record if done.corrections else list, partial(finish_review, session=done))
