"""The letter as the reading pane shows it: paragraphs reflowed, markup hidden, offsets exact.

Spans index into the letter as ingested, but that text is poor reading in a pane half a screen
wide: a PDF's lines are cut at ~95 columns, text copies put a blank line after every line, and
some copies carry markdown or HTML (``<b>Case Number:</b>``, ``### CLINICAL CASE SUMMARY``).
`shown_text` builds the text to show and a map both ways between its offsets and the letter's:
a break that only wraps a paragraph becomes one space, a blank line that only double-spaces the
letter goes, and markup is dropped, so every span still lands on exactly the characters it names.

The map is a short list of runs (each a stretch of the letter shown unchanged, or one space
standing for a break), so building it costs one pass over the lines, not one step a character.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

# str.splitlines() breaks on these too; the pane would turn each into a line of its own.
_OTHER_BREAKS = str.maketrans({c: " " for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})

# What starts a new paragraph of a letter even right after a long line: its labels and
# headings ("Decision rationale:", "MAXIMUS guideline:", "IMR ISSUES, DECISIONS ...").
_PARAGRAPH_START = re.compile(
    r"[ \t]*(?:[A-Z][A-Za-z()/ .'&-]{0,40}:|[A-Z][A-Z ,&/]{6,}$|\d{1,2}[.)]\s|[-*•]\s)"
)
# A hard-wrapped letter's lines (PDF text, typed copies of it) run 50-110 characters.
_WRAPPED_MIN, _WRAPPED_MAX = 50, 110
# Markup a text copy may carry: HTML emphasis and breaks, markdown headings and emphasis.
_LINE_BREAK = re.compile("\n")
_MARKUP = re.compile(r"</?(?:b|i|u|em|strong)>|<br\s*/?>|^#{1,6}[ \t]+|\*\*|__", re.I | re.M)


@dataclass(frozen=True)
class ShownText:
    """The text shown and its map to the letter: run ``k`` shows ``lengths[k]`` characters
    from ``shown_starts[k]`` on, standing for the letter's characters from
    ``letter_starts[k]`` on (a one-character run may stand for a whole break)."""

    text: str
    shown_starts: tuple[int, ...]
    letter_starts: tuple[int, ...]
    lengths: tuple[int, ...]
    letter_length: int
    line_starts: tuple[int, ...]
    """Where each line of the shown text starts."""

    def to_letter(self, offset: int) -> int:
        """The letter's offset of the shown character at ``offset`` (the end maps to the end)."""
        if offset >= len(self.text):
            return self.letter_length
        run = bisect.bisect_right(self.shown_starts, offset) - 1
        return self.letter_starts[run] + min(offset - self.shown_starts[run], self.lengths[run])

    def to_shown(self, offset: int) -> int:
        """Where the letter's ``offset`` shows; a hidden character maps to the next shown one,
        so a span's start and (exclusive) end both map with this one function."""
        run = bisect.bisect_right(self.letter_starts, offset) - 1
        if run < 0:
            return 0
        inside = offset - self.letter_starts[run]
        if inside < self.lengths[run]:
            return self.shown_starts[run] + inside
        return self.shown_starts[run] + self.lengths[run]

    def span_to_letter(self, start: int, end: int) -> tuple[int, int]:
        """A stretch of the shown text as the letter's span (its last character included)."""
        if end <= start:
            at = self.to_letter(start)
            return at, at
        return self.to_letter(start), self.to_letter(end - 1) + 1


def shown_text(text: str, *, clean: bool = True) -> ShownText:
    """The letter as the pane shows it; ``clean=False`` shows every character as ingested (other
    line breaks as spaces only), for an annotator checking what the machine read."""
    lines = list(_lines(text))  # read before the translation: a page starts with "\f"
    text = text.translate(_OTHER_BREAKS)
    builder = _Builder(len(text))
    if not clean:
        builder.keep(text, 0, len(text))
        return builder.done()
    wrapped = _hard_wrapped(lines)
    # One paragraph a line with blank lines between (a markdown copy) is not double spacing.
    double = wrapped and _double_spaced(lines)
    previous: _Line | None = None
    blanks = 0
    for line in lines:
        if not line.body.strip():
            blanks += 1
            continue
        if previous is not None:
            # A double-spaced letter's lone blank line is no gap; any gap shows as one blank line.
            gap = max(blanks - 1, 0) if double else blanks
            if gap <= 0 and wrapped and _continues(previous, line):
                builder.space(previous.end_of_body)
            else:
                builder.breaks(previous.end, min(gap, 1) + 1)
        _keep_line(builder, text, line, strip_start=previous is not None and builder.joined)
        previous, blanks = line, 0
    return builder.done()


@dataclass(frozen=True)
class _Line:
    start: int
    end: int  # the offset of its "\n" (or the text's end)
    body: str

    @property
    def end_of_body(self) -> int:
        """The offset just after its last non-blank character."""
        return self.start + len(self.body.rstrip())


def _lines(text: str) -> Iterator[_Line]:
    start = 0
    for body in text.split("\n"):
        yield _Line(start, start + len(body), body)
        start += len(body) + 1


def _double_spaced(lines: list[_Line]) -> bool:
    """Most lines of text followed by exactly one blank line and then text: a copy that put a
    blank line after every line of the letter."""
    filled = [bool(line.body.strip()) for line in lines]
    texts = sum(filled)
    if texts < 6:
        return False
    lone = sum(
        1 for i in range(len(filled) - 2) if filled[i] and not filled[i + 1] and filled[i + 2]
    )
    return lone >= 0.6 * texts


def _hard_wrapped(lines: list[_Line]) -> bool:
    """Most long lines are of a wrapped width (not one paragraph a line, as a markdown copy)."""
    long_lines = [n for n in (len(line.body.rstrip()) for line in lines) if n >= 40]
    return bool(long_lines) and sum(n <= _WRAPPED_MAX for n in long_lines) >= 0.8 * len(long_lines)


def _continues(previous: _Line, line: _Line) -> bool:
    """The break between two lines only wraps a paragraph: the first is a wrapped line that does
    not end a label, and the second does not start a label, heading or list entry."""
    body = previous.body.rstrip()
    return (
        _WRAPPED_MIN <= len(body) <= _WRAPPED_MAX
        and not body.endswith(":")
        and not line.body.startswith("\f")
        and not _PARAGRAPH_START.match(line.body)
    )


def _keep_line(builder: _Builder, text: str, line: _Line, *, strip_start: bool) -> None:
    """Show one line's text without its markup (and, continuing a paragraph, its indent)."""
    start = line.start
    if strip_start:
        start += len(line.body) - len(line.body.lstrip())
    end = line.end_of_body
    for found in _MARKUP.finditer(text, start, end):
        builder.keep(text, start, found.start())
        start = found.end()
    builder.keep(text, start, end)


class _Builder:
    """Collects the shown text run by run."""

    def __init__(self, letter_length: int) -> None:
        self.pieces: list[str] = []
        self.shown_starts: list[int] = []
        self.letter_starts: list[int] = []
        self.lengths: list[int] = []
        self.length = 0
        self.letter_length = letter_length
        self.joined = False  # the last thing added was a space joining two lines

    def _run(self, piece: str, letter_start: int) -> None:
        self.pieces.append(piece)
        self.shown_starts.append(self.length)
        self.letter_starts.append(letter_start)
        self.lengths.append(len(piece))
        self.length += len(piece)

    def keep(self, text: str, start: int, end: int) -> None:
        if end > start:
            self._run(text[start:end], start)
            self.joined = False

    def space(self, at: int) -> None:
        """One space for the break (and the blanks around it) from the letter's ``at`` on."""
        self._run(" ", at)
        self.joined = True

    def breaks(self, at: int, count: int) -> None:
        """``count`` line breaks for the break from the letter's ``at`` on."""
        self._run("\n" * count, at)
        self.joined = False

    def done(self) -> ShownText:
        text = "".join(self.pieces)
        return ShownText(
            text,
            tuple(self.shown_starts),
            tuple(self.letter_starts),
            tuple(self.lengths),
            self.letter_length,
            (0, *(found.end() for found in _LINE_BREAK.finditer(text))),
        )
