"""Variants of real letters in the other layouts letters arrive in, with their gold records
(for tests and benches only: not shipped in the package).

The benchmark builds its 10,000-letter corpus here, and the tests use the same transforms to
check that a letter's values do not depend on its layout.  Each transform keeps every gold value
(values are folded and repaired), so a variant's gold record is the original's with its items
reordered or dropped when the items are.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from imrgold.core.models import GoldRecord
from imrgold.core.sections import find_items, find_sections
from imrgold.core.text import repair

_HEADINGS = re.compile(
    r"^(?:HOW THE IMR FINAL DETERMINATION WAS MADE|CLINICAL CASE SUMMARY"
    r"|IMR ISSUES, DECISIONS AND RATIONALES)\s*$"
)
_LABELS = re.compile(r"^(Claims Administrator guideline:|MAXIMUS guideline:|Decision rationale:)")
_DECISION_END = re.compile(r"^(?P<head>.*?)(?P<sep>\s*(?:is)?:)\s*(?P<d>Upheld|Overturned)\s*$")


def logical_lines(text: str) -> list[str]:
    """The letter as repaired logical lines ('' between paragraphs)."""
    return repair(text).text.split("\n")


def as_plain(lines: list[str], rng: random.Random) -> str:
    return "\n".join(lines) + "\n"


def as_pdf_double_spaced(lines: list[str], rng: random.Random) -> str:
    """pdftotext's raw mode: a blank line after every line, trailing spaces, ' ' paragraphs."""
    return "".join((line or " ") + " \n\n" for line in lines)


def as_centered(lines: list[str], rng: random.Random) -> str:
    """``-layout`` style: section headings centred with leading spaces, some trailing spaces."""
    out = []
    for line in lines:
        if _HEADINGS.match(line):
            out.append(" " * rng.randint(10, 30) + line)
        else:
            out.append(line + " " * rng.choice((0, 0, 1, 3)))
    return "\n".join(out) + "\n"


def as_markdown(lines: list[str], rng: random.Random) -> str:
    """The markdown-ish copy: ### headings, **bold** labels and item headings."""
    out = []
    for line in lines:
        if _HEADINGS.match(line):
            out.append("### " + line)
            continue
        label = _LABELS.match(line)
        if label:
            out.append(f"**{label.group(1)}**" + line[label.end() :])
            continue
        decision = _DECISION_END.match(line)
        if decision and decision.group("head"):
            out.append(f"**{decision.group('head')}{decision.group('sep')}** {decision.group('d')}")
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def with_form_feeds(lines: list[str], rng: random.Random) -> str:
    """Page breaks: a form feed at the start of a few lines, as pdftotext writes them."""
    out = list(lines)
    for _ in range(max(1, len(out) // 50)):
        i = rng.randrange(1, len(out))
        if out[i]:
            out[i] = "\f" + out[i]
    return "\n".join(out) + "\n"


def with_mojibake(lines: list[str], rng: random.Random) -> str:
    """UTF-8 read as Windows-1252, the damage the real letters show (``Â§``)."""
    text = "\n".join(lines) + "\n"
    return re.sub(
        r"[^\x00-\x7f]+",
        lambda m: m.group().encode("utf-8").decode("cp1252", errors="replace"),
        text,
    )


def with_header_last(lines: list[str], rng: random.Random) -> str:
    """The case header table printed after the letter, as some PDF text layers order it."""
    text = "\n".join(lines)
    end = find_sections(text).header[1]
    header, body = text[:end].strip("\n"), text[end:].strip("\n")
    if not header or "Case" not in header:
        return text + "\n"
    return body + "\n\n" + header + "\n"


LAYOUTS: dict[str, Callable[[list[str], random.Random], str]] = {
    "plain": as_plain,
    "pdf": as_pdf_double_spaced,
    "centered": as_centered,
    "markdown": as_markdown,
    "formfeeds": with_form_feeds,
    "mojibake": with_mojibake,
    "header_last": with_header_last,
}


_HEADER_ROWS = (
    ("Case Number:", "case_number", None, None),
    ("Date Assigned:", "date_assigned", "Date of Injury:", "date_of_injury"),
    ("Decision Date:", "decision_date", "UR Denial Date:", "ur_denial_date"),
    ("Priority:", "priority", "Application Received:", "application_received"),
)


def _cell(gold: GoldRecord, name: str | None) -> str:
    if name is None:
        return ""
    value = getattr(gold, name)
    if value is None:
        return ""
    if name == "priority":
        return str(value).title()
    if hasattr(value, "strftime"):
        return value.strftime("%m/%d/%Y")
    return str(value)


def render_header(gold: GoldRecord, style: str) -> list[str]:
    """The case header in one of the three layouts pdftotext and the markdown copy produce."""
    if style == "cells":
        out = []
        for l1, f1, l2, f2 in _HEADER_ROWS:
            row = f"<b>{l1}</b>\t{_cell(gold, f1)}\t"
            row += f"<b>{l2}</b>\t{_cell(gold, f2)}" if l2 else "\t"
            out.append(row)
        return out
    if style == "columns":
        out = []
        for l1, f1, l2, f2 in _HEADER_ROWS:
            left = f"{l1:<23}{_cell(gold, f1):<33}"
            if l2 == "Application Received:":
                out.append(f"{left}{'Application':<22}{_cell(gold, f2)}")
                out.append(" " * 56 + "Received:")
            else:
                out.append(left + (f"{l2:<22}{_cell(gold, f2)}" if l2 else "").rstrip())
        return [line.rstrip() for line in out]
    # Label cells then value cells, two blocks, as pdftotext's raw mode prints the table.
    firsts = [r for r in _HEADER_ROWS]
    seconds = [r for r in _HEADER_ROWS if r[2]]
    return (
        [r[0] for r in firsts]
        + [_cell(gold, r[1]) for r in firsts]
        + [r[2].replace("Application Received:", "Application\nReceived:") for r in seconds]
        + [_cell(gold, r[3]) for r in seconds]
    )


HEADER_STYLES = ("cells", "columns", "blocks")


def with_header(lines: list[str], gold: GoldRecord, style: str) -> list[str]:
    """The letter with its case header replaced by one rendered from the gold record."""
    text = "\n".join(lines)
    start = find_sections(text).header[1]
    body = text[start:].split("\n")
    header = "\n".join(render_header(gold, style)).split("\n")
    return header + body


def item_blocks(lines: list[str]) -> tuple[list[str], list[list[str]]] | None:
    """Split logical lines into (everything before the first item, one line list per item)."""
    text = "\n".join(lines)
    sections = find_sections(text)
    blocks = find_items(text, sections.issues)
    if not blocks:
        return None
    starts = [text.rfind("\n", 0, b.heading[0]) + 1 for b in blocks]
    head = text[: starts[0]].rstrip("\n").split("\n")
    items = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        items.append(text[start:end].rstrip("\n").split("\n"))
    return head, items


def shuffle_items(
    lines: list[str], gold: GoldRecord | None, rng: random.Random
) -> tuple[list[str], GoldRecord | None]:
    """Reorder the items and sometimes drop some; the gold record follows."""
    split = item_blocks(lines)
    if split is None or (gold is not None and len(split[1]) != len(gold.items)):
        return lines, gold
    head, items = split
    order = list(range(len(items)))
    rng.shuffle(order)
    if len(order) > 1 and rng.random() < 0.3:
        order = order[: rng.randint(1, len(order))]
    new_lines = head + [line for i in order for line in items[i]]
    if gold is None:
        return new_lines, None
    return new_lines, gold.model_copy(update={"items": [gold.items[i] for i in order]})


def variant(
    text: str, gold: GoldRecord | None, rng: random.Random, layout: str | None = None
) -> tuple[str, GoldRecord | None, str]:
    """One variant of a letter: (text, its gold record or None, the layout name)."""
    lines = logical_lines(text)
    if rng.random() < 0.5:
        lines, gold = shuffle_items(lines, gold, rng)
    name = layout or rng.choice(tuple(LAYOUTS))
    return LAYOUTS[name](lines, rng), gold, name


def typo(text: str, rng: random.Random, rate: float = 0.002) -> str:
    """Swap adjacent letters inside a few long lowercase words (OCR-ish noise for the bench)."""

    def swap(m: re.Match[str]) -> str:
        word = m.group()
        if rng.random() >= rate * 20:
            return word
        i = rng.randrange(1, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    return re.sub(r"\b[a-z]{7,}\b", swap, text)


_OCR_SLIPS = (("l", "1"), ("rn", "m"), ("O", "0"), ("e", "c"), ("i", "l"), (", ", ","),
              (" ", "  "), (":", ";"), ("S", "5"), ("th", "tb"))  # fmt: skip


def ocr_damage(text: str, rng: random.Random, n: int) -> str:
    """``n`` OCR slips at random places (``l``->``1``, ``rn``->``m``, ``:``->``;`` ...): the
    gold record stays what the letter meant, so some fields come out wrong; calibration is
    measured on such letters."""
    for _ in range(n):
        a, b = rng.choice(_OCR_SLIPS)
        at = [m.start() for m in re.finditer(re.escape(a), text)]
        if at:
            i = rng.choice(at)
            text = text[:i] + b + text[i + len(a) :]
    return text
