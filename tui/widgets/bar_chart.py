"""Horizontal bar charts drawn with block characters: one line a bar, its label, its parts
stacked in the theme's colours (each part with its own glyph too, for a terminal without
colour), a note, and optionally a trend drawn as one block a period.

A `Static` would fix the bars' length when it is built; this draws them for the width it has,
so the same chart fits a 120- and an 80-column terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

GLYPHS = ("█", "▒", "░")
"""The glyph of each stacked part."""
LEVELS = "▁▂▃▄▅▆▇█"
GAP = "·"
"""A period without data in a trend."""
LABEL_MAX = 24
BAR_MIN = 8


@dataclass(frozen=True)
class Bar:
    label: str
    parts: tuple[float, ...]
    note: str = ""
    trend: tuple[float | None, ...] = ()  # shares in [0, 1], one a period


def cells(parts: Sequence[float], scale: float, width: int) -> list[int]:
    """How many cells each part takes when ``scale`` fills ``width``: rounded on the running
    sum, so the parts add up to the rounded whole and a small part is not lost to rounding
    twice."""
    if scale <= 0 or width <= 0:
        return [0] * len(parts)
    out, running, drawn = [], 0.0, 0
    for part in parts:
        running += part
        end = round(min(running, scale) / scale * width)
        out.append(end - drawn)
        drawn = end
    return out


def trend_text(values: Sequence[float | None]) -> str:
    return "".join(
        GAP if v is None else LEVELS[min(len(LEVELS) - 1, int(v * len(LEVELS)))] for v in values
    )


class BarChart(Widget):
    """``bars`` drawn to the widget's width; ``relative``: each bar its own whole (shares),
    else every bar against the longest (counts)."""

    COMPONENT_CLASSES = {
        "bar-chart--label",
        "bar-chart--part-0",
        "bar-chart--part-1",
        "bar-chart--part-2",
        "bar-chart--note",
        "bar-chart--trend",
    }
    DEFAULT_CSS = """
    BarChart {
        height: auto;
    }
    BarChart > .bar-chart--label {
        color: $text;
    }
    BarChart > .bar-chart--part-0 {
        color: $success;
    }
    BarChart > .bar-chart--part-1 {
        color: $error;
    }
    BarChart > .bar-chart--part-2 {
        color: $text-muted;
    }
    BarChart > .bar-chart--note {
        color: $text-muted;
    }
    BarChart > .bar-chart--trend {
        color: $accent;
    }
    """

    def __init__(
        self,
        bars: Sequence[Bar],
        *,
        relative: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.bars = list(bars)
        self.relative = relative

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.bars)

    def render(self) -> RenderResult:
        label_width = min(LABEL_MAX, max((len(b.label) for b in self.bars), default=0))
        note_width = max((len(b.note) for b in self.bars), default=0)
        trend_width = max((len(b.trend) for b in self.bars), default=0)
        extras = (note_width + 1 if note_width else 0) + (trend_width + 1 if trend_width else 0)
        bar_width = max(BAR_MIN, self.content_size.width - label_width - 1 - extras)
        longest = max((sum(b.parts) for b in self.bars), default=0)
        text = Text(no_wrap=True, overflow="ellipsis")
        for n, bar in enumerate(self.bars):
            if n:
                text.append("\n")
            text.append(_fit(bar.label, label_width), self._style("label"))
            text.append(" ")
            scale = sum(bar.parts) if self.relative else longest
            counts = cells(bar.parts, scale, bar_width)
            for i, count in enumerate(counts):
                text.append(GLYPHS[i % len(GLYPHS)] * count, self._style(f"part-{i % 3}"))
            text.append(" " * (bar_width - sum(counts)))
            if note_width:
                text.append(" " + bar.note.rjust(note_width), self._style("note"))
            if trend_width:
                text.append(" " + trend_text(bar.trend).ljust(trend_width), self._style("trend"))
        return text

    def _style(self, part: str) -> Style:
        return self.get_component_rich_style(f"bar-chart--{part}")


def _fit(label: str, width: int) -> str:
    """The label padded to ``width``, or cut with an ellipsis."""
    if len(label) <= width:
        return label.ljust(width)
    return label[: width - 1] + "…"
