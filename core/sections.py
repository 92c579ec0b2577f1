"""The parts of a letter, found in its repaired text: header, reviewer, summary, item blocks.

Everything here works on `core.text.Repaired.text` (one logical line a line, markup gone) and
returns half-open ranges into it; the extractor maps them back to the original at the end.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

_HOW = re.compile(r"^[ \t]*HOW\s+THE\s+IMR\s+FINAL\s+DETERMINATION\s+WAS\s+MADE\b.*$", re.M | re.I)
_SUMMARY = re.compile(
    r"^[ \t]*(?:CLINICAL\s+(?:CASE\s+)?SUMMARY|(?:Expert\s+)?Reviewer\s+Case\s+Summary)\b.*$",
    re.M | re.I,
)
_ISSUES = re.compile(r"^[ \t]*IMR\s+ISSUES?,?\s+DECISIONS?\b.*$", re.M | re.I)
# The same headings led by the newline before them: a literal first character lets the regex
# engine jump from line to line instead of trying ``^`` at every character (several times
# faster on a whole letter).  `_search_line_start` puts the two together.
_SUMMARY_AFTER_BREAK = re.compile("\n" + _SUMMARY.pattern[1:], re.M | re.I)
_ISSUES_AFTER_BREAK = re.compile("\n" + _ISSUES.pattern[1:], re.M | re.I)
_INTRO = re.compile(r"set\s+forth\s+below\s*:?[ \t]*$", re.M | re.I)

# A decision closes an item heading: "X: Upheld", "X is: Overturned", "X:" then "Upheld" alone.
# The decision word at a line end is found first (a cheap scan), the colon or "is" before it
# checked by hand.
# Read as ``(?P<decision>Upheld|Overturned|UPHELD|...)\b[ \t.]*$`` (tests/test_extract_rules.py
# holds `_decision_words` to that alternation), as one pattern a spelling: each has a literal
# prefix the engine finds fast, and together they take half the time of the alternation.
_DECISION_WORDS = tuple(
    re.compile(rf"(?P<decision>{word})\b[ \t.]*$", re.M)
    for word in ("Upheld", "Overturned", "UPHELD", "OVERTURNED", "upheld", "overturned")
)
_IS_BEFORE = re.compile(r"\s+(?:is|are)\s*$", re.I)
# Tolerant of OCR slips ("Claims Adminstrator", "Decision rational"): a label confirms a heading.
_LABEL = re.compile(
    r"^(?:Claims\s+Admin\w*\s+guide\w*|MAXIMUS\s+guide\w*|Decision\s+rational\w*)\s*:",
    re.I,
)
# The three labels of an item block, found in one scan of the issues section.  The first
# letters (2013) say "Guidelines Used in Decision:" and "Rationale for the Decision:".
# Labels open lines; a PDF copy may run one on after the previous paragraph, so when the
# line-start scan (5x cheaper) misses some, the whole section is scanned.
_LINE_LABEL_START = r"^"
_MID_LABEL_START = r"(?<![\w-])"
_LABEL_BODY = (
    r"(?:(?P<maximus>MAXIMUS\s+guide\w*|Guidelines?(?:/Evidence)?\s+Used\s+in\s+(?:the\s+)?Decision)"
    r"|(?P<rationale>Decision\s+rational\w*|Rationale\s+for\s+the\s+Decision)"
    r"|(?P<claims>Claims\s+Admin\w*\s+guide\w*))\s*:"
)
_BLOCK_LABEL = re.compile(_MID_LABEL_START + _LABEL_BODY, re.M | re.I)
_LINE_LABEL = re.compile(_LINE_LABEL_START + _LABEL_BODY, re.M | re.I)
_LABEL_AT = re.compile(_LABEL_BODY, re.I)
_LABEL_AFTER_BREAK = re.compile("\n" + _LABEL_BODY, re.I)
# The 2013 wording: "1. Omeprazole 20mg #60 is not medically necessary and appropriate."
_NECESSITY_ITEM = re.compile(
    # At most six lines of request: an unbounded lazy span made long numbered lists quadratic.
    r"^[ \t]*\d{1,2}[.)][ \t]+(?P<request>[^\n]{1,400}?(?:\n[^\n]{1,400}?){0,5}?)"
    r"\s+(?:is|are|was|were)\s+"
    r"(?P<decision>(?P<not>not\s+)?medically\s+necessary(?:\s+and\s+appropriate)?)\.?[ \t]*$",
    re.M | re.I,
)
_SENTENCE_END = re.compile(r"""[.!?]["'”’)\]]*$""")
# A partial certification opens with "X was the original request." on a line of its own when the
# sentence fills the line: that full stop does not end the heading above.
_PREAMBLE_FIRST = re.compile(r"\bwas\s+the\s+original\s+request\.\s*$", re.I)
_MAX_HEADING_LINES = 6


@dataclass(frozen=True, slots=True)
class Sections:
    header: tuple[int, int]
    reviewer: tuple[int, int]
    summary: tuple[int, int]
    issues: tuple[int, int]


@dataclass(frozen=True, slots=True)
class ItemBlock:
    heading: tuple[int, int]  # heading text, decision excluded
    decision: str
    decision_span: tuple[int, int]
    maximus: tuple[int, int] | None  # text of the MAXIMUS guideline paragraph
    rationale: tuple[int, int] | None  # text after "Decision rationale:"
    labelled: bool  # a guideline/rationale label follows the heading: a sure item


def _search_line_start(
    anchored: re.Pattern[str], after_break: re.Pattern[str], text: str
) -> tuple[int, int] | None:
    """``anchored.search(text).span()``, for a pattern opening with ``^`` (multiline), found
    with ``after_break`` (the same pattern led by a newline instead)."""
    m = anchored.match(text)
    if m:
        return m.span()
    m = after_break.search(text)
    return (m.start() + 1, m.end()) if m else None


def find_sections(text: str) -> Sections:
    n = len(text)
    how = _HOW.search(text)
    summary = _search_line_start(_SUMMARY, _SUMMARY_AFTER_BREAK, text)
    issues = _search_line_start(_ISSUES, _ISSUES_AFTER_BREAK, text)
    how_start = how.start() if how else None
    summary_start = summary[0] if summary else None
    issues_start = issues[0] if issues else None

    header_end = how_start if how_start is not None else summary_start
    if header_end is None:
        header_end = min(n, 600)
    reviewer = (how.end() if how else 0, summary_start if summary_start is not None else header_end)
    if not how:
        reviewer = (0, summary_start if summary_start is not None else n)
    summary_range = (
        summary[1] if summary else reviewer[1],
        issues_start if issues_start is not None else n,
    )
    issues_range = (issues[1] if issues else summary_range[0], n)
    return Sections((0, header_end), reviewer, summary_range, issues_range)


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _heading_start(text: str, last_line_start: int, floor: int) -> int:
    """Walk back from the heading's last line while the lines above still belong to it."""
    start = last_line_start
    for _ in range(_MAX_HEADING_LINES - 1):
        if start <= floor:
            return floor
        prev_end = start - 1  # the newline ending the previous line
        prev_start = _line_start(text, prev_end)
        line = text[prev_start:prev_end].strip()
        if (
            not line
            or (_SENTENCE_END.search(line) and not _PREAMBLE_FIRST.search(line))
            or _LABEL.match(line)
            or _INTRO.search(line)
            or _ISSUES.match(line)
        ):
            return start
        start = prev_start
    return start


# A partial certification's heading ("The remaining IMR eligible portion of the original request,
# Z, is: Upheld") comes after a preamble of whole sentences ("X was the original request. Y was
# authorized by the Claims Administrator."), which the walk up the lines stops inside.
_REMAINING = re.compile(r"\bremaining\b|\bIMR\s+eligible\b", re.I)
_ORIGINAL_SENTENCE = re.compile(r"\bwas\s+the\s+original\s+request\b", re.I)
_PREAMBLE_REACH = 600


def _preamble_start(text: str, start: int, heading_end: int, floor: int) -> int:
    """Where a partial certification's heading starts: at the line of its "was the original
    request" sentence when the heading found so far has the remaining portion but not it."""
    heading = text[start:heading_end]
    if not _REMAINING.search(heading) or _ORIGINAL_SENTENCE.search(heading):
        return start
    reach = max(floor, start - _PREAMBLE_REACH)
    sentences = list(_ORIGINAL_SENTENCE.finditer(text, reach, start))
    if not sentences:
        return start
    return _heading_start(text, _line_start(text, sentences[-1].start()), floor)


def _heading_end(text: str, decision_at: int, floor: int) -> tuple[int, bool]:
    """Where the heading before a decision word ends, and whether a ':' or 'is' introduces
    the decision (without one, only a label right after makes it a heading)."""
    j = decision_at
    while j > floor and text[j - 1] in " \t":
        j -= 1
    newlines = 0
    while j > floor and text[j - 1] == "\n" and newlines < 2:
        j -= 1
        newlines += 1
        while j > floor and text[j - 1] in " \t":
            j -= 1
    window_start = max(floor, j - 40)
    if j > floor and text[j - 1] == ":":
        j -= 1
        m = _IS_BEFORE.search(text, window_start, j)
        return (m.start() if m else j), True
    m = _IS_BEFORE.search(text, window_start, j)
    return (m.start(), True) if m else (j, False)


def find_items(text: str, issues: tuple[int, int]) -> list[ItemBlock]:
    lo, hi = issues
    intro = _INTRO.search(text, lo, hi)
    floor = intro.end() + 1 if intro else lo
    heads: list[tuple[int, int, int, str, tuple[int, int], bool]] = []
    for m in _decision_words(text, floor, hi):
        heading_end, introduced = _heading_end(text, m.start(), floor)
        last_line = _line_start(text, heading_end)
        if heading_end <= floor or _LABEL.match(text[last_line:heading_end].lstrip()):
            continue
        after = text[m.end() : m.end() + 200].lstrip()
        labelled = bool(_LABEL.match(after))
        if not (introduced or labelled):
            continue
        start = _preamble_start(text, _heading_start(text, last_line, floor), heading_end, floor)
        heads.append(
            (start, heading_end, m.end(), m.group("decision").lower(), m.span("decision"), labelled)
        )
    # When some headings are confirmed by a following label, unconfirmed ones are prose.
    if any(h[5] for h in heads):
        heads = [h for h in heads if h[5]]
    if not heads:
        heads = _necessity_items(text, floor, hi)
    labels = _labels(text, lo, hi, len(heads))
    blocks: list[ItemBlock] = []
    for i, (start, heading_end, body, decision, dspan, labelled) in enumerate(heads):
        # The next block starts at its heading's line (a numbered item's number included).
        end = _line_start(text, heads[i + 1][0]) if i + 1 < len(heads) else hi
        blocks.append(
            ItemBlock(
                heading=(start, heading_end),
                decision=decision,
                decision_span=dspan,
                maximus=_labelled_range(labels, "maximus", body, end),
                rationale=_labelled_range(labels, "rationale", body, end),
                labelled=labelled,
            )
        )
    return blocks


def _decision_words(text: str, lo: int, hi: int) -> list[re.Match[str]]:
    """The decision words ending lines in ``text[lo:hi]``, in order: matches end at a line end,
    so the spellings never overlap and sorting their matches gives the alternation's order."""
    found: list[re.Match[str]] = []
    for pattern in _DECISION_WORDS:
        found.extend(pattern.finditer(text, lo, hi))
    found.sort(key=re.Match.start)
    return found


def _line_labels(text: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    """``_LINE_LABEL.finditer(text, lo, hi)`` as (start, end, kind), found after newlines (a
    label ends in ':', so no match can start right where the previous one ended)."""
    found = []
    pos = lo
    if lo == 0 or text[lo - 1] == "\n":
        m = _LABEL_AT.match(text, lo, hi)
        if m:
            found.append((lo, m.end(), m.lastgroup or ""))
            pos = m.end()
    for m in _LABEL_AFTER_BREAK.finditer(text, pos, hi):
        found.append((m.start() + 1, m.end(), m.lastgroup or ""))
    return found


def _labels(text: str, lo: int, hi: int, n_items: int) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every block label: at line starts, else anywhere."""
    found = _line_labels(text, lo, hi)
    kinds = [kind for _, _, kind in found]
    if min(kinds.count("maximus"), kinds.count("rationale")) < n_items:
        anywhere = _BLOCK_LABEL.finditer(text, lo, hi)
        return [(m.start(), m.end(), m.lastgroup or "") for m in anywhere]
    return found


def _necessity_items(
    text: str, lo: int, hi: int
) -> list[tuple[int, int, int, str, tuple[int, int], bool]]:
    """Items of the first letters: numbered, decided by "is (not) medically necessary"."""
    heads = []
    for m in _NECESSITY_ITEM.finditer(text, lo, hi):
        if m.group("request").count("\n") > _MAX_HEADING_LINES:
            continue
        after = text[m.end() : m.end() + 200].lstrip()
        labelled = bool(_BLOCK_LABEL.match(after))
        decision = "upheld" if m.group("not") else "overturned"
        heads.append(
            (m.start("request"), m.end("request"), m.end(), decision, m.span("decision"), labelled)
        )
    if any(h[5] for h in heads):
        heads = [h for h in heads if h[5]]
    return heads


def _labelled_range(
    labels: list[tuple[int, int, str]], kind: str, lo: int, hi: int
) -> tuple[int, int] | None:
    """Text after the block's ``kind`` label up to its next label (or ``hi``)."""
    first = bisect_left(labels, (lo,))
    last = bisect_left(labels, (hi,), first)
    inside = labels[first:last]
    for j, (_, end, name) in enumerate(inside):
        if name == kind:
            stop = inside[j + 1][0] if j + 1 < len(inside) else hi
            return end, stop
    return None
