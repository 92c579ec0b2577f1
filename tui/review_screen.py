"""QA review of one letter: someone else's gold record, field by field, confirmed or corrected.

The letter is on the left with the selected field's value marked; the fields on the right show
the annotator's value and the reviewer's verdict.  ``y`` (or enter) confirms and moves on, ``e``
corrects, ``ctrl+s`` finishes the letter: all confirmed -> reviewed; anything corrected -> the
adjudication queue with both versions.  ``f`` flags a record a field-by-field review cannot fix
(an item missing or split wrongly) with a comment, for its annotator to rework.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from imrgold.core.export import find_in_text
from imrgold.core.models import Span
from imrgold.store.qa import ReviewSession
from imrgold.tui import fields
from imrgold.tui.widgets.letter_view import LetterView

VERDICT_MARKS = {"confirmed": "✓ ok", "corrected": "✎ fixed", None: "·"}
VALUE_WIDTH = 32
FLAG = "\0flag"  # the editor's mode when it takes a flag comment rather than a value


def short(text: str, width: int = VALUE_WIDTH) -> Text:
    """A value cut to a table cell, as plain text: a DataTable would read a `str` as markup."""
    text = " ".join(text.split())
    return Text(text if len(text) <= width else text[: width - 1] + "…")


def value_spans(text: str, value: Any, blank: tuple = (None, "")) -> list[Span]:
    """Where each element of a field's value (a list's every element) is written in the letter;
    ``blank`` values are not looked for."""
    found = []
    for element in value if isinstance(value, list) else [value]:
        if element not in blank and (span := find_in_text(text, str(element))):
            found.append(span)
    return found


def next_pending(pending: list[int], current: int) -> int:
    """The first row still to do after ``current``, else the first one (wrapping round)."""
    return next((i for i in pending if i > current), pending[0])


if TYPE_CHECKING:
    from imrgold.tui.review_app import ReviewApp


class QAScreen(Screen[str | None]):
    """What review and adjudication share: a table beside the letter, skipped with ctrl+n,
    saved by the app; dismisses with the letter's new status, or None when skipped."""

    @property
    def typed_app(self) -> ReviewApp:
        """The review app this screen runs in, with its own methods typed."""
        return cast("ReviewApp", self.app)

    def action_toggle_letter(self) -> None:
        letter = self.query_one(LetterView)
        table = self.query_one(DataTable)
        (table if letter.has_focus else letter).focus()

    def action_skip(self) -> None:
        self.dismiss(None)

    def _save(self, finish: Callable[[], str]) -> None:
        try:
            status = finish()
        except (ValueError, ValidationError) as err:
            self.notify(f"cannot save: {err}", severity="error")
            return
        self.dismiss(status)


class ReviewScreen(QAScreen):
    """Dismisses with the letter's new status, or None when skipped."""

    AUTO_FOCUS = "#review-fields"

    BINDINGS = [
        Binding("y", "confirm", "Confirm", id="review.confirm"),
        Binding("e", "edit", "Correct", id="review.edit"),
        Binding("Y", "confirm_rest", "Confirm rest", id="review.confirm_rest"),
        Binding("ctrl+s", "finish", "Finish letter", priority=True, id="review.finish"),
        Binding("ctrl+n", "skip", "Skip letter", id="review.skip"),
        Binding("f", "flag", "Flag", id="review.flag"),
        Binding("f2", "toggle_letter", "Letter⇄fields", id="review.toggle_letter"),
        Binding("escape", "cancel_edit", "Cancel", show=False, id="review.cancel_edit"),
    ]

    def __init__(
        self,
        session: ReviewSession,
        text: str,
        spans: dict[str, list[Span]],
        position: str = "",
        sources: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.text = text
        self.spans = spans
        self.position = position
        # "typed" where the annotator wrote the value, "machine" where they accepted the
        # extractor's: a reviewer's eye goes to the typed ones first.
        self.sources = sources or {}
        self._editing: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            # Text, not markup: annotators name themselves.
            Text(
                f"Review {self.position}: {self.session.annotator}'s record, reviewed by "
                f"{self.session.reviewer}"
            ),
            id="review-title",
        )
        with Horizontal(id="review-body"):
            yield LetterView(id="review-letter")
            with Vertical(id="review-side"):
                yield DataTable(id="review-fields", cursor_type="row", zebra_stripes=True)
                yield Input(id="review-input", placeholder="corrected value; enter to save")
                yield Static("", id="review-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LetterView).show_letter(self.text)
        table = self.query_one(DataTable)
        table.add_column("field", key="field")
        table.add_column("value", key="value")
        table.add_column("by", key="by")
        table.add_column("verdict", key="verdict")
        for path in self.session.paths:
            table.add_row(
                fields.label(path),
                short(fields.to_text(self.session.values[path])),
                self.sources.get(path, ""),
                VERDICT_MARKS[None],
                key=path,
            )
        self.query_one(Input).display = False
        self._show(self.current_path())

    # -- helpers ------------------------------------------------------------------------------

    def current_path(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.session.paths[table.cursor_row]

    def _refresh_row(self, path: str) -> None:
        table = self.query_one(DataTable)
        table.update_cell(path, "value", short(fields.to_text(self.session.values[path])))
        table.update_cell(path, "verdict", VERDICT_MARKS[self.session.verdicts.get(path)])

    def _show(self, path: str | None) -> None:
        detail = self.query_one("#review-detail", Static)
        if path is None:
            detail.update("")
            return
        value = self.session.values[path]
        original = self.session.original[path]
        # Values from the letter as plain text, never markup: "[sic]" stays, "[/]" is harmless.
        shown = Text.assemble((path, "bold"), "\n", fields.to_text(value) or "—")
        if value != original:
            shown.append_text(
                Text.assemble("\n", ("annotator wrote: ", "dim"), fields.to_text(original) or "—")
            )
        detail.update(shown)
        self.query_one(LetterView).mark(self._spans(path))

    def _spans(self, path: str) -> list[Span]:
        return self.spans.get(path) or value_spans(self.text, self.session.values[path])

    def _advance(self) -> None:
        pending = self.session.pending()
        if not pending:
            self.notify("every field reviewed: ctrl+s finishes the letter")
            return
        order = self.session.paths
        current = order.index(self.current_path() or order[0])
        target = next_pending(sorted(order.index(p) for p in pending), current)
        self.query_one(DataTable).move_cursor(row=target)

    # -- events -------------------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.row_key.value if event.row_key else None)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_confirm()

    @on(Input.Submitted, "#review-input")
    def _submitted(self, event: Input.Submitted) -> None:
        path = self._editing
        if path is None:
            return
        if path == FLAG:
            comment = " ".join(event.value.split())
            if not comment:
                self.notify("say what is wrong, so the annotator can fix it", severity="warning")
                return
            self._close_editor()
            self.dismiss(self.typed_app.flag(self.session, comment))
            return
        try:
            value = fields.parse(path, event.value)
        except ValueError as err:
            self.notify(str(err), severity="error")
            return
        self.session.correct(path, value)
        self._close_editor()
        self._refresh_row(path)
        self._show(path)
        self._advance()

    # -- actions ------------------------------------------------------------------------------

    def action_confirm(self) -> None:
        path = self.current_path()
        if path is None or self._editing:
            return
        self.session.confirm(path)
        self._refresh_row(path)
        self._show(path)
        self._advance()

    def action_confirm_rest(self) -> None:
        for path in self.session.pending():
            self.session.confirm(path)
            self._refresh_row(path)
        self._show(self.current_path())

    def action_edit(self) -> None:
        path = self.current_path()
        if path is None:
            return
        self._open_editor(
            path,
            fields.to_text(self.session.values[path]),
            "corrected value; enter to save, escape to cancel",
        )

    def action_flag(self) -> None:
        self._open_editor(FLAG, "", "what is wrong with this record? enter flags it")

    def _open_editor(self, mode: str, value: str, placeholder: str) -> None:
        self._editing = mode
        editor = self.query_one(Input)
        editor.value = value
        editor.placeholder = placeholder
        editor.display = True
        editor.focus()

    def _close_editor(self) -> None:
        self._editing = None
        editor = self.query_one(Input)
        editor.display = False
        self.query_one(DataTable).focus()

    def action_cancel_edit(self) -> None:
        if self._editing:
            self._close_editor()

    def action_finish(self) -> None:
        pending = self.session.pending()
        if pending:
            self.notify(
                f"{len(pending)} field(s) not reviewed yet (y confirms, Y confirms the rest)",
                severity="warning",
            )
            self.query_one(DataTable).move_cursor(row=self.session.paths.index(pending[0]))
            return
        self._save(lambda: self.typed_app.finish_review(self.session))
