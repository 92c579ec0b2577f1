"""Dates as letters write them: ``08/18/2014``, ``2/28/14``, ``10-26-2016``, ``July 14, 2011``."""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {
    name: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
NUMERIC_DATE = r"\b\d{1,2}\s?[/-]\s?\d{1,2}\s?[/-]\s?(?:\d{4}|\d{2})(?![\d/])"
WORD_DATE = rf"\b(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
DATE = rf"(?:{NUMERIC_DATE}|{WORD_DATE})"
DATE_RE = re.compile(DATE, re.IGNORECASE)

_NUMERIC = re.compile(r"(\d{1,2})\s?[/-]\s?(\d{1,2})\s?[/-]\s?(\d{2,4})")
_WORDS = re.compile(rf"({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})", re.I)
# No lookbehind: it stops the regex engine from skipping ahead to a '1' or '2' (5x slower);
# the character before is checked by hand.
_YEAR4 = re.compile(r"(?:19[5-9]|20[0-4])\d(?![\d.])")


def full_year(year: int, pivot_year: int | None) -> int:
    """SPEC: a two-digit year is 19xx when above the decision year's two digits, else 20xx
    (never a year still to come)."""
    if year >= 100:
        return year
    this_year = dt.date.today().year
    pivot = (pivot_year if pivot_year is not None else this_year) % 100
    full = 1900 + year if year > pivot else 2000 + year
    return full - 100 if full > this_year else full


def parse_date(text: str, pivot_year: int | None = None) -> dt.date | None:
    """The first date in ``text``, or None; impossible dates (13/45/2016) are None."""
    m = _NUMERIC.search(text)
    if m:
        month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if len(m.group(3)) == 3:
            return None
    else:
        m = _WORDS.search(text)
        if not m:
            return None
        month, day, year = MONTHS[m.group(1).lower()], int(m.group(2)), int(m.group(3))
    try:
        return dt.date(full_year(year, pivot_year), month, day)
    except ValueError:
        return None


def latest_year(text: str) -> int | None:
    """The year standing for the decision year when the header gives none: the latest
    plausible four-digit year in the letter, else the latest two-digit year of its dates."""
    years = [
        int(m.group())
        for m in _YEAR4.finditer(text)
        if not (m.start() and text[m.start() - 1] in "0123456789.")
    ]
    if years:
        return max(years)
    short = [int(m.group(3)) for m in _NUMERIC.finditer(text) if len(m.group(3)) == 2]
    return max(short) if short else None
