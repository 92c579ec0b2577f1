"""The editor for the field under the table's cursor.

A field gets a one-line box (with suggestions while typing: drugs in a drugs field, ICD-10-CM
codes in a diagnosis; in choice mode for a field with fixed choices), a request or rationale a
wrapped prose box.  The editor never touches the record: it posts `Committed` and
`QueryChanged` and the screen decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, TextArea

from imrgold.tui.fields import LIST_SEPARATOR, Row, confidence_percent, is_prose
from imrgold.tui.widgets.key_order import HoldsKeys
from imrgold.tui.widgets.sizing import set_content_size
from imrgold.tui.widgets.suggestions import Suggestion, Suggestions, ingredients

SuggestionKind = Literal["drugs", "diagnosis"]


def replace_last_part(text: str, replacement: Sequence[str]) -> str:
    """Swap what is being typed after the last separator for an accepted candidate."""
    head, sep, _ = text.rpartition(";")
    parts = [p.strip() for p in head.split(";") if p.strip()] if sep else []
    for name in replacement:
        if name not in parts:
            parts.append(name)
    return LIST_SEPARATOR.join(parts)


def choice_keys(choices: Sequence[str]) -> str:
    """The keys of a choice field, for the box's border: "u upheld · o overturned · ␣ list",
    or only the letters where the words would not fit a narrow pane ("m/t/i/p/e/c/o · ␣ list")."""
    words = " · ".join(f"{c[0]} {c}" for c in choices)
    keys = words if len(words) <= 26 else "/".join(c[0] for c in choices)
    return f"{keys} · ␣ list"


def last_part(text: str) -> str:
    return text.rpartition(";")[2].strip()


class RowInput(HoldsKeys, Input):
    """The editor's one-line box, which knows whose text it holds.

    Enter posts `Entered` with the row the text was loaded for, read when the key is handled:
    Enters pressed faster than the screen moves on still name the row their text belongs to,
    never the row the screen has reached meanwhile.

    A field with fixed choices (decision, category, priority, sex) is edited in the same box
    in choice mode: one key picks (u/o for a decision, the first letter otherwise: each set
    has distinct first letters) and moves on, Left/Right step through the choices, Backspace
    or Delete clears, Space or Ctrl+O asks for the list (`MenuRequested`).  One box for both
    means the walk never swaps widgets between a text and a choice field, which re-laid out
    and repainted the whole screen at every such step.
    """

    BINDINGS = [
        Binding("ctrl+o", "choice_menu", "Choose from the list", show=False, id="editor.choices"),
    ]

    class Entered(Message):
        def __init__(self, row_key: str | None, value: str) -> None:
            super().__init__()
            self.row_key, self.value = row_key, value

    class MenuRequested(Message):
        """Space or Ctrl+O on a choice field: show the list of its values."""

    row_key: str | None = None
    choices: tuple[str, ...] = ()
    """Not empty: the box holds a choice field's value, one of these (or nothing)."""

    # What a key does to text that a choice is not: these keys go on to the screen instead
    # (Home/End then move in the field list, as they do from a choice field).
    _TEXT_ONLY = frozenset(
        {
            "home",
            "end",
            "cursor_left_word",
            "cursor_right_word",
            "delete_right_word",
            "delete_left_word",
            "cut",
            "paste",
            "select_all",
        }
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choice_menu":
            return bool(self.choices)
        if self.choices and action in self._TEXT_ONLY:
            return False
        return super().check_action(action, parameters)

    def action_choice_menu(self) -> None:
        self.post_message(self.MenuRequested())

    async def _on_key(self, event: events.Key) -> None:
        if await self.walk_key(event):
            return
        if not self.choices or not event.is_printable:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        character = (event.character or "").lower()
        if character == " ":
            self.post_message(self.MenuRequested())
            return
        picked = [c for c in self.choices if c[:1] == character]
        if len(picked) != 1:
            self.app.bell()
            return
        self.value = picked[0]
        self.leaving()
        self.post_message(self.Entered(self.row_key, picked[0]))

    def _step_choice(self, delta: int) -> None:
        if self.value in self.choices:
            at = self.choices.index(self.value)
        else:  # from nothing, Right goes to the first choice and Left to the last
            at = -1 if delta > 0 else 0
        self.value = self.choices[(at + delta) % len(self.choices)]

    def action_cursor_left(self, select: bool = False) -> None:
        if self.choices:
            self._step_choice(-1)
        else:
            super().action_cursor_left(select)

    def action_cursor_right(self, select: bool = False) -> None:
        if self.choices:
            self._step_choice(1)
        else:
            super().action_cursor_right(select)

    def _clear_choice(self) -> bool:
        if self.choices:
            self.value = ""
        return bool(self.choices)

    def action_delete_left(self) -> None:
        if not self._clear_choice():
            super().action_delete_left()

    def action_delete_right(self) -> None:
        if not self._clear_choice():
            super().action_delete_right()

    def action_delete_left_all(self) -> None:
        if not self._clear_choice():
            super().action_delete_left_all()

    def action_delete_right_all(self) -> None:
        if not self._clear_choice():
            super().action_delete_right_all()

    def _watch_value(self, value: str) -> None:
        # Input sets its virtual width to the text's on every change, through the layout
        # reactive (see sizing.py): set here first, without a layout, Input's own assignment
        # is a no-op.  Only the value: Input repaints itself for a new value, and its
        # scrollbars are its own business as before.
        self.set_reactive(Widget.virtual_size, Size(self.content_width, 1))
        super()._watch_value(value)

    async def action_submit(self) -> None:
        self.leaving()
        self.post_message(self.Entered(self.row_key, self.value))

    def _on_paste(self, event: events.Paste) -> None:
        # Input keeps a paste's first line only; a rationale copied from the letter comes in
        # whole, its line breaks folded into spaces (as gold values are written).
        if self.choices:
            self.app.bell()  # a choice is picked, not typed
        elif event.text:
            text = " ".join(event.text.split())
            selection = self.selection
            if selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *selection)
        event.stop()
        event.prevent_default()  # Input's own handler would add the first line again


class RowTextArea(HoldsKeys, TextArea):
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

    def _refresh_size(self) -> None:
        # The box's height is fixed: a text's wrapped height only changes how far it scrolls.
        set_content_size(self, Size(0, self.wrapped_document.height))

    def action_delete_to_start(self) -> None:
        self.delete((0, 0), self.cursor_location)

    def _visual_row(self) -> tuple[int, int]:
        """(the cursor's wrapped line, how many wrapped lines there are)."""
        wrapped = self.wrapped_document
        return wrapped.location_to_offset(self.cursor_location).y, wrapped.height

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self._visual_row()[0] == 0:
            self.leaving()
            self.post_message(self.Leave(-1))
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        row, height = self._visual_row()
        if not select and row >= height - 1:
            self.leaving()
            self.post_message(self.Leave(1))
            return
        super().action_cursor_down(select)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" and self.app.focused is self and not self.holding:
            event.stop()
            event.prevent_default()
            self.leaving()
            self.post_message(RowInput.Entered(self.row_key, " ".join(self.text.split())))
            return
        if await self.walk_key(event):
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        if event.text:
            self.replace(" ".join(event.text.split()), *self.selection)
        event.stop()
        event.prevent_default()


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

        def __init__(self, key: str, text: str, query: str, candidate: Suggestion) -> None:
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
        yield Suggestions(id="suggestions")

    def on_mount(self) -> None:
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
        self.query_one(Suggestions).hide()
        self._describe(row, note)
        text_input, area = self.query_one(RowInput), self.query_one(RowTextArea)
        prose = is_prose(row.path)
        # Toggling display re-lays out the screen: only between prose and the one-line box.
        if area.display != prose:
            area.display, text_input.display = prose, not prose
        if prose:
            area.load_text(row.text)
            area.move_cursor(area.document.end)
            area.row_key = row.key
        else:
            text_input.choices = tuple(choices or ())
            text_input.placeholder = "(null)" if choices else "value (empty = null)"
            text_input.border_subtitle = choice_keys(choices) if choices else ""
            with text_input.prevent(Input.Changed):
                text_input.value = row.text
            text_input.cursor_position = len(row.text)
            text_input.row_key = row.key  # with the text: an Enter names the row it confirms
        if focus:
            self.focus_editor()

    def hold_typing(self, hold: bool) -> None:
        """While a question stands, no key reaches the boxes (the answer is the screen's)."""
        for box in self.query("RowInput, RowTextArea"):
            if isinstance(box, HoldsKeys):
                box.swallowing = hold

    def focus_editor(self) -> None:
        area = self.query_one(RowTextArea)
        (area if area.display else self.query_one(RowInput)).focus()

    @property
    def text(self) -> str:
        """What the editor holds now, as text."""
        area = self.query_one(RowTextArea)
        if area.display:
            return " ".join(area.text.split())
        return self.query_one(Input).value

    @property
    def dirty(self) -> bool:
        return self.row is not None and self.text != self.row.text

    def set_text(self, text: str) -> None:
        area = self.query_one(RowTextArea)
        if area.display:
            area.load_text(text)
            area.move_cursor(area.document.end)
        else:
            self.query_one(Input).value = text

    def show_error(self, message: str) -> None:
        label = self.query_one("#editor-label", Label)
        # Text, not markup: the message quotes what was typed.
        label.update(Text(message, style="bold red"), layout=False)
        label.add_class("-error")

    def show_suggestions(self, key: str, query: str, candidates: Sequence[Suggestion]) -> None:
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
        text = Text.assemble((row.label, "bold"), f" · {row.state}")
        if row.state == "machine":
            # As the field list shows it: a whole percentage rounded down (never at the
            # threshold for a value below it).
            text.append(f" · confidence {confidence_percent(row.confidence)}%")
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
            self.moved()  # nothing will move: what was typed meanwhile stays here
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

    def moved(self) -> None:
        """The screen has handled a move the editor asked for (Enter, a choice picked, an
        arrow leaving the prose box): typing held meanwhile goes to the field it is on now."""
        self.query_one(RowInput).moved()
        self.query_one(RowTextArea).moved()

    def choose(self, key: str, value: str) -> None:
        """A value picked from a choice field's list (the screen shows it on `MenuRequested`):
        kept for row ``key`` if the editor is still on it; Enter then moves on."""
        text_input = self.query_one(RowInput)
        if self.row is not None and self.row.key == key and value in text_input.choices:
            text_input.value = value
            self.post_message(self.Committed(key, value, advance=False))

    @property
    def choices(self) -> tuple[str, ...]:
        """The choices of the field being edited; empty for a text field."""
        return self.query_one(RowInput).choices

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
