"""A widget's scrollable size set without laying out the screen.

`Widget.virtual_size` is a layout reactive: setting it re-lays out (and repaints) the whole
screen.  For a box whose own size never depends on its content (the one-line and prose boxes,
the letter, the field list), a new content size only changes how far it scrolls, which
scrolling reads directly; at every field or letter loaded that layout cost tens of ms.  A
scrollbar coming or going still asks for a layout (`_refresh_scrollbars`).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


def set_content_size(widget: Widget, size: Size) -> None:
    widget.set_reactive(Widget.virtual_size, size)
    widget._refresh_scrollbars()
    widget.refresh()
