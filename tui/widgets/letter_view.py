"""The letter as it was ingested, with every proposed value highlighted.

A read-only `TextArea` gives the annotator a cursor, selection with shift+arrows and search
without the mouse.  It shows the letter as `core.shown.shown_text` makes it readable (paragraphs
reflowed, double spacing and markup gone; the raw text one key away), and every offset in or out
goes through that text's map, so spans still name exactly the letter's characters; rows and
columns come from the shown offsets with a bisect.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import Literal, NamedTuple

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from imrgold.core.models import FieldState, Span
from imrgold.core.shown import ShownText, shown_text
from imrgold.tui.widgets.sizing import set_content_size

# A value's colour says its state; the component classes take theirs from the theme.
Shade = FieldState | Literal["low"]
"""A value's colour: its state, or ``low`` for a machine value below the confidence flag."""
STATES: tuple[Shade, ...] = ("machine", "low", "confirmed", "corrected")


class Found(NamedTuple):
    """A search's occurrence selected in the letter: its span, and which of how many it is."""

    span: Span
    hit: int
    hits: int


class LetterView(TextArea):
    """Read-only letter; `highlight` and `mark` take spans of the original text."""

    BINDINGS = [
        Binding("slash", "screen.find", "Find", show=False, id="letter.find"),
        Binding("enter", "screen.take", "Take", show=False, id="letter.take"),
        Binding("n", "screen.find_step(True)", "Next hit", show=False, id="letter.next_hit"),
        Binding("N", "screen.find_step(False)", "Previous hit", show=False, id="letter.prev_hit"),
    ]

    COMPONENT_CLASSES = {
        *(f"letter-view--{state}" for state in STATES),
        "letter-view--mark",
        "letter-view--hit",
    }
    DEFAULT_CSS = """
    LetterView > .letter-view--machine { background: $warning 20%; }
    LetterView > .letter-view--low { background: $error 35%; }
    LetterView > .letter-view--confirmed { background: $success 25%; }
    LetterView > .letter-view--corrected { background: $primary 35%; }
    LetterView > .letter-view--mark { background: $accent; color: $text-accent; text-style: bold; }
    LetterView > .letter-view--hit { text-style: bold underline; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        # No cursor-line band: it would paint over the mark of the focused field.
        super().__init__(
            "", read_only=True, soft_wrap=True, show_cursor=True, highlight_cursor_line=False, id=id
        )
        self._letter = ""
        self._shown: ShownText = shown_text("")
        self._line_starts: tuple[int, ...] = (0,)
        self._highlighted: list[tuple[Span, Shade]] = []
        self._mark_spans: list[Span] = []
        self._styles: dict[int, list[tuple[int, int, Style]]] = {}
        self._mark: Span | None = None
        self._marks: dict[int, list[tuple[int, int, Style]]] = {}
        self._hits: dict[int, list[tuple[int, int, Style]]] = {}

    def _refresh_size(self) -> None:
        # The pane's size never depends on the letter: its wrapped height is only how far it
        # scrolls (sizing.py).
        set_content_size(self, Size(0, self.wrapped_document.height))

    clean = True
    """Show the letter reflowed and without markup (False: every character as ingested)."""

    def show_letter(self, text: str, shown: ShownText | None = None) -> None:
        """Show a letter; ``shown`` is its text as `shown_text` lays it out for this pane's
        current view, when already made (a letter prepared ahead)."""
        if shown is None:
            shown = shown_text(text, clean=self.clean)
        self._letter, self._shown = text, shown
        self._line_starts = shown.line_starts
        self._styles, self._marks, self._hits, self._mark = {}, {}, {}, None
        self._highlighted, self._mark_spans = [], []
        self.load_text(shown.text)
        self._line_cache.clear()  # its keys name lines by position, not by letter

    def set_clean(self, clean: bool) -> None:
        """Switch between the clean and the raw letter, keeping highlights, mark and place."""
        if clean == self.clean:
            return
        anchor = self.text_offset(self.cursor_location)
        highlighted, marks = self._highlighted, self._mark_spans
        self.clean = clean
        self.show_letter(self._letter)
        self.highlight(highlighted)
        self.mark(marks)
        self.move_cursor(self.location(anchor))

    @property
    def marked(self) -> Span | None:
        """The first span of the focused field, as marked."""
        return self._mark

    # -- offsets <-> locations -------------------------------------------------------------

    # Offsets in and out are the letter's; "shown" offsets index the text on screen.

    def location(self, offset: int) -> tuple[int, int]:
        """Row and column where the letter's ``offset`` shows."""
        return self._shown_location(self._shown.to_shown(offset))

    def _shown_location(self, shown: int) -> tuple[int, int]:
        row = bisect.bisect_right(self._line_starts, shown) - 1
        return row, shown - self._line_starts[row]

    def _shown_offset(self, location: tuple[int, int]) -> int:
        row, column = location
        return self._line_starts[row] + column

    def text_offset(self, location: tuple[int, int]) -> int:
        """The letter's offset of the character shown at ``location``."""
        return self._shown.to_letter(self._shown_offset(location))

    def selected_span(self) -> Span | None:
        """The selection as a span of the letter."""
        start, end = sorted(
            (self._shown_offset(self.selection.start), self._shown_offset(self.selection.end))
        )
        return self._letter_span(start, end) if end > start else None

    def _letter_span(self, start: int, end: int) -> Span:
        letter_start, letter_end = self._shown.span_to_letter(start, end)
        return Span(start=letter_start, end=letter_end)

    def selected_words(self) -> str:
        """The selection as shown (markup and line breaks left out), one space between words."""
        start, end = sorted(
            (self._shown_offset(self.selection.start), self._shown_offset(self.selection.end))
        )
        return " ".join(self._shown.text[start:end].split())

    # -- highlighting ----------------------------------------------------------------------

    def style_of(self, part: str) -> Style:
        """The theme's style for a state, the mark or a search hit (a hit only restyles the
        text: the colour of the value under it stays)."""
        return self.get_component_rich_style(f"letter-view--{part}", partial=part == "hit")

    def _add(
        self, styles: dict[int, list[tuple[int, int, Style]]], span: Span, style: Style
    ) -> None:
        self._add_shown(
            styles, self._shown.to_shown(span.start), self._shown.to_shown(span.end), style
        )

    def _add_shown(
        self, styles: dict[int, list[tuple[int, int, Style]]], start: int, end: int, style: Style
    ) -> None:
        if end <= start:
            return
        first, _ = self._shown_location(start)
        last, _ = self._shown_location(end)
        for row in range(first, last + 1):
            row_start = self._line_starts[row]
            styles.setdefault(row, []).append((max(start - row_start, 0), end - row_start, style))

    def highlight(self, spans: Iterable[tuple[Span, Shade]]) -> None:
        """Colour every proposed value by its state (one of `STATES`)."""
        self._highlighted = list(spans)
        styles: dict[int, list[tuple[int, int, Style]]] = {}
        by_state = {state: self.style_of(state) for state in STATES}  # once, not once a span
        for span, state in self._highlighted:
            self._add(styles, span, by_state.get(state, by_state["machine"]))
        before, self._styles = self._styles, styles
        self._redraw_rows({r for r in set(before) | set(styles) if before.get(r) != styles.get(r)})

    def mark(self, spans: Iterable[Span]) -> None:
        """Mark the focused field's spans and scroll the first into view."""
        spans = self._mark_spans = [s for s in spans if s.end > s.start]
        self._mark = spans[0] if spans else None
        before, self._marks = self._marks, {}
        for span in spans:
            self._add(self._marks, span, self.style_of("mark"))
        # Only the lines whose mark came or went are drawn again, and the letter scrolls only
        # when the mark is out of comfortable view: the walk moves the mark on every key, and
        # a whole letter repainted made the whole screen's lines be composed again each step.
        self._redraw_rows(set(before) | set(self._marks))
        if self._mark is not None:
            self.scroll_to_line(self.location(self._mark.start)[0], only_if_hidden=True)

    def place_cursor_at_mark(self) -> None:
        """Put the cursor where the focused field's value starts (entering the letter, or
        finding from there); the walk itself leaves the cursor alone, since moving it makes
        TextArea draw every line again."""
        if self._mark is not None:
            self.move_cursor(self.location(self._mark.start))

    def _redraw_rows(self, rows: set[int]) -> None:
        """Draw these document lines again (their styles changed), and only them."""
        if not self._line_cache:
            return  # nothing drawn since the letter was shown: it is drawn whole anyway
        visual = self._forget_rows(rows)
        top, height, width = self.scroll_offset.y, self.size.height, self.size.width
        for y in sorted(visual):
            if 0 <= y - top < height:
                self.refresh(Region(0, y - top, width, 1))

    def _forget_rows(self, rows: set[int]) -> set[int]:
        """Drop TextArea's cached drawing of these document lines (their styles changed);
        returns the wrapped (visual) lines they cover."""
        if not rows:
            return set()
        wrapped, last = self.wrapped_document, self.document.line_count
        visual: set[int] = set()
        for row in rows:
            if row >= last:
                continue
            top = wrapped.location_to_offset((row, 0)).y
            bottom = wrapped.location_to_offset((row + 1, 0)).y if row + 1 < last else top + 1
            visual.update(range(top, max(bottom, top + 1)))
        cache = self._line_cache
        for key in [k for k in cache.keys() if k[2] in visual]:  # noqa: SIM118 (no __iter__)
            cache.discard(key)
        return visual

    def scroll_to_line(self, row: int, *, only_if_hidden: bool = False) -> None:
        """Bring document line ``row`` a third of the way down the pane, so the annotator sees
        the sentence around it; ``only_if_hidden``: leave the pane where it is when the line
        already shows with a few lines of context (scrolling repaints the whole letter)."""
        y = self.wrapped_document.location_to_offset((row, 0)).y
        height = self.scrollable_content_region.height or 1
        top = self.scroll_offset.y
        context = min(3, height // 4)
        if only_if_hidden and top + context <= y < top + height - context:
            return
        self.scroll_to(y=max(0, y - height // 3), animate=False)

    def find(self, query: str, *, forward: bool = True) -> Found | None:
        """Select the next (or previous) occurrence of ``query`` from the selection on, going
        round the letter's end; case and spacing do not matter (a phrase a PDF broke across
        lines is found).  Every occurrence is underlined until `clear_hits`."""
        starts, length = self._find_all(query)
        if not starts:
            self.clear_hits()
            return None
        if forward:
            cursor = self._shown_offset(self.selection.end)
            index = bisect.bisect_left(starts, cursor) % len(starts)
        else:
            cursor = self._shown_offset(self.selection.start)
            index = (bisect.bisect_left(starts, cursor) - 1) % len(starts)
        shown_start = starts[index]
        shown_end = shown_start + length[index]
        span = self._letter_span(shown_start, shown_end)
        self.selection = Selection(
            self._shown_location(shown_start), self._shown_location(shown_end)
        )
        self.scroll_to_line(self.selection.start[0], only_if_hidden=True)
        return Found(span, index + 1, len(starts))

    def _find_all(self, query: str) -> tuple[list[int], list[int]]:
        """Where ``query`` shows, and each occurrence's length; underlines them all."""
        words = query.split()
        if not words:
            return [], []
        pattern = re.compile(r"\s+".join(map(re.escape, words)), re.IGNORECASE)
        found = [(m.start(), m.end() - m.start()) for m in pattern.finditer(self._shown.text)]
        hits: dict[int, list[tuple[int, int, Style]]] = {}
        for start, length in found:
            self._add_shown(hits, start, start + length, self.style_of("hit"))
        before, self._hits = self._hits, hits
        self._redraw_rows(set(before) | set(hits))
        return [start for start, _ in found], [length for _, length in found]

    def clear_hits(self) -> None:
        """Stop underlining the last search's occurrences."""
        before, self._hits = self._hits, {}
        self._redraw_rows(set(before))

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        for start, end, style in self._styles.get(line_index, ()):
            line.stylize(style, start, end)
        for start, end, style in self._hits.get(line_index, ()):
            line.stylize(style, start, end)
        for start, end, style in self._marks.get(line_index, ()):
            line.stylize(style, start, end)
        return line
