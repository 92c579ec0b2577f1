"""The letter as it was ingested, with every proposed value highlighted.

A read-only `TextArea` gives the annotator a cursor, selection with shift+arrows and search
without the mouse.  Spans index into the original text, so the text shown here keeps one
character per original character: line breaks that are not ``\\n`` (``\\r``, form feeds) become
spaces rather than extra lines, so do the breaks that only wrap a PDF's paragraph
(`core.text.soft_breaks`), and offsets convert to rows and columns with a bisect.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from imrgold.core.models import Span
from imrgold.core.text import soft_breaks
from imrgold.tui.widgets.sizing import set_content_size

# str.splitlines() breaks on these too; TextArea would turn each into a line of its own.
_OTHER_BREAKS = str.maketrans({c: " " for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})

STATE_STYLES = {
    "machine": Style(bgcolor="#3a3a00"),
    "low": Style(bgcolor="#5f1f1f"),
    "confirmed": Style(bgcolor="#1f3f1f"),
    "corrected": Style(bgcolor="#1f2f5f"),
}
MARK_STYLE = Style(bgcolor="#d7875f", color="black", bold=True)


def display_text(text: str) -> str:
    """The letter as shown: other line breaks as spaces, and the breaks that only wrap a PDF's
    paragraph as spaces too, so the pane re-wraps paragraphs to its own width (one character
    for one, so spans need no mapping)."""
    shown = list(text.translate(_OTHER_BREAKS))
    for offset in soft_breaks(text):
        shown[offset] = " "
    return "".join(shown)


class LetterView(TextArea):
    """Read-only letter; `highlight` and `mark` take spans of the original text."""

    BINDINGS = [
        Binding("slash", "screen.find", "Find", show=False, id="letter.find"),
        Binding("enter", "screen.take", "Take", show=False, id="letter.take"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        # No cursor-line band: it would paint over the mark of the focused field.
        super().__init__(
            "", read_only=True, soft_wrap=True, show_cursor=True, highlight_cursor_line=False, id=id
        )
        self._line_starts: list[int] = [0]
        self._styles: dict[int, list[tuple[int, int, Style]]] = {}
        self._mark: Span | None = None
        self._marks: dict[int, list[tuple[int, int, Style]]] = {}

    def _refresh_size(self) -> None:
        # The pane's size never depends on the letter: its wrapped height is only how far it
        # scrolls (sizing.py).
        set_content_size(self, Size(0, self.wrapped_document.height))

    def show_letter(self, text: str) -> None:
        shown = display_text(text)
        self._line_starts = [0] + [i + 1 for i, c in enumerate(shown) if c == "\n"]
        self._styles, self._marks, self._mark = {}, {}, None
        self.load_text(shown)
        self._line_cache.clear()  # its keys name lines by position, not by letter

    @property
    def marked(self) -> Span | None:
        """The first span of the focused field, as marked."""
        return self._mark

    # -- offsets <-> locations -------------------------------------------------------------

    def location(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self._line_starts, offset) - 1
        return row, offset - self._line_starts[row]

    def text_offset(self, location: tuple[int, int]) -> int:
        row, column = location
        return self._line_starts[row] + column

    def selected_span(self) -> Span | None:
        start, end = sorted(
            (self.text_offset(self.selection.start), self.text_offset(self.selection.end))
        )
        return Span(start=start, end=end) if end > start else None

    # -- highlighting ----------------------------------------------------------------------

    def _add(self, styles: dict[int, list[tuple[int, int, Style]]], span: Span, style: Style):
        text_end = self._line_starts[-1] + len(self.document.get_line(len(self._line_starts) - 1))
        start, end = min(span.start, text_end), min(span.end, text_end)
        if end <= start:
            return
        first, _ = self.location(start)
        last, _ = self.location(end)
        for row in range(first, last + 1):
            row_start = self._line_starts[row]
            styles.setdefault(row, []).append((max(start - row_start, 0), end - row_start, style))

    def highlight(self, spans: Iterable[tuple[Span, str]]) -> None:
        """Colour every proposed value by its state (`STATE_STYLES` keys)."""
        styles: dict[int, list[tuple[int, int, Style]]] = {}
        for span, state in spans:
            self._add(styles, span, STATE_STYLES.get(state, STATE_STYLES["machine"]))
        before, self._styles = self._styles, styles
        self._redraw_rows({r for r in set(before) | set(styles) if before.get(r) != styles.get(r)})

    def mark(self, spans: Iterable[Span]) -> None:
        """Mark the focused field's spans and scroll the first into view."""
        spans = [s for s in spans if s.end > s.start]
        self._mark = spans[0] if spans else None
        before, self._marks = self._marks, {}
        for span in spans:
            self._add(self._marks, span, MARK_STYLE)
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

    def select_span(self, span: Span) -> None:
        self.selection = Selection(self.location(span.start), self.location(span.end))

    def find(self, query: str, *, forward: bool = True) -> Span | None:
        """Select the next occurrence of ``query`` (case-insensitive) after the cursor."""
        if not query:
            return None
        haystack = self.text.lower()
        needle = query.lower()
        cursor = self.text_offset(self.selection.end)
        if forward:
            at = haystack.find(needle, cursor)
            if at < 0:
                at = haystack.find(needle)
        else:
            at = haystack.rfind(needle, 0, max(0, self.text_offset(self.selection.start)))
            if at < 0:
                at = haystack.rfind(needle)
        if at < 0:
            return None
        span = Span(start=at, end=at + len(needle))
        self.select_span(span)
        return span

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        for start, end, style in self._styles.get(line_index, ()):
            line.stylize(style, start, end)
        for start, end, style in self._marks.get(line_index, ()):
            line.stylize(style, start, end)
        return line
