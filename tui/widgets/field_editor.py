"""The editor for the field under the table's cursor.

A text field gets an `Input` (with suggestions while typing: drugs in a drugs field, ICD-10-CM
codes in a diagnosis), a field with fixed choices a `Select`.  The editor never touches the
record: it posts `Committed` and `QueryChanged` and the screen decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, TextArea

from imrgold.tui.fields import LIST_SEPARATOR, Row, is_prose
from imrgold.tui.widgets.suggestions import Suggestions, ingredients

SuggestionKind = Literal["drugs", "diagnosis"]

STATE_WORDS = {"machine": "machine", "confirmed": "confirmed", "corrected": "corrected"}


def replace_last_part(text: str, replacement: Sequence[str]) -> str:
    """Swap what is being typed after the last separator for an accepted candidate."""
    head, sep, _ = text.rpartition(";")
    parts = [p.strip() for p in head.split(";") if p.strip()] if sep else []
    for name in replacement:
        if name not in parts:
            parts.append(name)
    return LIST_SEPARATOR.join(parts)


def last_part(text: str) -> str:
    return text.rpartition(";")[2].strip()


class RowInput(Input):
    """The editor's text box, which knows whose text it holds.

    Enter posts `Entered` with the row the text was loaded for, read when the key is handled:
    Enters pressed faster than the screen moves on still name the row their text belongs to,
    never the row the screen has reached meanwhile.
    """

    class Entered(Message):
        def __init__(self, row_key: str | None, value: str) -> None:
            super().__init__()
            self.row_key, self.value = row_key, value

    row_key: str | None = None

    async def action_submit(self) -> None:
        self.post_message(self.Entered(self.row_key, self.value))

    def _on_paste(self, event: events.Paste) -> None:
        # Input keeps a paste's first line only; a rationale copied from the letter comes in
        # whole, its line breaks folded into spaces (as gold values are written).
        if event.text:
            text = " ".join(event.text.split())
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()
        event.prevent_default()  # Input's own handler would add the first line again


class RowTextArea(TextArea):
    """The editor for long prose (a request, a rationale): wrapped over a few lines.

    It walks like the one-line box: Enter keeps the text and moves on (a gold value has no
    line breaks: they fold into spaces, pasted ones too), Up on its first line and Down on its
    last leave for the previous or next field; in between they move through the text.
    """

    BINDINGS = [
        # As in the one-line box: everything before the cursor, not one wrapped line of it.
        Binding(
            "ctrl+u", "delete_to_start", "Clear to start", show=False, id="editor.clear_to_start"
        ),
    ]

    class Leave(Message):
        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    row_key: str | None = None

    def action_delete_to_start(self) -> None:
        self.delete((0, 0), self.cursor_location)

    def _visual_row(self) -> tuple[int, int]:
        """(the cursor's wrapped line, how many wrapped lines there are)."""
        wrapped = self.wrapped_document
        return wrapped.location_to_offset(self.cursor_location).y, wrapped.height

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self._visual_row()[0] == 0:
            self.post_message(self.Leave(-1))
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        row, height = self._visual_row()
        if not select and row >= height - 1:
            self.post_message(self.Leave(1))
            return
        super().action_cursor_down(select)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(RowInput.Entered(self.row_key, " ".join(self.text.split())))
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        if event.text:
            self.replace(" ".join(event.text.split()), *self.selection)
        event.stop()
        event.prevent_default()


class ChoiceSelect(Select[str], inherit_bindings=False):
    """A Select that leaves Up/Down to the screen (previous/next field): Enter confirms the
    choice and moves on, as in a text field; Space or Ctrl+O opens the list."""

    BINDINGS = [
        Binding("enter", "enter", "Confirm", show=False, id="choice.enter"),
        Binding("space,ctrl+o", "show_overlay", "Choose", show=False, id="choice.show_overlay"),
    ]

    class Entered(Message):
        def __init__(self, row_key: str | None, value: str) -> None:
            super().__init__()
            self.row_key, self.value = row_key, value

    row_key: str | None = None

    def action_enter(self) -> None:
        value = "" if self.value is Select.NULL else str(self.value)
        self.post_message(self.Entered(self.row_key, value))

    choice_values: tuple[str, ...] = ()

    def set_choices(self, choices: Sequence[str]) -> None:
        self.choice_values = tuple(choices)
        self.set_options([(c, c) for c in choices])

    async def _on_key(self, event: events.Key) -> None:
        # One key picks: u/o for a decision, the first letter for a category, priority or sex
        # (each choice set has distinct first letters); the pick is kept and the walk moves on.
        if not self.expanded and event.character and event.character.isalpha():
            picked = [c for c in self.choice_values if c[:1].lower() == event.character.lower()]
            if len(picked) == 1:
                event.stop()
                event.prevent_default()
                self.post_message(self.Entered(self.row_key, picked[0]))
                return


class FieldEditor(Vertical):
    BINDINGS = [
        # Only while suggestions show (check_action); otherwise Up/Down reach the screen.
        Binding(
            "down", "suggestion(1)", "Next suggestion", show=False, id="editor.suggestion_next"
        ),
        Binding(
            "up", "suggestion(-1)", "Previous suggestion", show=False, id="editor.suggestion_prev"
        ),
        Binding(
            "escape",
            "dismiss_suggestions",
            "Hide suggestions",
            show=False,
            id="editor.dismiss_suggestions",
        ),
    ]

    class Committed(Message):
        """The annotator entered a value (`advance`: and wants the next field)."""

        def __init__(self, key: str, text: str, advance: bool) -> None:
            super().__init__()
            self.key, self.text, self.advance = key, text, advance

    class Step(Message):
        """Move to the next (1) or previous (-1) field: the arrow left the prose editor."""

        def __init__(self, delta: int) -> None:
            super().__init__()
            self.delta = delta

    class QueryChanged(Message):
        """What is being typed changed (the last drug of a drugs field, a diagnosis): the screen
        fetches suggestions of that ``kind``."""

        def __init__(self, key: str, query: str, kind: SuggestionKind) -> None:
            super().__init__()
            self.key, self.query, self.kind = key, query, kind

    class SuggestionAccepted(Message):
        """A candidate taken for row ``key``: a drug's ingredients are already in the editor; a
        diagnosis keeps its typed words and takes the candidate's code (the screen applies both
        and moves on)."""

        def __init__(self, key: str, text: str, query: str, candidate: Any) -> None:
            super().__init__()
            self.key, self.text, self.query, self.candidate = key, text, query, candidate

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row: Row | None = None
        self._kind: SuggestionKind | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="editor-label")
        yield RowInput(id="editor-input", placeholder="value (empty = null)")
        yield RowTextArea(id="editor-text", soft_wrap=True, tab_behavior="focus")
        yield ChoiceSelect([], id="editor-select", prompt="(null)")
        yield Suggestions(id="suggestions")

    def on_mount(self) -> None:
        self.query_one(Select).display = False
        self.query_one(RowTextArea).display = False

    # -- what the screen calls ---------------------------------------------------------------

    def edit(
        self,
        row: Row,
        *,
        choices: Sequence[str] | None = None,
        suggest: SuggestionKind | None = None,
        focus: bool = False,
        note: str = "",
    ) -> None:
        """Edit ``row``; ``note`` is a warning shown with its label (a drug not in the lexicon)."""
        self.row, self._kind = row, suggest
        self.query_one(Suggestions).reserve(suggest is not None)
        self._describe(row, note)
        text_input, select = self.query_one(RowInput), self.query_one(ChoiceSelect)
        area = self.query_one(RowTextArea)
        kind = "choice" if choices is not None else "prose" if is_prose(row.path) else "line"
        # Toggling display re-lays out the screen: only when the kind of field changes.
        for widget, shown in ((text_input, "line"), (area, "prose"), (select, "choice")):
            if widget.display != (kind == shown):
                widget.display = kind == shown
        if kind == "line":
            with text_input.prevent(Input.Changed):
                text_input.value = row.text
            text_input.cursor_position = len(row.text)
            text_input.row_key = row.key  # with the text: an Enter names the row it confirms
        elif kind == "prose":
            area.load_text(row.text)
            area.move_cursor(area.document.end)
            area.row_key = row.key
        else:
            assert choices is not None
            with select.prevent(Select.Changed):
                select.set_choices(choices)
                select.value = row.text if row.text in choices else Select.NULL
            select.row_key = row.key
        if focus:
            self.focus_editor()

    def focus_editor(self) -> None:
        for widget in (self.query_one(Select), self.query_one(RowTextArea), self.query_one(Input)):
            if widget.display:
                widget.focus()
                return

    @property
    def text(self) -> str:
        """What the editor holds now, as text."""
        select = self.query_one(Select)
        if select.display:
            return "" if select.value is Select.NULL else str(select.value)
        area = self.query_one(RowTextArea)
        if area.display:
            return " ".join(area.text.split())
        return self.query_one(Input).value

    @property
    def dirty(self) -> bool:
        return self.row is not None and self.text != self.row.text

    def set_text(self, text: str) -> None:
        select, area = self.query_one(Select), self.query_one(RowTextArea)
        if select.display:
            select.value = text if text else Select.NULL
        elif area.display:
            area.load_text(text)
            area.move_cursor(area.document.end)
        else:
            self.query_one(Input).value = text

    def show_error(self, message: str) -> None:
        label = self.query_one("#editor-label", Label)
        label.update(f"[b red]{message}[/]", layout=False)
        label.add_class("-error")

    def show_suggestions(self, key: str, query: str, candidates: Sequence[Any]) -> None:
        if self.row is None or self.row.key != key or query != self._query(self.text):
            return  # the annotator has typed on since: a newer answer is coming
        self.query_one(Suggestions).show_candidates(candidates, query)

    @property
    def suggestions_shown(self) -> bool:
        return self.query_one(Suggestions).shown

    def _query(self, text: str) -> str:
        """What the suggestions answer: the drug after the last ';', or the whole diagnosis."""
        return last_part(text) if self._kind == "drugs" else " ".join(text.split())

    # -- internals -------------------------------------------------------------------------

    def _describe(self, row: Row, note: str = "") -> None:
        label = self.query_one("#editor-label", Label)
        label.remove_class("-error")
        state = STATE_WORDS.get(row.state, row.state)
        text = Text.assemble((row.label, "bold"), f" · {state}")
        if row.state == "machine":
            text.append(f" · confidence {row.confidence:.2f}")
        if row.low:
            text.append(" · LOW", "bold")
        if note:
            text.append(f" · {note}", "bold")  # a value from the letter: Text, not markup
        label.update(text, layout=False)
        label.set_class(row.low or bool(note), "-low")

    @on(Input.Changed, "#editor-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._kind is not None and self.row is not None:
            self.post_message(self.QueryChanged(self.row.key, self._query(event.value), self._kind))

    @on(RowInput.Entered)
    def _submitted(self, event: RowInput.Entered) -> None:
        event.stop()
        if self.row is None or event.row_key is None:
            return
        if self.suggestions_shown and event.row_key == self.row.key:
            if self.accept_suggestion():
                return
            self.query_one(Suggestions).hide()  # none highlighted: Enter keeps the typed text
        self.post_message(self.Committed(event.row_key, event.value, advance=True))

    @on(RowTextArea.Leave)
    def _leave(self, event: RowTextArea.Leave) -> None:
        event.stop()
        self.post_message(self.Step(event.delta))

    @on(ChoiceSelect.Entered)
    def _choice_entered(self, event: ChoiceSelect.Entered) -> None:
        event.stop()
        if event.row_key is not None:
            self.post_message(self.Committed(event.row_key, event.value, advance=True))

    @on(Select.Changed, "#editor-select")
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if self.row is not None and self.text != self.row.text:
            self.post_message(self.Committed(self.row.key, self.text, advance=False))

    def accept_suggestion(self) -> bool:
        """Take the highlighted candidate; False when none is highlighted."""
        suggestions = self.query_one(Suggestions)
        candidate = suggestions.chosen()
        if candidate is None or self.row is None:
            return False
        text_input = self.query_one(Input)
        query = self._query(text_input.value)
        if self._kind == "drugs":
            with text_input.prevent(Input.Changed):
                text_input.value = replace_last_part(text_input.value, ingredients(candidate))
            text_input.cursor_position = len(text_input.value)
        suggestions.hide()
        self.post_message(self.SuggestionAccepted(self.row.key, text_input.value, query, candidate))
        return True

    def action_suggestion(self, delta: int) -> None:
        self.query_one(Suggestions).move(delta)

    def action_dismiss_suggestions(self) -> None:
        self.query_one(Suggestions).hide()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("suggestion", "dismiss_suggestions"):
            return self.suggestions_shown
        return True
