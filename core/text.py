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

# One pass over the original finds every edit.  Order of the alternatives matters: a gap (a run
# of whitespace holding at least one newline) swallows the trailing spaces before it and the
# indentation and form feeds after it.
_EDITS = re.compile(
    r"(?P<gap>[ \t\f\r\v\u00a0]*\n[ \t\f\r\v\n\u00a0]*)"
    r"|(?P<lead>\A[ \t\f\r\v\u00a0]+)"
    r"|(?P<tail>[ \t\f\r\v\u00a0]+\Z)"
    r"|(?P<heading>(?m:^)\#{1,6}[ \t]+)"
    r"|(?P<markup></?[bB]>|</?strong>|\*\*|__)"
    r"|(?P<ff>[\f\r\v])"
    r"|(?P<nbsp>\u00a0)"
    r"|(?P<moji>[^\x00-\x7f]+)"
)


@lru_cache(maxsize=4096)
def _fix_run(run: str) -> str:
    return ftfy.fix_text(run, normalization="NFC")


def fix_mojibake(text: str) -> str:
    """ftfy, but only where there is something non-ASCII to look at."""
    if text.isascii():
        return text
    return re.sub(r"[^\x00-\x7f]+", lambda m: _fix_run(m.group()), text)


def _is_double_spaced(original: str) -> bool:
    """PDF copies that put a blank line between every line: most line gaps hold two newlines."""
    single = double = 0
    for m in re.finditer(r"\n[ \t\f\r\u00a0]*(\n[ \t\f\r\u00a0]*)*", original):
        n = m.group().count("\n")
        if n == 1:
            single += 1
        elif n in (2, 4):
            double += 1
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
        if not self._clean_starts:
            return 0
        i = max(bisect_right(self._clean_starts, pos) - 1, 0)
        if self._copied[i]:
            return min(self._orig_starts[i] + pos - self._clean_starts[i], self._orig_ends[i])
        return self._orig_starts[i]

    def _end_to_original(self, end: int) -> int:
        if end <= 0 or not self._clean_starts:
            return 0
        i = max(bisect_right(self._clean_starts, end - 1) - 1, 0)
        if self._copied[i]:
            return min(self._orig_starts[i] + end - self._clean_starts[i], self._orig_ends[i])
        return self._orig_ends[i]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Half-open repaired range -> half-open original range."""
        if end <= start:
            pos = self.to_original(start)
            return pos, pos
        return self.to_original(start), max(self._end_to_original(end), self.to_original(start))


def repair(original: str) -> Repaired:
    """Repair ``original`` into one-logical-line-per-line text, keeping an offset map."""
    double = _is_double_spaced(original)
    parts: list[str] = []
    clean_starts: list[int] = []
    orig_starts: list[int] = []
    orig_ends: list[int] = []
    copied: list[bool] = []
    clean_len = 0
    last = 0

    def emit(piece: str, ostart: int, oend: int, is_copy: bool) -> None:
        nonlocal clean_len
        if not piece:
            return
        parts.append(piece)
        clean_starts.append(clean_len)
        orig_starts.append(ostart)
        orig_ends.append(oend)
        copied.append(is_copy)
        clean_len += len(piece)

    for m in _EDITS.finditer(original):
        start, end = m.span()
        if start > last:
            emit(original[last:start], last, start, True)
        kind = m.lastgroup
        if kind == "gap":
            if start == 0 or end == len(original):
                replacement = ""
            else:
                n = m.group().count("\n")
                replacement = "\n" * (max(1, n // 2) if double else min(n, 2))
                replacement = replacement if len(replacement) <= 2 else "\n\n"
        elif kind == "moji":
            replacement = _fix_run(m.group())
        elif kind == "nbsp":
            replacement = " "
        else:
            replacement = ""
        emit(replacement, start, end, replacement == m.group())
        last = end
    if last < len(original):
        emit(original[last:], last, len(original), True)
    return Repaired(
        "".join(parts),
        original,
        tuple(clean_starts),
        tuple(orig_starts),
        tuple(orig_ends),
        tuple(copied),
    )


# A line ending in a hyphen right after a word ("FDA-", "127--") joins the next line unspaced.
_FOLD = re.compile(r"(?P<join>(?<=\S-)\n)|\s+")


def fold(text: str) -> str:
    """Line breaks and runs of whitespace to one space; a hyphen at a line end joins its words."""
    return _FOLD.sub(lambda m: "" if m.group("join") else " ", text).strip()
