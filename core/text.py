"""Text repair that remembers where every character came from.

Letters arrive as PDF-extracted text (a blank line between every line, trailing spaces, centred
headings, form feeds) or as a markdown-ish copy (``###`` headings, ``**bold**``, ``<b>`` cells
separated by tabs), often with mojibake (``Â§Â§``).  The extractor reads a *repaired* text in which
each logical line is one line, markup is gone and mojibake is fixed, but every span it proposes
must point into the *original* text so the interface can highlight it.  `repair` therefore keeps a
compact offset map: a list of segments, each either copied verbatim or replacing an original range.

Repair is one regex pass plus a join; ftfy runs only on the short non-ASCII runs (cached), because
running it on a whole letter costs milliseconds and the extractor must do ~1,000 letters a second.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import ftfy

# Within a content line (whitespace around lines is handled line by line), the edits are markup
# to drop, form feeds, non-breaking spaces and runs of non-ASCII that may be mojibake.
_LINE_EDITS = re.compile(
    r"(?P<heading>\A\#{1,6}[ \t]+)"
    r"|(?P<markup></?[bB]>|</?strong>|\*\*|__)"
    r"|(?P<ff>[\f\r\v])"
    r"|(?P<nbsp>\u00a0)"
    r"|(?P<moji>[^\x00-\x7f]+)"
)
_SPECIAL_CHARS = "<*_#\f\r\v"
_SPECIAL_RE = re.compile(r"[<*_#\f\r\v\u0080-\U0010ffff]")
_BLANK = " \t\f\r\v\u00a0"
# Whitespace around a line break, or three breaks in a row.  Led by a literal newline so the
# regex engine jumps from newline to newline (a few microseconds a letter; ``in`` tests for
# each pair took far longer on non-ASCII letters).
_UNTIDY_BREAK = re.compile(
    r"\n(?:(?<=[ \t\f\r\v\u00a0]\n)|[ \t\f\r\v\u00a0]|\n[\n \t\f\r\v\u00a0])"
)


@lru_cache(maxsize=4096)
def _fix_run(run: str) -> str:
    # Curly quotes are what the letter wrote; only the damage is undone.
    return ftfy.fix_text(run, normalization="NFC", uncurl_quotes=False)


def fix_mojibake(text: str) -> str:
    """ftfy, but only where there is something non-ASCII to look at."""
    if text.isascii():
        return text
    return re.sub(r"[^\x00-\x7f]+", lambda m: _fix_run(m.group()), text)


def _is_double_spaced(gaps: list[int]) -> bool:
    """PDF copies that put a blank line between every line: most line gaps hold two newlines."""
    single = gaps.count(1)
    double = gaps.count(2) + gaps.count(4)
    return double > 2 * single and double >= 3


@dataclass(frozen=True, slots=True)
class Repaired:
    """The repaired text and the map back to the original."""

    text: str
    original: str
    _clean_starts: tuple[int, ...]
    _orig_starts: tuple[int, ...]
    _orig_ends: tuple[int, ...]
    _copied: tuple[bool, ...]

    def to_original(self, pos: int) -> int:
        """Original offset of the repaired character at ``pos`` (start of a replaced range)."""
        return self.span(pos, pos)[0]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Half-open repaired range -> half-open original range.

        The one implementation of the map, written for speed (the extractor maps ~50 spans a
        letter, and calls to a helper per end were most of the cost): a copied segment maps
        offset for offset, a replaced one maps its start to the original's start and its end
        to the original's end.  `tests/test_properties.py` holds it to that plain statement
        (`_reference_span`) on generated letters."""
        clean = self._clean_starts
        if not clean:
            return 0, 0
        i = bisect_right(clean, start) - 1
        if i < 0:
            i = 0
        if self._copied[i]:
            first = min(self._orig_starts[i] + start - clean[i], self._orig_ends[i])
        else:
            first = self._orig_starts[i]
        if end <= start:
            return first, first
        j = bisect_right(clean, end - 1) - 1
        if j < 0:
            j = 0
        if end <= 0:
            last = 0
        elif self._copied[j]:
            last = min(self._orig_starts[j] + end - clean[j], self._orig_ends[j])
        else:
            last = self._orig_ends[j]
        return first, last if last > first else first


def _tidy_bounds(text: str) -> tuple[int, int] | None:
    """Where a letter's content starts and ends, when its line breaks need no repair.

    Most letters (plain, markdown, form feeds within lines, mojibake) have no whitespace
    around their line breaks, no run of three breaks and are not double-spaced: every break is
    kept as written, so only the lines holding markup or non-ASCII need a look.  Found with a
    few C-level scans instead of a Python loop over every line.  None when that is not so."""
    if _UNTIDY_BREAK.search(text):
        return None
    hi = len(text.rstrip(_BLANK + "\n"))
    lo = len(text) - len(text.lstrip(_BLANK + "\n"))
    if lo >= hi:
        return None
    # Every gap between content lines here is one or two newlines.
    double = text.count("\n\n", lo, hi)
    single = text.count("\n", lo, hi) - 2 * double
    if double > 2 * single and double >= 3:
        return None
    return lo, hi


class _MapBuilder:
    """The repaired text's pieces and its offset map as they are built.

    The map's segments are parallel lists; copied runs that touch are merged, so a clean
    single-spaced letter is a handful of segments and span lookups stay cheap."""

    __slots__ = ("clean_len", "clean_starts", "copied", "orig_ends", "orig_starts", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.clean_starts: list[int] = []
        self.orig_starts: list[int] = []
        self.orig_ends: list[int] = []
        self.copied: list[bool] = []
        self.clean_len = 0

    def emit(self, piece: str, o_start: int, o_end: int, is_copy: bool) -> None:
        """Append ``piece``, which stands for ``original[o_start:o_end]``."""
        copied = self.copied
        if is_copy and copied and copied[-1] and self.orig_ends[-1] == o_start:
            self.orig_ends[-1] = o_end
        else:
            self.clean_starts.append(self.clean_len)
            self.orig_starts.append(o_start)
            self.orig_ends.append(o_end)
            copied.append(is_copy)
        self.parts.append(piece)
        self.clean_len += len(piece)

    def edit(self, line: str, start: int) -> None:
        """Append the line at ``start`` with markup dropped and mojibake fixed."""
        last = 0
        for m in _LINE_EDITS.finditer(line):
            m_start, m_end = m.span()
            kind = m.lastgroup
            if kind == "moji":
                replacement = _fix_run(m.group())
            elif kind == "nbsp":
                replacement = " "
            else:
                replacement = ""
            if replacement == m.group():
                continue
            if m_start > last:
                self.emit(line[last:m_start], start + last, start + m_start, True)
            if replacement:
                self.emit(replacement, start + m_start, start + m_end, False)
            last = m_end
        if last < len(line):
            self.emit(line[last:], start + last, start + len(line), True)

    def result(self, original: str) -> Repaired:
        return Repaired(
            "".join(self.parts),
            original,
            tuple(self.clean_starts),
            tuple(self.orig_starts),
            tuple(self.orig_ends),
            tuple(self.copied),
        )


def repair(original: str) -> Repaired:
    """Repair ``original`` into one-logical-line-per-line text, keeping an offset map.

    Works line by line (a Python loop over ~200 lines is cheaper than one regex pass with many
    alternatives over every character); only lines holding markup or non-ASCII get a regex.
    (Measured: a single ``finditer`` over whitespace gaps was three times slower.)  Letters
    whose line breaks are already tidy skip the loop (`_tidy_bounds`).
    """
    out = _MapBuilder()
    plain = original.isascii() and not any(c in original for c in _SPECIAL_CHARS)
    tidy = _tidy_bounds(original)
    if tidy is not None:
        _repair_tidy(original, *tidy, plain, out)
    else:
        _repair_loose(original, plain, out)
    return out.result(original)


def _repair_tidy(original: str, lo: int, hi: int, plain: bool, out: _MapBuilder) -> None:
    """A letter whose breaks are kept as written: copy ``original[lo:hi]``, editing only the
    lines that hold a special character."""
    search_special = _SPECIAL_RE.search
    copied_to = lo
    found = None if plain else search_special(original, lo, hi)
    while found is not None:
        at = found.start()
        start = original.rfind("\n", lo, at) + 1 or lo
        end = original.find("\n", at, hi)
        if end < 0:
            end = hi
        if start > copied_to:
            out.emit(original[copied_to:start], copied_to, start, True)
        out.edit(original[start:end], start)
        copied_to = end
        found = search_special(original, end, hi)
    if copied_to < hi:
        out.emit(original[copied_to:hi], copied_to, hi, True)


def _content_lines(original: str) -> tuple[list[tuple[int, int]], list[int]]:
    """Content lines as (start, end) in the original, trimmed of surrounding whitespace, and
    the number of newlines between each content line and the next."""
    lines: list[tuple[int, int]] = []
    gaps: list[int] = []
    pos = 0
    newlines = 0
    for raw in original.split("\n"):
        stripped = raw.strip(_BLANK)
        if stripped:
            lead = raw.index(stripped[0])
            if lines:
                gaps.append(newlines)
            lines.append((pos + lead, pos + lead + len(stripped)))
            newlines = 0
        pos += len(raw) + 1
        newlines += 1
    return lines, gaps


def _repair_loose(original: str, plain: bool, out: _MapBuilder) -> None:
    """A letter whose breaks need repair: each content line trimmed, each gap between lines
    one break (two for a paragraph, judged against the letter's own spacing).

    The map is appended to inline here, not through `_MapBuilder.emit`: a double-spaced PDF
    has a segment or two a line and the method calls were most of the loop's cost.  Only
    lines with edits go through `_MapBuilder.edit`, with the running length handed over."""
    lines, gaps = _content_lines(original)
    parts, copied = out.parts, out.copied
    clean_starts, orig_starts, orig_ends = out.clean_starts, out.orig_starts, out.orig_ends
    clean_len = out.clean_len
    search_special = _SPECIAL_RE.search
    # Only the next special character at or after the current line is ever needed, so it is
    # searched for again only once a line has passed it: one search per line with edits, not a
    # match object per special character (letters full of curly quotes or mojibake).
    beyond = len(original) + 1
    special = beyond if plain else -1
    threshold = 3 if _is_double_spaced(gaps) else 2
    previous_end = 0
    for i, (start, end) in enumerate(lines):
        if i:
            breaks = "\n\n" if gaps[i - 1] >= threshold else "\n"
            as_written = original[previous_end:start] == breaks
            if as_written and copied and copied[-1] and orig_ends[-1] == previous_end:
                # The break as written, merged into the copy before it.
                orig_ends[-1] = start
            else:
                # A new segment either way.
                clean_starts.append(clean_len)
                orig_starts.append(previous_end)
                orig_ends.append(start)
                copied.append(as_written)
            parts.append(breaks)
            clean_len += len(breaks)
        previous_end = end
        line = original[start:end]
        if special < start:
            found = search_special(original, start)
            special = found.start() if found else beyond
        if special >= end:
            # The hot path: a line copied as is, merged into the previous copy.
            if copied and copied[-1] and orig_ends[-1] == start:
                orig_ends[-1] = end
            else:
                clean_starts.append(clean_len)
                orig_starts.append(start)
                orig_ends.append(end)
                copied.append(True)
            parts.append(line)
            clean_len += end - start
            continue
        out.clean_len = clean_len
        out.edit(line, start)
        clean_len = out.clean_len
    out.clean_len = clean_len


# A line ending in a hyphen right after a word ("FDA-", "127--") joins the next line unspaced.
_HYPHEN_BREAK = re.compile(r"(?<=\S-)\n")


def fold(text: str) -> str:
    """Line breaks and runs of whitespace to one space; a hyphen at a line end joins its words."""
    if "-\n" in text:
        text = _HYPHEN_BREAK.sub("", text)
    return " ".join(text.split())
