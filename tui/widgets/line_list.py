"""A list with a header line and a cursor that renders only the lines on screen.

`DataTable` measures every cell when rows are added and repaints through Rich for each cell;
for the queue (thousands of letters) and the fields of a letter (hundreds of rows, refilled on
every letter) drawing the visible lines straight from `Text` is many times cheaper.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from imrgold.tui.widgets.sizing import set_content_size


class LineList(ScrollView):
    """Subclasses give `header_line` and `line` and say how many rows there are (`set_rows`)."""

    COMPONENT_CLASSES = {"line-list--header", "line-list--cursor"}
    DEFAULT_CSS = """
    LineList > .line-list--header { background: $panel; text-style: bold; }
    LineList > .line-list--cursor { background: $accent 40%; }
    LineList:focus > .line-list--cursor { background: $accent; }
    """

    # No repaint of its own: the watcher redraws the two rows the cursor left and reached
    # (a whole list drawn again on every cursor move was most of a step's drawing).
    cursor_row: reactive[int] = reactive(0, init=False, repaint=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row_count = 0
        self._content_width = 0

    # -- what subclasses provide -------------------------------------------------------------

    def header_line(self, width: int) -> Text:
        raise NotImplementedError

    def line(self, row: int, width: int) -> Text:
        raise NotImplementedError

    # -- rows and cursor -------------------------------------------------------------------

    def set_rows(self, count: int, cursor: int = 0, content_width: int = 0) -> None:
        self.row_count, self._content_width = count, content_width
        # The list's size never depends on its rows: they are only how far it scrolls.
        set_content_size(self, Size(content_width, count + 1))
        self.set_reactive(LineList.cursor_row, max(0, min(cursor, count - 1)))
        if self.scroll_offset.y > self.max_scroll_y:  # fewer rows than before: none past the end
            self.scroll_to(y=self.max_scroll_y, animate=False)
        self.scroll_to_cursor()
        self.refresh()

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self.cursor_row = max(0, min(row, self.row_count - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.scroll_to_cursor()
        self.refresh_row(old)
        self.refresh_row(new)

    def on_resize(self, event: events.Resize) -> None:
        # Shorter now (a smaller terminal): the cursor stays in view.
        self.scroll_to_cursor()

    def refresh_row(self, row: int) -> None:
        y = row - self.scroll_offset.y + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def page_size(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    clear_bottom = 0
    """Lines at the bottom the cursor keeps out of (something floats over them)."""

    def scroll_to_cursor(self) -> None:
        top = self.scroll_offset.y
        page = max(1, self.page_size() - self.clear_bottom)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False)

    def row_at(self, y: int) -> int | None:
        row = self.scroll_offset.y + y - 1
        return row if y >= 1 and 0 <= row < self.row_count else None

    def on_click(self, event: events.Click) -> None:
        row = self.row_at(event.y)
        if row is not None:
            self.move_cursor(row=row)

    # -- rendering -------------------------------------------------------------------------

    _base: Style | None = None

    def _base_style(self) -> Style:
        # `rich_style` walks every ancestor's styles; a refill draws thirty-odd lines at once.
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def notify_style_update(self) -> None:
        self._base = None  # a theme, class or focus change: read it again
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self._base_style()
        if y == 0:
            text = self.header_line(max(width, self._content_width))
            style = base + self.get_component_rich_style("line-list--header")
        else:
            row = scroll_y + y - 1
            if row >= self.row_count:
                return Strip.blank(width, base)
            text = self.line(row, max(width, self._content_width))
            style = base
            if row == self.cursor_row:
                style = base + self.get_component_rich_style("line-list--cursor")
        strip = Strip(text.render(self.app.console))
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width).apply_style(style)
