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
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from imrgold.core.models import Span
from imrgold.core.text import soft_breaks

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

    def show_letter(self, text: str) -> None:
        shown = display_text(text)
        self._line_starts = [0] + [i + 1 for i, c in enumerate(shown) if c == "\n"]
        self._styles, self._marks, self._mark = {}, {}, None
        self.load_text(shown)

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
        self._styles = styles
        self._redraw()

    def mark(self, spans: Iterable[Span]) -> None:
        """Mark the focused field's spans and scroll the first into view."""
        spans = [s for s in spans if s.end > s.start]
        self._mark = spans[0] if spans else None
        self._marks = {}
        for span in spans:
            self._add(self._marks, span, MARK_STYLE)
        self._redraw()
        if self._mark is not None:
            self.scroll_to_line(self.location(self._mark.start)[0])

    def scroll_to_line(self, row: int) -> None:
        # Centre the span so the annotator sees the sentence around it.
        y = self.wrapped_document.location_to_offset((row, 0)).y
        height = self.scrollable_content_region.height or 1
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

    def _redraw(self) -> None:
        self._line_cache.clear()  # TextArea caches rendered lines; our styles are not in its key
        self.refresh()

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        for start, end, style in self._styles.get(line_index, ()):
            line.stylize(style, start, end)
        for start, end, style in self._marks.get(line_index, ()):
            line.stylize(style, start, end)
        return line
