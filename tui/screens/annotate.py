"""One letter: the text on the left, its fields on the right, every correction by keyboard.

State lives here: the `Draft` being corrected and which row has the cursor.  Widgets report
what the annotator did (messages) and are told what to show (methods); the store is touched only
in thread workers, and every change is queued as a draft straight away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Label
from textual.worker import get_current_worker

from imrgold.core import icd10
from imrgold.core.models import Letter, LetterStatus, LetterSummary, Proposal, Span, split_item_path
from imrgold.core.queue import needs_work
from imrgold.tui import fields
from imrgold.tui.editing import Draft
from imrgold.tui.fields import Row
from imrgold.tui.prepared import Prepared, prepare
from imrgold.tui.screens.choice_menu import ChoiceMenu
from imrgold.tui.screens.comment import CommentScreen
from imrgold.tui.screens.letter_screen import LetterScreen
from imrgold.tui.widgets.field_editor import FieldEditor, RowInput
from imrgold.tui.widgets.field_table import FieldTable
from imrgold.tui.widgets.key_footer import KeyFooter
from imrgold.tui.widgets.letter_view import LetterView, Shade
from imrgold.tui.widgets.status_line import StatusLine
from imrgold.tui.widgets.suggestions import Suggestions, nothing_added_note

if TYPE_CHECKING:
    from imrgold.tui.app import ImrGoldApp


Loaded = tuple[Letter, Proposal, bool]
"""A letter, what to show for it, and whether that is a restored draft."""


class AnnotateScreen(LetterScreen[None]):
    """Correct one letter; next/previous letter reuse the screen."""

    @property
    def typed_app(self) -> ImrGoldApp:
        """The app this screen runs in, with its own methods typed."""
        return cast("ImrGoldApp", self.app)

    AUTO_FOCUS = None

    # Screen's own `focused` repaints the whole screen whenever focus moves, which the walk
    # does at every change of editor (a text box, a choice list, the prose box): the widgets
    # that gain and lose focus repaint themselves, so the whole screen need not be composed
    # again (about 20 ms a move).
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    # The footer shows the few keys of every minute, most used first (80 columns cut the tail;
    # each key shown costs rendering on every focus change); help and the palette list them all.
    BINDINGS = [
        Binding("tab,down", "next_field", "Next field", show=False, id="annotate.next_field"),
        Binding("shift+tab,up", "prev_field", "Prev field", show=False, id="annotate.prev_field"),
        Binding(
            "ctrl+g",
            "gold_next",
            "Gold+next",
            priority=True,
            tooltip="Mark the letter gold and open the next one",
            id="annotate.gold_next",
        ),
        Binding(
            "alt+z",
            "drop_edits",
            "Drop edits",
            priority=True,
            tooltip="A gold letter edited since: back to its gold record (the edits are dropped)",
            id="annotate.drop_edits",
        ),
        Binding(
            "ctrl+down,alt+n",
            "next_item",
            "Next item",
            show=False,
            priority=True,
            tooltip="Jump to the next disputed item's request",
            id="annotate.next_item",
        ),
        Binding(
            "ctrl+up,alt+p",
            "prev_item",
            "Prev item",
            show=False,
            priority=True,
            tooltip="Jump to the previous item's request (from the letter's fields: the last)",
            id="annotate.prev_item",
        ),
        # Priority: the prose editor would page its own few lines instead.
        Binding(
            "pagedown",
            "page_fields(1)",
            "Page down",
            show=False,
            priority=True,
            id="annotate.page_down",
        ),
        Binding(
            "pageup", "page_fields(-1)", "Page up", show=False, priority=True, id="annotate.page_up"
        ),
        # Home/End move in a text field; in a choice field, and with Ctrl anywhere, the list.
        Binding("ctrl+home,home", "edge_field(0)", "First field", show=False, id="annotate.first"),
        Binding("ctrl+end,end", "edge_field(-1)", "Last field", show=False, id="annotate.last"),
        Binding(
            "ctrl+o",
            "confirm_field",
            "Confirm",
            tooltip="Confirm the field as it stands (Enter also confirms and moves on)",
            id="annotate.confirm_field",
        ),
        Binding(
            "ctrl+l",
            "next_low",
            "Low-conf",
            tooltip="Jump to the next field the machine is unsure of",
            id="annotate.next_low",
        ),
        Binding(
            "ctrl+b",
            "confirm_all",
            "Confirm all",
            show=False,
            tooltip="Confirm every field not yet checked",
            id="annotate.confirm_all",
        ),
        Binding("ctrl+z", "undo", "Undo", priority=True, id="annotate.undo"),
        Binding("ctrl+y", "redo", "Redo", priority=True, show=False, id="annotate.redo"),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            priority=True,
            tooltip="Save the draft now (every change is saved anyway)",
            id="annotate.save",
        ),
        Binding(
            "ctrl+n",
            "skip",
            "Skip",
            show=False,
            tooltip="Leave this letter (its draft is kept) for the next that needs work",
            id="annotate.skip",
        ),
        Binding(
            "ctrl+r",
            "flag",
            "Flag",
            show=False,
            tooltip="Flag the letter for a reviewer, with a comment",
            id="annotate.flag",
        ),
        # Alt keys are priority bindings: terminals that send Alt as ESC+key (tmux, xterm) make
        # "alt+i" a printable "i", which the field's Input would otherwise type.
        Binding(
            "alt+right",
            "next_letter",
            "Next letter",
            show=False,
            priority=True,
            id="annotate.next_letter",
        ),
        Binding(
            "alt+left",
            "prev_letter",
            "Prev letter",
            show=False,
            priority=True,
            id="annotate.prev_letter",
        ),
        Binding(
            "ctrl+t",
            "take",
            "Take",
            tooltip="Put the text selected in the letter, with its position, into the field",
            id="annotate.take",
        ),
        Binding("alt+i", "add_item", "Add item", show=False, priority=True, id="annotate.add_item"),
        # The status line's question is answered here, before any box reads the key (priority),
        # and only while it stands (check_action): the focus never moves to it.
        Binding("y", "answer(True)", "Yes", show=False, priority=True, id="annotate.answer_yes"),
        Binding(
            "n,escape,enter",
            "answer(False)",
            "No",
            show=False,
            priority=True,
            id="annotate.answer_no",
        ),
        Binding(
            "alt+d",
            "add_diagnosis",
            "Add diagnosis/drug",
            show=False,
            priority=True,
            id="annotate.add_diagnosis",
        ),
        Binding(
            "alt+x",
            "remove_entry",
            "Remove item/diagnosis",
            show=False,
            priority=True,
            id="annotate.remove_entry",
        ),
        Binding(
            "alt+up",
            "move_entry(-1)",
            "Move item/diagnosis up",
            show=False,
            priority=True,
            id="annotate.move_entry_prev",
        ),
        Binding(
            "alt+down",
            "move_entry(1)",
            "Move item/diagnosis down",
            show=False,
            priority=True,
            id="annotate.move_entry_next",
        ),
        Binding(
            "escape",
            "back",
            "Queue",
            tooltip="Back to the queue (the draft is kept)",
            id="annotate.back",
        ),
    ]

    def __init__(
        self, order: list[str], index: int, *, id: str = "annotate", loaded: Loaded | None = None
    ) -> None:
        super().__init__(id=id)
        self.order, self.index = order, index
        self._loaded = loaded
        self.letter: Letter | None = None
        self.draft: Draft | None = None
        self.rows: list[Row] = []
        self.current: str | None = None
        self.letter_name = ""
        self._ahead: dict[str, Prepared] = {}
        self._said_on_show = ""  # what the next letter's status line says first
        self._wanted_ahead: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Label("", id="title-bar")
        with Horizontal(id="panes"):
            yield from self.compose_letter_pane()
            with Vertical(id="fields-pane"):
                yield FieldTable(id="fields")
                yield FieldEditor(id="editor")
        yield StatusLine(id="status-line")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.hide_find()
        if self._loaded is not None:
            self._show(*self._loaded)
            self._loaded = None
        else:
            self.open_letter(self.order[self.index])

    # -- loading -----------------------------------------------------------------------------

    @property
    def letter_id(self) -> str:
        return self.order[self.index]

    def open_at(self, order: list[str], index: int, loaded: Loaded | None = None) -> None:
        """Show another letter of (perhaps another) queue order, already loaded or not."""
        self.order, self.index = order, index
        if loaded is not None:
            self._show(*loaded)
        else:
            self.open_letter(order[index])

    def open_letter(self, letter_id: str) -> None:
        ahead = self._ahead.pop(letter_id, None)
        if ahead is not None and ahead.stamp == self.typed_app.change_count(letter_id):
            self._show_prepared(ahead)  # read while the last letter was worked on
        else:
            self._load(letter_id)

    def _prepare(self, letter_id: str) -> Prepared:
        """Read and lay out a letter (in a worker): the change count is read first, so a change
        made while it is read makes it stale rather than lost."""
        app = self.typed_app
        stamp = app.change_count(letter_id)
        letter, proposal, restored = app.load_for_annotation(letter_id)
        return prepare(letter, proposal, restored, stamp=stamp, clean=self._letter_clean)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, letter_id: str) -> None:
        try:
            prepared = self._prepare(letter_id)
        except Exception as err:  # a damaged letter file: say so, the annotator moves on
            self.app.call_from_thread(self.typed_app.report_failure, "cannot open the letter", err)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_prepared, prepared)

    @work(thread=True, exclusive=True, group="ahead")
    def _read_ahead(self, letter_ids: list[str]) -> None:
        """Prepare the letters the next keys would open (the next in order, the next needing
        work), so they show without waiting for the store."""
        worker = get_current_worker()
        for letter_id in letter_ids:
            if worker.is_cancelled:
                return
            try:
                prepared = self._prepare(letter_id)
            except Exception:
                # Not read ahead: opening it reads it again and says what is wrong there.
                continue
            self.app.call_from_thread(self._keep_ahead, prepared)

    def _keep_ahead(self, prepared: Prepared) -> None:
        if prepared.letter.letter_id in self._wanted_ahead:
            self._ahead[prepared.letter.letter_id] = prepared

    def _after_show(self) -> None:
        """Start reading ahead the letters the next keys would open."""
        wanted = [self.order[self.index + 1]] if self.index + 1 < len(self.order) else []
        needing = self._next_needing_work()
        if needing is not None and self.order[needing] not in wanted:
            wanted.append(self.order[needing])
        self._wanted_ahead = set(wanted)
        self._ahead = {lid: p for lid, p in self._ahead.items() if lid in self._wanted_ahead}
        todo = [lid for lid in wanted if lid not in self._ahead]
        if todo:
            # Once this letter is drawn: a worker reading beside the drawing slows it down.
            self.call_after_refresh(self._read_ahead, todo)

    @property
    def _letter_clean(self) -> bool:
        return self.query_one(LetterView).clean

    def _show(self, letter: Letter, proposal: Proposal, restored: bool) -> None:
        stamp = self.typed_app.change_count(letter.letter_id)
        self._show_prepared(
            prepare(letter, proposal, restored, stamp=stamp, clean=self._letter_clean)
        )

    def _show_prepared(self, prepared: Prepared) -> None:
        letter, restored = prepared.letter, prepared.restored
        if letter.letter_id != self.letter_id:
            return
        if self.asking:  # another letter opened while a question stood: that is a no
            self.action_answer(False)
        self.letter, self.draft = letter, prepared.draft
        view = self.query_one(LetterView)
        view.show_letter(letter.text, prepared.shown if prepared.clean == view.clean else None)
        summary = self.typed_app.summary(letter.letter_id)
        status = summary.status if summary else "new"
        # Not the screen's `title`: a reactive of the screen, it repainted the whole screen.
        self.letter_name = letter.name
        self._title(
            status, summary.edited if summary else False, summary.comment if summary else None
        )
        self.current = None
        self._render_all()
        notes = [self._said_on_show] if self._said_on_show else []
        self._said_on_show = ""
        if restored:
            notes.append("draft restored")
        if summary is not None and summary.comment:
            # Why it was flagged (or what a reviewer said), where the annotator looks first.
            notes.append(f"{summary.status.replace('_', ' ')}: {summary.comment}")
        if self.typed_app.read_only:
            notes.append("read-only: nothing is saved")
        self._status(" · ".join(notes))
        self.query_one(FieldEditor).focus_editor()
        self._after_show()

    # -- rendering -------------------------------------------------------------------------

    def _render_all(self, focus_key: str | None = None) -> None:
        assert self.draft is not None
        before = [r.key for r in self.rows]
        self.rows = fields.rows_for(self.draft.proposal)
        keys = [r.key for r in self.rows]
        key = focus_key if focus_key in keys else (self.current if self.current in keys else None)
        if key is None and keys:
            # The row under the cursor went (a drug removed, or read as two): the cursor stays
            # where it was in the list, not back at the top.
            at = before.index(self.current) if self.current in before else 0
            key = keys[min(at, len(keys) - 1)]
        self.query_one(FieldTable).show_rows(self.rows, key)
        self._highlight()
        if key is not None:
            self._focus(key)

    def _refresh_rows(self) -> None:
        """After a value change: rebuild if the shape changed, else update rows in place."""
        assert self.draft is not None
        new_rows = fields.rows_for(self.draft.proposal)
        if [r.key for r in new_rows] != [r.key for r in self.rows]:
            self._render_all(self.current)
            return
        table = self.query_one(FieldTable)
        for old, new in zip(self.rows, new_rows, strict=True):
            if old != new:
                table.update_row(new)
        self.rows = new_rows
        self._highlight()
        if self.current is not None:
            self._focus(self.current)

    def _highlight(self) -> None:
        spans: list[tuple[Span, Shade]] = []
        for row in self.rows:
            state: Shade = "low" if row.low else row.state
            spans.extend((span, state) for span in row.spans)
        self.query_one(LetterView).highlight(spans)

    def _row(self, key: str | None) -> Row | None:
        return next((r for r in self.rows if r.key == key), None)

    def _focus(self, key: str) -> None:
        row = self._row(key)
        if row is None:
            return
        moved = key != self.current
        self.current = key
        suggest = fields.suggestion_kind(row)
        # Suggestions float over the list's last lines: the row being typed in stays above.
        self.query_one(FieldTable).select_key(
            key, clear_bottom=Suggestions.ROOM if suggest is not None else 0
        )
        editor = self.query_one(FieldEditor)
        editor.edit(
            row,
            choices=fields.choices(row.path),
            suggest=suggest,
            focus=moved and editor.has_focus_within,
            note=self._drug_note(row),
        )
        self.query_one(LetterView).mark(row.spans)

    def _drug_note(self, row: Row) -> str:
        """ "not in the lexicon: x" for a drugs row holding a name the lexicon does not know."""
        if not fields.is_drug_field(row.path) or not row.text:
            return ""
        reader = self.typed_app.drug_reader()
        if reader is None:
            return ""
        unknown = fields.resolve_drugs(row.text.split(fields.LIST_SEPARATOR), reader).unknown
        return f"not in the lexicon: {', '.join(unknown)}" if unknown else ""

    def summary_changed(self, summary: LetterSummary) -> None:
        """The store's word on this letter after a save (is it "gold, edited"?)."""
        # A save's answer may land while the app is closing and the screen's widgets are gone.
        if summary.letter_id == self.letter_id and self.is_attached:
            self._title(summary.status, summary.edited, summary.comment)
            self.refresh_bindings()  # Drop edits applies only to an edited gold letter

    def _title(
        self, status: LetterStatus, edited: bool = False, comment: str | None = None
    ) -> None:
        # A plain label: Header re-lays out the screen on every title change.  Text, not
        # markup: the name and the comment are the letter's and the annotator's words.
        title = Text(
            f"{self.letter_name} · {fields.status_label(status, edited)} · "
            f"letter {self.index + 1} of {len(self.order)}"
        )
        if comment:
            # Why it was flagged (or what a reviewer said) stays in sight while the letter is.
            title.append(f" · “{comment}”", "italic")
        self.query_one("#title-bar", Label).update(title, layout=False)

    @property
    def current_path(self) -> str | None:
        """The field path under the cursor (the conventions open at its section)."""
        return fields.parse_key(self.current)[0] if self.current else None

    HIT_HINT = ": Ctrl+T takes it into the field"

    def say(self, message: str) -> None:
        self._status(message)

    def focus_fields(self) -> None:
        self.query_one(FieldEditor).focus_editor()

    def _status(self, message: str) -> None:
        draft = self.draft
        total = len(self.rows)
        done = sum(1 for r in self.rows if r.state != "machine")
        low = sum(1 for r in self.rows if r.low)
        counts = f"{done}/{total} checked · {low} low-confidence" if draft else ""
        # Plain text: a comment or a value in the message is the annotator's words, not markup.
        self.query_one(StatusLine).show(Text(f"{counts}{' · ' + message if message else ''}"))

    # -- changes ---------------------------------------------------------------------------

    def _changed(self, message: str = "") -> None:
        self._refresh_rows()
        self._status(message or "draft saved")
        self.queue_draft()

    def queue_draft(self) -> None:
        if self.draft is not None:
            self.typed_app.save_draft(self.draft.proposal.model_copy(deep=True))

    def commit_editor(self) -> bool:
        """Apply what the editor holds; False (and the error shown) when it does not parse."""
        editor = self.query_one(FieldEditor)
        if not editor.dirty or editor.row is None:
            return True
        return self._apply(editor.row.key, editor.text)

    def _apply(self, key: str, text: str, span: Span | None = None) -> bool:
        assert self.draft is not None
        path, index = fields.parse_key(key)
        try:
            if index is not None and fields.is_drug_field(path):
                # One drug retyped: read through the lexicon as a whole list would be.
                typed = fields.parse(path, text)
                changed = self.draft.replace_element(path, index, self._resolved_drugs(typed))
            elif index is not None:
                changed = self.draft.set_element(path, index, " ".join(text.split()), span)
            else:
                value = fields.parse(path, text)
                if fields.is_drug_field(path):
                    value = self._resolved_drugs(value)
                changed = self.draft.set_value(path, value, span)
        except ValueError as err:
            self.query_one(FieldEditor).show_error(str(err))
            self.app.bell()
            return False
        if changed:
            self._changed()
        return True

    def _resolved_drugs(self, typed: list[str]) -> list[str]:
        """Typed drugs through the lexicon; what it does not know is kept and said so."""
        reader = self.typed_app.drug_reader()
        if reader is None:
            return typed
        resolved = fields.resolve_drugs(typed, reader)
        said = []
        if resolved.unknown:
            said.append(f"not in the lexicon, kept as typed: {', '.join(resolved.unknown)}")
        if resolved.no_ingredient:
            said.append(f"no drug ingredient: {', '.join(resolved.no_ingredient)}")
        if said:
            self.call_after_refresh(self._status, "; ".join(said))
        return resolved.drugs

    @on(FieldEditor.Committed)
    def _committed(self, event: FieldEditor.Committed) -> None:
        try:
            self._commit(event)
        finally:
            # Keys typed after the Enter or the pick waited for this: they go to the row the
            # screen is on now, whatever happened to the commit.
            self.query_one(FieldEditor).moved()

    def _commit(self, event: FieldEditor.Committed) -> None:
        if event.key != self.current:
            # An Enter handled before the screen moved on: it was pressed on the row the screen
            # is on now if it carries its old row's text unchanged, so it confirms this row;
            # text typed into the old row goes to that row, and nothing moves.
            old = self._row(event.key)
            if old is None or event.text != old.text:
                if old is not None:
                    self._apply(event.key, event.text)
                return
            editor = self.query_one(FieldEditor)
            if editor.row is None or editor.row.key != self.current:
                return
            event = FieldEditor.Committed(self.current, editor.text, event.advance)
        if self._apply(event.key, event.text) and event.advance:
            self._step(1)

    @on(FieldEditor.Step)
    def _editor_step(self, event: FieldEditor.Step) -> None:
        try:
            self._step(event.delta)
        finally:
            self.query_one(FieldEditor).moved()

    @on(FieldEditor.QueryChanged)
    def _query(self, event: FieldEditor.QueryChanged) -> None:
        self._suggest(event.key, event.query, event.kind)

    @work(thread=True, exclusive=True, group="suggest")
    def _suggest(self, key: str, query: str, kind: str) -> None:
        app = self.typed_app
        candidates = (
            app.suggest_codes(query)
            if kind == "diagnosis"
            else app.suggest(query, self.letter.text if self.letter else None)
        )
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(
                self.query_one(FieldEditor).show_suggestions, key, query, candidates
            )

    @on(FieldEditor.SuggestionAccepted)
    def _accepted(self, event: FieldEditor.SuggestionAccepted) -> None:
        try:
            self._accept(event)
        finally:
            self.query_one(FieldEditor).moved()

    def _accept(self, event: FieldEditor.SuggestionAccepted) -> None:
        candidate = event.candidate
        if isinstance(candidate, icd10.Candidate):
            # Codes are suggested in a diagnosis only. The letter's words stay the diagnosis;
            # the code chosen for them is its code.
            path, index = fields.parse_key(event.key)
            assert self.draft is not None and path == "diagnoses" and index is not None
            if self.draft.set_diagnosis(index, " ".join(event.text.split()), candidate.code):
                self._changed()
            self._step(1)
            self._status(f"{candidate.code} {candidate.description}")
            return
        self.typed_app.learn(event.query, candidate)
        if note := nothing_added_note(candidate):
            self._status(note)

    @on(RowInput.MenuRequested)
    def _choice_menu(self, event: RowInput.MenuRequested) -> None:
        editor = self.query_one(FieldEditor)
        row = editor.row
        if row is None or not editor.choices:
            return
        current = editor.text or None
        self.app.push_screen(
            ChoiceMenu(f"{row.label}: choose", editor.choices, current),
            lambda value: editor.choose(row.key, value) if value is not None else None,
        )

    @on(FieldTable.Clicked)
    def _row_clicked(self, event: FieldTable.Clicked) -> None:
        self.focus_field(event.key)

    # -- actions: fields -------------------------------------------------------------------

    def _step(self, delta: int, only_low: bool = False) -> None:
        if not self.rows or not self.commit_editor():
            return
        keys = [r.key for r in self.rows]
        start = keys.index(self.current) if self.current in keys else -1
        for step in range(1, len(keys) + 1):
            row = self.rows[(start + delta * step) % len(keys)]
            if not only_low or row.low:
                self._focus(row.key)
                self.query_one(FieldEditor).focus_editor()
                return
        self._status("no low-confidence field left")

    def focus_field(self, key: str) -> bool:
        """Put the cursor on a field (by `Row.key`, or a field's path: its first row), keeping
        what the editor held."""
        if self._row(key) is None:
            key = next((r.key for r in self.rows if r.path == key), key)
        if self._row(key) is None or not self.commit_editor():
            return False
        self._focus(key)
        self.query_one(FieldEditor).focus_editor()
        return True

    def _jump(self, index: int) -> None:
        """Put the cursor on row ``index`` (clamped), keeping what the editor held."""
        if not self.rows or not self.commit_editor():
            return
        row = self.rows[max(0, min(index, len(self.rows) - 1))]
        self._focus(row.key)
        self.query_one(FieldEditor).focus_editor()

    def _index(self) -> int:
        keys = [r.key for r in self.rows]
        return keys.index(self.current) if self.current in keys else 0

    def action_page_fields(self, delta: int) -> None:
        self._jump(self._index() + delta * self.query_one(FieldTable).page_size())

    def action_edge_field(self, where: int) -> None:
        self._jump(0 if where == 0 else len(self.rows) - 1)

    def _item_starts(self) -> list[int]:
        return [
            i
            for i, r in enumerate(self.rows)
            if (s := split_item_path(r.path)) and s[1] == "request"
        ]

    def action_next_item(self) -> None:
        starts = self._item_starts()
        later = [i for i in starts if i > self._index()]
        if later:
            self._jump(later[0])
        else:
            self._status("no item after this one" if starts else "this letter has no items")

    def action_prev_item(self) -> None:
        starts = self._item_starts()
        here = self._index()
        # From inside an item its own request comes first, as in an editor's previous paragraph.
        earlier = [i for i in starts if i < here]
        if earlier:
            self._jump(earlier[-1])
        else:
            self._status("no item before this one" if starts else "this letter has no items")

    def action_next_field(self) -> None:
        self._step(1)

    def action_prev_field(self) -> None:
        self._step(-1)

    def action_next_low(self) -> None:
        self._step(1, only_low=True)

    def action_confirm_field(self) -> None:
        editor = self.query_one(FieldEditor)
        if editor.dirty:
            self.commit_editor()
            return
        if self.draft and self.current and self.draft.confirm(*fields.parse_key(self.current)):
            self._changed("confirmed")

    def action_confirm_all(self) -> None:
        if self.commit_editor() and self.draft and self.draft.confirm_all():
            self._changed("all fields confirmed")

    def action_undo(self) -> None:
        if self.draft and self.draft.undo():
            self._changed("undone")

    def action_redo(self) -> None:
        if self.draft and self.draft.redo():
            self._changed("redone")

    # -- actions: structure ----------------------------------------------------------------

    def _current_item(self) -> int | None:
        split = split_item_path(self.current or "")
        return split[0] if split else None

    def action_add_item(self) -> None:
        if self.draft is None or not self.commit_editor():
            return
        index = self.draft.add_item(self._current_item())
        self.current = f"items.{index}.request"
        self._changed("item added")
        self.query_one(FieldEditor).focus_editor()

    def action_add_diagnosis(self) -> None:
        """A blank diagnosis after the one under the cursor; on an item's drugs, a blank drug."""
        if self.draft is None or not self.commit_editor():
            return
        path, index = fields.parse_key(self.current or "")
        if not fields.is_drug_field(path):
            path = "diagnoses"
            index = index if self.current and self.current.startswith("diagnoses#") else None
        if self.draft.add_element(path, index):
            at = len(self.draft.proposal.get(path).value) - 1 if index is None else index + 1
            self.current = fields.element_key(path, at)
            self._changed("drug added" if path != "diagnoses" else "diagnosis added")
            self.query_one(FieldEditor).focus_editor()

    def action_remove_entry(self) -> None:
        if self.draft is None or self.current is None:
            return
        path, index = fields.parse_key(self.current)
        item = self._current_item()
        if index is not None:
            self.draft.remove_element(path, index)
            self._changed("drug removed" if fields.is_drug_field(path) else "diagnosis removed")
        elif item is not None:
            self.draft.remove_item(item)
            self._changed(f"item {item + 1} removed")
        else:
            self._status("only items and diagnoses can be removed")

    def action_move_entry(self, delta: int) -> None:
        if self.draft is None or self.current is None or not self.commit_editor():
            return
        path, index = fields.parse_key(self.current)
        in_item = split_item_path(self.current)
        if index is not None and fields.is_drug_field(path):
            self._status("drugs keep alphabetical order; Alt+Up/Down on another row moves the item")
        elif index is not None and self.draft.move_element(path, index, delta):
            self.current = fields.diagnosis_key(index + delta)
            self._changed("diagnosis moved")
        elif in_item is not None and self.draft.move_item(in_item[0], delta):
            item, name = in_item
            self.current = f"items.{item + delta}.{name}"
            self._changed("item moved")

    # -- actions: the letter ---------------------------------------------------------------

    def action_take(self) -> None:
        view = self.query_one(LetterView)
        span = view.selected_span()
        if span is None or self.current is None or self.letter is None:
            self._status("select text in the letter first (Ctrl+F or F2 + Shift+arrows)")
            return
        text = view.selected_words()
        row = self._row(self.current)
        path, index = fields.parse_key(self.current)
        if row is not None and index is None and fields.is_list_field(path) and row.text:
            text = f"{row.text}; {text}"
        if self._apply(self.current, text, span):
            self.hide_find()
            self.query_one(FieldEditor).focus_editor()

    # -- actions: the letter as a whole ----------------------------------------------------

    def _go(self, index: int) -> None:
        if not 0 <= index < len(self.order):
            self._status("no more letters this way")
            return
        if not self.commit_editor():
            return
        self.index = index
        self.open_letter(self.order[index])

    def action_next_letter(self) -> None:
        self._go(self.index + 1)

    def action_prev_letter(self) -> None:
        self._go(self.index - 1)

    def action_skip(self) -> None:
        if not self._go_next_needing_work():
            self._status("no other letter needs work")

    def _next_needing_work(self) -> int | None:
        """The next letter that still needs work after this one in the order the letters were
        opened from, going round to the start (a letter left behind is not forgotten); None
        when none does."""
        n = len(self.order)
        for step in range(1, n):
            index = (self.index + step) % n
            if needs_work(self.typed_app.summary(self.order[index])):
                return index
        return None

    def _go_next_needing_work(self) -> bool:
        """Open the next letter needing work in the order the letters were opened from (the
        queue's order, its filter); when none does there, the first in the whole queue's
        order.  False when no letter needs work."""
        found = self._next_needing_work()
        if found is not None:
            self._go(found)
            return True
        app = self.typed_app
        order = app.queue_order()
        here = self.letter_id
        first = next(
            (i for i, lid in enumerate(order) if lid != here and needs_work(app.summary(lid))),
            None,
        )
        if first is None or not self.commit_editor():
            return False
        self.order = order
        self._go(first)
        return True

    def action_save(self) -> None:
        if self.commit_editor():
            self.queue_draft()
            self._status("draft saved")

    def action_gold_next(self) -> None:
        """Mark gold behind a gate: a record with an empty item, a missing decision or an
        invalid value is refused (the cursor goes there); unchecked fields are asked about
        once, with how many of them the machine was unsure of."""
        if self.draft is None or not self.commit_editor():
            return
        blockers = fields.gold_blockers(self.draft.proposal)
        if blockers:
            path, why = blockers[0]
            self.notify(f"Not gold yet: {why}", severity="error")
            if self._row(path) is not None:
                self.focus_field(path)
            return
        unchecked = [r for r in self.rows if r.state == "machine"]
        if not unchecked:
            self._mark_gold()
            return
        low = sum(1 for r in unchecked if r.low)
        question = (
            f"{len(unchecked)} field(s) unchecked, {low} of them low-confidence: mark gold anyway?"
        )
        self._ask(question, lambda yes: self._mark_gold() if yes else None)

    def _mark_gold(self) -> None:
        if self.draft is None:
            return
        # Not copied: the draft is never changed again (the next letter replaces it), and a
        # toast would lay out the screen while the next letter is drawn; the next letter's
        # status line says it instead.
        self.typed_app.mark_gold(self.draft.proposal)
        self._said_on_show = f"{self.letter_name} marked gold"
        if not self._go_next_needing_work():
            self.action_back()  # every letter is done: the queue shows it

    def action_flag(self) -> None:
        def flagged(comment: str | None) -> None:
            if comment is None:
                return
            self.typed_app.set_status(self.letter_id, "flagged", comment or None)
            self._title("flagged", comment=comment or None)
            self._status(f"flagged: {comment}" if comment else "flagged")

        self.app.push_screen(
            CommentScreen("Flag this letter: why?", "comment for the reviewer"), flagged
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer":
            return self.asking
        if action == "drop_edits":
            summary = self.typed_app.summary(self.letter_id) if self.letter_id else None
            return bool(summary and summary.edited)
        return True

    @property
    def asking(self) -> bool:
        return self.query_one(StatusLine).asking

    def _ask(self, question: str, answer: Callable[[bool], None]) -> None:
        """Ask in the status line; every key but the answers is held back meanwhile."""
        editor = self.query_one(FieldEditor)
        if not editor.has_focus_within:
            self.focus_fields()  # from the letter or the find bar: the answers reach the screen
        editor.hold_typing(True)

        def answered(yes: bool) -> None:
            self.query_one(FieldEditor).hold_typing(False)
            answer(yes)

        self.query_one(StatusLine).ask(question, answered)

    def action_answer(self, yes: bool) -> None:
        self.query_one(StatusLine).answer(yes)

    def action_drop_edits(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._drop_edits(self.letter_id)

        self._ask("Drop the edits and go back to the gold record?", answered)

    @work(thread=True, exclusive=True, group="drop")
    def _drop_edits(self, letter_id: str) -> None:
        try:
            restored = self.typed_app.drop_edits(letter_id)
        except Exception as err:
            self.app.call_from_thread(self.typed_app.report_failure, "edits not dropped", err)
            return
        if restored is not None and self.letter is not None:
            self.app.call_from_thread(self._show, self.letter, restored, False)
            self.app.call_from_thread(self._status, "edits dropped: back to the gold record")

    def action_back(self) -> None:
        if self.finding:
            self.hide_find()
            self.query_one(FieldEditor).focus_editor()
            return
        self.commit_editor()
        self.app.pop_screen()
