"""Removing or shifting what identifies a person in an exported gold data set.

What it does (and `Deidentifier.summary` says so after an export):

- case numbers (``CM16-0237844``) become a stable pseudonym, ``CASE-`` plus ten hex digits of an
  HMAC of the number under the store's secret key: the same case gets the same pseudonym in every
  export of that store, and without the key a pseudonym cannot be turned back into a case number
  by trying all 10^9 of them;
- every date of a letter (the five header dates, and dates written in the letter text, requests,
  rationales and diagnoses) moves by the same per-letter offset of 31 to `MAX_SHIFT_DAYS` days, back
  or forward, derived from the key and the letter: intervals within a letter are kept, alignment
  across letters is not;
- ages over 89 become 90, meaning "90 or older" (HIPAA safe harbour), in the record and the text,
  in digits ("93-year-old", "93 y/o", "aged 93") or words ("ninety-three-year-old"); a birth date
  that shows an age over 89 is removed whole;
- names: the values of the labelled header fields (Employee, Claimant, Applicant, Patient,
  Injured Worker, Employer, Claims Administrator, Insurer, Provider, Physician, Attorney), names
  after an honorific (Mr., Mrs., Ms., Dr.), and every later mention of any of their words, become
  ``[NAME]``;
- street addresses, cities and ZIP codes (the state is kept), phone and fax numbers, e-mail
  addresses, URLs, IP addresses, social security numbers, medical record, claim, policy, account
  and WCAB ADJ numbers become ``[ADDRESS]``, ``[CITY]``, ``[ZIP]``, ``[PHONE]``, ``[EMAIL]``,
  ``[URL]``, ``[IP]``, ``[SSN]``, ``[ID]``; case numbers in any spacing get their pseudonym;
- the letter id (the sha256 of the original file, which identifies it) becomes an HMAC of it.

Pure: no store, no files. The key comes from the caller.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from imrgold.core.models import GoldRecord

MAX_SHIFT_DAYS = 365
MIN_SHIFT_DAYS = 31
AGE_CAP = 89
GROUPED_AGE = 90
DATE_FIELDS: tuple[str, ...] = (
    "date_assigned",
    "date_of_injury",
    "decision_date",
    "ur_denial_date",
    "application_received",
)

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
CASE_NUMBER = re.compile(r"\bCM\d{2}-\d{7}\b", re.IGNORECASE)
# Month/day/year with '/', '-' or '.' between (the separator used twice), and year first.
_NUMERIC_DATE = re.compile(
    r"(?<![\d/.-])(?P<m>\d{1,2})(?P<sep>[/.-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?![\d/-])"
)
_ISO_DATE = re.compile(
    r"(?<![\d/-])(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})\b"
)
# Month and year only: 03/2016.
_NUMERIC_MONTH = re.compile(r"(?<![\d/.-])(?P<m>0?[1-9]|1[0-2])/(?P<y>(?:19|20)\d\d)(?![\d/])")
# Any word then a day and year; the word is checked against `_MONTHS` afterwards, which is far
# faster than a 25-way alternation tried at every position of a long rationale.
_LONG_DATE = re.compile(
    r"\b(?P<mon>[A-Za-z]{3,9}+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b"
)
_MONTH_YEAR = re.compile(r"\b(?P<mon>[A-Za-z]{3,9}+)\.?,?\s+(?P<y>\d{4})\b")
_AGE = re.compile(
    r"\b(?P<n>\d{2,3})(?P<rest>(?:\s*|-)(?:years?(?:\s*|-)old\b|y/?o\b|yrs?\b))"
    r"|\b(?P<aged>aged\s+)(?P<n2>\d{2,3})\b",
    re.IGNORECASE,
)
_TENS = {"ninety": 90, "one hundred": 100}
_UNITS = {
    "": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9,
}  # fmt: skip
_AGE_WORDS = re.compile(
    r"\b(?P<words>(?:ninety|one hundred)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?)"
    r"(?=[\s-]+years?[\s-]+old\b)",
    re.IGNORECASE,
)


# Identifiers a letter a party receives carries (the published copies are redacted), each
# replaced by a bracketed kind.  Case numbers in any spacing get the record's pseudonym.
CASE_NUMBER_ANY = re.compile(r"\bCM\s?(?P<yy>\d{2})\s?[- ]?\s?(?P<n>\d{7})\b", re.IGNORECASE)
# A pattern's group "v", when it has one, is what goes (its label stays: "Claim #: [ID]").
_CASED = frozenset({"ADDRESS", "CITY", "ZIP"})  # capitals tell a street or city from prose
_IDENTIFIERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, 0 if kind in _CASED else re.IGNORECASE))
    for kind, pattern in (
        ("EMAIL", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
        ("URL", r"\b(?:https?://|www\.)[^\s<>\"')]+"),
        # Four octets, not a section number ("Section 3.3.8.2").
        (
            "IP",
            r"(?<!section )(?<!§ )(?<!§)\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}"
            r"(?:25[0-5]|2[0-4]\d|1?\d?\d)\b",
        ),
        ("SSN", r"\b\d{3}-\d{2}-\d{4}\b"),
        (
            "SSN",
            r"\b(?:SSN|social\s+security(?:\s+(?:number|no\.?))?)[\s:#.]*(?P<v>\d[\d -]{7,10}\d)",
        ),
        ("ID", r"\bADJ\s?\d{6,8}\b"),
        (
            "ID",
            r"\b(?:MRN|medical\s+record\s+(?:number|no\.?)|claim(?:\s+(?:number|no\.?|#))?"
            r"|policy(?:\s+(?:number|no\.?|#))?|member\s+id|account\s+(?:number|no\.?))"
            r"[\s:#.]*(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,})",
        ),
        ("PHONE", r"(?<![\d-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?![\d-])"),
        (
            "ADDRESS",
            r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,4}"
            r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|Place|Pl"
            r"|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Terrace|Ter)\b\.?(?:,?\s+(?:Suite|Ste|Apt|Unit|#)"
            r"\.?\s*[\w-]+)?",
        ),
        (
            "CITY",
            r"\b(?P<v>[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2}),\s*(?:CA|California)\.?\s+\d{5}",
        ),
        ("ZIP", r"\b(?:CA|California)\.?\s+(?P<v>\d{5}(?:-\d{4})?)\b"),
    )
)
# Labelled header fields that name a person or an organisation of the case.
_NAME_LABEL = re.compile(
    r"^[ \t]*(?:Employee|Claimant|Applicant|Patient|Injured Worker|Employer|Claims Administrator"
    r"|Insurer|Requesting Provider|Provider|Treating Physician|Physician|Attorney"
    r"|Applicant'?s Attorney|Defense Attorney)(?:\s+Name)?\s*:[ \t]*(?P<value>[^\n]+?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_HONORIFIC = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr|Mx)\.?\s+(?P<name>[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)"
)
_DOB = re.compile(r"\b(?:DOB|D\.O\.B\.|date of birth|born(?: on)?)[\s:]*", re.IGNORECASE)
_CLINICAL_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "and",
        "md",
        "do",
        "pa",
        "np",
        "rn",
        "dc",
        "inc",
        "llc",
        "corp",
        "company",
        "insurance",
        "services",
        "group",
        "medical",
        "center",
        "hospital",
        "clinic",
    ]
)


# ---------------------------------------------------------------------------------------------
# Fewer scans.  Each pattern run over a text is a scan of the whole text, tried at every position
# (an alternation of them all costs the same), and most positions of a letter cannot start a
# match: a pattern is tried only where `_STARTS` says one of its matches can start (a run of
# digits its first number fits, a word it begins with, a line start), and not run at all when
# `_NEEDS` says the text lacks what every match holds.  `_finditer` finds what
# ``pattern.finditer(text)`` finds either way; tests/test_deidentify_scans.py holds it to that.

_DIGIT_RUN = re.compile(r"\d+")


class _Facts:
    """What the gates read of a text, each found once and only when asked: its runs of digits
    (``\\d``, as the patterns read it), its case-folded and its lower-case forms."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def runs(self) -> list[tuple[int, int]]:
        return [m.span() for m in _DIGIT_RUN.finditer(self.text)]

    @functools.cached_property
    def longest(self) -> int:
        return max((end - start for start, end in self.runs), default=0)

    @functools.cached_property
    def folded(self) -> str:
        return _folded(self.text)

    @functools.cached_property
    def lowered(self) -> str:
        return self.text.lower()


def _positions(text: str, word: str) -> list[int]:
    found, at = [], text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + 1)
    return found


def _finditer(pattern: re.Pattern[str], text: str, facts: _Facts) -> Iterator[re.Match[str]]:
    """The matches of ``pattern.finditer(text)``: the same, left to right, none overlapping."""
    needs = _NEEDS.get(pattern)
    if needs is not None and not needs(facts):
        return
    where = _STARTS.get(pattern)
    starts = where(facts) if where is not None else None
    if starts is None:
        yield from pattern.finditer(text)
        return
    end = 0
    for start in starts:
        if start >= end and (found := pattern.match(text, start)) is not None:
            end = found.end()
            yield found


def _at_runs(accept: Callable[[int, str], bool], also: str = "") -> Callable[[_Facts], list[int]]:
    """Starts of the digit runs ``accept(length, next character)`` admits, and of ``also``'s
    characters: for a pattern whose lookbehind or ``\\b`` rules out a digit before its match.
    A run longer than the pattern's first number cannot start one (the number would go on where
    the pattern wants what follows it)."""

    def starts(facts: _Facts) -> list[int]:
        text = facts.text
        found = [s for s, e in facts.runs if accept(e - s, text[e : e + 1])]
        if also:
            found = sorted(found + [at for char in also for at in _positions(text, char)])
        return found

    return starts


def _at_words(view: str, *words: str) -> Callable[[_Facts], list[int] | None]:
    """Where the words stand in the text's lower-case or case-folded form (as an IGNORECASE
    pattern reads it); a form whose length differs (a character that folds to two) has other
    offsets, and the whole text is scanned."""

    def starts(facts: _Facts) -> list[int] | None:
        seen = getattr(facts, view)
        if len(seen) != len(facts.text):
            return None
        return sorted({at for word in words for at in _positions(seen, word)})

    return starts


def _at_line_starts(facts: _Facts) -> list[int]:
    return [0, *(at + 1 for at in _positions(facts.text, "\n"))]


# A city: up to three capitalised words right before ", CA 95814" (the comma found first).
_CITY_WORDS = re.compile(r"[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2}")
_STATE_ZIP = re.compile(r",\s*(?:CA|California)\.?\s+\d{5}")


def _at_cities(facts: _Facts) -> list[int]:
    text, found = facts.text, set()
    for anchor in _STATE_ZIP.finditer(text):
        comma = anchor.start()
        # Every start of one to three words that ends right at the comma.
        at = comma
        for _ in range(3):
            word = at
            while word > 0 and "a" <= text[word - 1] <= "z":
                word -= 1
            if word == at or word == 0 or not "A" <= text[word - 1] <= "Z":
                break
            word -= 1
            found.add(word)
            if word == 0 or not text[word - 1].isspace():
                break
            at = word - 1
    return sorted(found)


# "93 years old", "93-year-old", "93 y/o", "93yo"; or "aged 93".
_AGE_NUMBERS = _at_runs(lambda n, c: n in (2, 3) and (c.isspace() or c in ("-", "y", "Y")))
_AGED = _at_words("folded", "aged")


def _at_ages(facts: _Facts) -> list[int] | None:
    aged = _AGED(facts)
    return None if aged is None else sorted(_AGE_NUMBERS(facts) + aged)


def _identifier(kind: str, index: int = 0) -> re.Pattern[str]:
    return [pattern for k, pattern in _IDENTIFIERS if k == kind][index]


_MONTH_STEMS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_STARTS: dict[re.Pattern[str], Callable[[_Facts], list[int] | None]] = {
    _identifier("IP"): _at_runs(lambda n, c: n <= 3 and c == "."),  # an octet and its dot
    _identifier("SSN"): _at_runs(lambda n, c: n == 3 and c == "-"),
    # "1-", "1 (", "555) ", "555-": what the pattern takes after its first number; or the
    # number starts at "(" or "+".
    _identifier("PHONE"): _at_runs(lambda n, c: c.isspace() or c in (".", "-", "(", ")"), "(+"),
    _identifier("ADDRESS"): _at_runs(lambda n, c: n <= 6 and c.isspace()),
    _NUMERIC_DATE: _at_runs(lambda n, c: n <= 2 and c in ("/", ".", "-")),
    _ISO_DATE: _at_runs(lambda n, c: n == 4 and c in ("-", "/", ".")),
    _NUMERIC_MONTH: _at_runs(lambda n, c: n <= 2 and c == "/"),
    _AGE: _at_ages,
    _identifier("ID", 1): _at_words(
        "folded", "mrn", "medical", "claim", "policy", "member", "account"
    ),
    _identifier("ID"): _at_words("folded", "adj"),
    _identifier("SSN", 1): _at_words("folded", "ssn", "social"),
    _identifier("URL"): _at_words("folded", "http", "www."),
    CASE_NUMBER_ANY: _at_words("folded", "cm"),
    _identifier("ZIP"): lambda f: sorted(
        _positions(f.text, "CA") + _positions(f.text, "California")
    ),
    _identifier("CITY"): _at_cities,
    _NAME_LABEL: _at_line_starts,
    _HONORIFIC: lambda f: sorted(
        {a for h in ("Mr", "Ms", "Miss", "Dr", "Mx") for a in _positions(f.text, h)}
    ),
    # Only a match whose word is a month makes an edit, and no match starts inside another: the
    # matches at other words change nothing.
    _LONG_DATE: _at_words("lowered", *_MONTH_STEMS),
    _MONTH_YEAR: _at_words("lowered", *_MONTH_STEMS),
}


def _month_and_year(facts: _Facts) -> bool:
    # A month word and a year, a run of exactly 4 digits.
    return any(e - s == 4 for s, e in facts.runs) and any(
        stem in facts.lowered for stem in _MONTH_STEMS
    )


_NEEDS: dict[re.Pattern[str], Callable[[_Facts], bool]] = {
    _LONG_DATE: _month_and_year,
    _MONTH_YEAR: _month_and_year,
    _identifier("CITY"): lambda f: f.longest >= 5,
    _identifier("ZIP"): lambda f: f.longest >= 5,
    # "CM", then 2 and 7 digits (9 when written together).
    CASE_NUMBER_ANY: lambda f: f.longest >= 7,
    _NAME_LABEL: lambda f: ":" in f.text,
}


# Between a record's strings when they are de-identified in one pass: a line that holds only a
# NUL.  No pattern matches a NUL, none reads whitespace past one, and a line break is what a
# lookbehind, ``\b``, ``^`` or ``$`` reads at a string's start or end.
_APART_MARK = "\x00"
_APART = f"\n{_APART_MARK}\n"


# ---------------------------------------------------------------------------------------------
# Text edits that keep spans pointing at the same words.


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    new: str


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, Callable[[int, bool], int]]:
    """Apply non-overlapping edits; return the new text and a position mapper.

    ``mapper(pos, is_end)`` maps an old offset to the new text; a position inside a replaced
    stretch snaps to its start (or, for a span end, to its end), so a span that covered a date
    covers the shifted date.
    """
    ordered = sorted(edits, key=lambda e: e.start)
    parts: list[str] = []
    starts: list[int] = []
    kept: list[Edit] = []
    cursor = 0
    for edit in ordered:
        if edit.start < cursor:  # overlapping match: the first one wins
            continue
        parts.append(text[cursor : edit.start])
        parts.append(edit.new)
        cursor = edit.end
        kept.append(edit)
        starts.append(edit.start)
    parts.append(text[cursor:])
    deltas = []
    total = 0
    for edit in kept:
        total += len(edit.new) - (edit.end - edit.start)
        deltas.append(total)

    def mapper(pos: int, is_end: bool = False) -> int:
        i = bisect.bisect_right(starts, pos if not is_end else pos - 1) - 1
        if i < 0:
            return pos
        edit = kept[i]
        before = deltas[i] - (len(edit.new) - (edit.end - edit.start))
        if pos >= edit.end:
            return pos + deltas[i]
        # Inside the replaced stretch.
        new_start = edit.start + before
        return new_start + len(edit.new) if is_end else new_start

    return "".join(parts), mapper


# ---------------------------------------------------------------------------------------------
# Dates


def _year(text: str, pivot: int) -> int:
    if len(text) == 4:
        return int(text)
    two = int(text)
    return 1900 + two if two > pivot % 100 else 2000 + two


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _date_edits(
    text: str, shift: Callable[[dt.date], dt.date], pivot: int, facts: _Facts
) -> list[Edit]:
    edits: list[Edit] = []
    for match in _finditer(_NUMERIC_DATE, text, facts):
        ys, sep = match["y"], match["sep"]
        day = _safe_date(_year(ys, pivot), int(match["m"]), int(match["d"]))
        if day is None:
            continue
        moved = shift(day)
        year = f"{moved.year:04d}" if len(ys) == 4 else f"{moved.year % 100:02d}"
        mm = f"{moved.month:02d}" if len(match["m"]) == 2 else str(moved.month)
        dd = f"{moved.day:02d}" if len(match["d"]) == 2 else str(moved.day)
        edits.append(Edit(match.start(), match.end(), f"{mm}{sep}{dd}{sep}{year}"))
    for match in _finditer(_ISO_DATE, text, facts):
        day = _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
        if day is not None:
            moved, sep = shift(day), match["sep"]
            edits.append(Edit(match.start(), match.end(), moved.strftime(f"%Y{sep}%m{sep}%d")))
    for match in _finditer(_NUMERIC_MONTH, text, facts):
        moved = shift(dt.date(int(match["y"]), int(match["m"]), 15))
        edits.append(Edit(match.start(), match.end(), f"{moved.month:02d}/{moved.year}"))
    for match in _finditer(_LONG_DATE, text, facts):
        month = _MONTHS.get(match["mon"].lower())
        day = _safe_date(int(match["y"]), month, int(match["d"])) if month else None
        if day is None:
            continue
        moved = shift(day)
        edits.append(
            Edit(
                match.start(),
                match.end(),
                f"{calendar.month_name[moved.month]} {moved.day:02d}, {moved.year}",
            )
        )
    taken = [(e.start, e.end) for e in edits]
    for match in _finditer(_MONTH_YEAR, text, facts):
        month = _MONTHS.get(match["mon"].lower())
        if month is None or any(s <= match.start() < e for s, e in taken):
            continue
        # A month without its day: move the middle of that month.
        moved = shift(dt.date(int(match["y"]), month, 15))
        edits.append(
            Edit(match.start(), match.end(), f"{calendar.month_name[moved.month]} {moved.year}")
        )
    return edits


# A spans export asks for the same letter's names three times (its text, its record, the
# record's strings against it): found once.
@functools.lru_cache(maxsize=64)
def names_in(text: str) -> frozenset[str]:
    """The name words of the people and organisations the letter's header labels (Employee,
    Claimant, Provider, Employer, Claims Administrator, ...) and of every honorific."""
    return _labelled(text)[1]


@functools.lru_cache(maxsize=64)
def _labelled(text: str) -> tuple[tuple[tuple[int, int], ...], frozenset[str]]:
    """Where the labelled header values and the honorifics' names are, and their name words."""
    facts = _Facts(text)
    spans: list[tuple[int, int]] = []
    words: set[str] = set()
    for match in _finditer(_NAME_LABEL, text, facts):
        spans.append(match.span("value"))
        words.update(_name_words(match["value"]))
    for match in _finditer(_HONORIFIC, text, facts):
        spans.append(match.span("name"))
        words.update(_name_words(match["name"]))
    return tuple(spans), frozenset(words)


def _name_words(value: str) -> list[str]:
    return [
        w
        for w in re.findall(r"[A-Z][a-zA-Z'-]+", value)
        if len(w) > 1 and w.lower() not in _CLINICAL_WORDS and w.lower() not in _MONTHS
    ]


def _name_edits(text: str, names: frozenset[str]) -> list[Edit]:
    """Labelled header values, honorifics with their names, and every later mention of a name
    word, as [NAME]."""
    spans, words = _labelled(text)
    edits = [Edit(start, end, "[NAME]") for start, end in spans]
    found = names | words
    if found:
        edits += [Edit(*m.span(), "[NAME]") for m in _names_pattern(found).finditer(text)]
    return edits


# Words without which a pattern cannot match (any one of them, in the text as `_folded`
# gives it): a pattern whose words are absent is not run.  Each pattern is a scan of the whole
# text, and most letters hold no e-mail, URL, SSN or record number.
_GATES: dict[str, tuple[str, ...]] = {
    "EMAIL": ("@",),
    "URL": ("http", "www."),
    "SSN label": ("ssn", "social"),
    "ADJ": ("adj",),
    "ID label": ("mrn", "medical", "claim", "policy", "member", "account"),
}


def _gate(kind: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    """The gate of one of `_IDENTIFIERS` (SSN and ID have a labelled pattern beside another)."""
    if "social" in pattern.pattern:
        return _GATES["SSN label"]
    if "MRN" in pattern.pattern:
        return _GATES["ID label"]
    if pattern.pattern.startswith(r"\bADJ"):
        return _GATES["ADJ"]
    return _GATES.get(kind, ())


_GATED = tuple(_gate(kind, pattern) for kind, pattern in _IDENTIFIERS)


def _folded(text: str) -> str:
    """The text as the gates read it: case-folded, and the dotted capital and dotless i that
    an IGNORECASE pattern reads as "i" made one ("İ" folds to two characters), so a word's
    absence here means no pattern can match it."""
    return text.replace("\u0130", "i").casefold().replace("\u0131", "i")


@functools.lru_cache(maxsize=64)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b")


def _identifier_edits(text: str, counts: Counter, facts: _Facts) -> list[Edit]:
    edits = []
    folded = facts.folded
    for (kind, pattern), gate in zip(_IDENTIFIERS, _GATED, strict=True):
        if gate and not any(word in folded for word in gate):
            continue
        for match in _finditer(pattern, text, facts):
            span = match.span("v") if "v" in pattern.groupindex else match.span()
            edits.append(Edit(*span, f"[{kind}]"))
            counts[f"{kind.lower()}s"] += 1
    return edits


def _birth_edits(text: str, pivot: int, facts: _Facts) -> list[Edit]:
    """A birth date that shows an age over 89 goes whole (a shifted one would still show it)."""
    folded = facts.folded
    if not any(w in folded for w in ("dob", "d.o.b.", "date of birth", "born")):
        return []
    edits = []
    for label in _DOB.finditer(text):
        window = text[label.end() : label.end() + 40]
        date = _NUMERIC_DATE.match(window) or _LONG_DATE.match(window) or _ISO_DATE.match(window)
        if date is None:
            continue
        years = [int(y) for y in re.findall(r"\d{4}", date.group())] or [_year(date["y"], pivot)]
        if pivot - years[0] > AGE_CAP:
            edits.append(
                Edit(label.end() + date.start(), label.end() + date.end(), "[DATE, AGE 90+]")
            )
    return edits


def _age_edits(text: str, facts: _Facts) -> list[Edit]:
    if not any(w in facts.lowered for w in ("old", "aged", "y/o", "yo", "yr")):
        return []
    edits = []
    folded = facts.folded
    in_words = "ninety" in folded or "hundred" in folded
    for match in _AGE_WORDS.finditer(text) if in_words else ():
        edits.append(Edit(*match.span("words"), f"{GROUPED_AGE}+"))
    for match in _finditer(_AGE, text, facts):
        number = match["n"] or match["n2"]
        if int(number) <= AGE_CAP:
            continue
        start, end = match.span("n") if match["n"] else match.span("n2")
        if any(e.start <= start < e.end for e in edits):
            continue
        edits.append(Edit(start, end, f"{GROUPED_AGE}+"))
    return edits


# ---------------------------------------------------------------------------------------------


@dataclass
class Deidentifier:
    """Deidentify records (and letter texts with their spans) under one secret key."""

    key: bytes | str
    max_shift_days: int = MAX_SHIFT_DAYS
    counts: Counter = field(default_factory=Counter)
    # A letter's offset, asked for by each of its strings (an HMAC each time otherwise).
    _offsets: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.key, str):
            self.key = self.key.encode()
        if not self.key:
            raise ValueError("a deidentification key must not be empty")

    def _mac(self, kind: str, value: str) -> str:
        key = self.key.encode() if isinstance(self.key, str) else self.key
        return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, case_number: str) -> str:
        return "CASE-" + self._mac("case", case_number.strip().upper())[:10].upper()

    def letter_id(self, letter_id: str) -> str:
        return self._mac("letter", letter_id)

    def offset_days(self, letter_id: str) -> int:
        """At least `MIN_SHIFT_DAYS` either way: every date of every letter moves, and a month
        written without its day ("03/2016", moved from its middle) lands in another month."""
        found = self._offsets.get(letter_id)
        if found is None:
            n = int(self._mac("shift", letter_id)[:12], 16)
            span = max(1, self.max_shift_days - MIN_SHIFT_DAYS + 1)
            days = min(MIN_SHIFT_DAYS, self.max_shift_days) + n % span
            found = days if (n >> 47) & 1 else -days
            if len(self._offsets) >= 256:  # an export goes a letter at a time
                self._offsets.clear()
            self._offsets[letter_id] = found
        return found

    # -- records ------------------------------------------------------------------------------

    def _shifter(self, letter_id: str) -> Callable[[dt.date], dt.date]:
        delta = dt.timedelta(days=self.offset_days(letter_id))
        return lambda day: day + delta

    def _pivot(self, record: GoldRecord) -> int:
        """The year two-digit years are read against (GOLD_CONVENTIONS.md): the decision year,
        else the latest four-digit year the record mentions."""
        if record.decision_date:
            return record.decision_date.year
        years = [int(y) for y in _YEAR.findall(record.model_dump_json(exclude={"letter_id"}))]
        return max(years, default=dt.date.today().year)

    def free_text(
        self, text: str, letter_id: str, pivot: int, names: frozenset[str] = frozenset()
    ) -> tuple[str, Callable]:
        """Every identifier in running text, counted in `counts`: case numbers (a pseudonym),
        names, addresses, contact details and numbers (a bracketed kind), dates (shifted),
        birth dates of people over 89 and ages over 89 (grouped).  ``names`` are the name
        words of the letter's labelled header (`names_in`), removed wherever they stand."""
        facts = _Facts(text)
        edits = [
            Edit(m.start(), m.end(), self.pseudonym(f"CM{m['yy']}-{m['n']}"))
            for m in _finditer(CASE_NUMBER_ANY, text, facts)
        ]
        self.counts["case numbers in text"] += len(edits)
        birth = _birth_edits(text, pivot, facts)
        self.counts["birth dates of people over 89"] += len(birth)
        found = [
            *edits,
            *birth,
            *_identifier_edits(text, self.counts, facts),
            *_name_edits(text, names),
        ]
        self.counts["names"] += sum(1 for e in found if e.new == "[NAME]")
        dates = _date_edits(text, self._shifter(letter_id), pivot, facts)
        ages = _age_edits(text, facts)
        self.counts["dates in text"] += len(dates)
        self.counts["ages over 89 in text"] += len(ages)
        return apply_edits(text, [*found, *dates, *ages])

    def strings(
        self, values: list[str | None], letter_id: str, pivot: int, names: frozenset[str]
    ) -> list[str | None]:
        """A record's strings through `free_text` in one pass, joined by `_APART`, which no
        pattern matches across: each comes out as `free_text` gives it alone with ``names``
        and the names every one of the strings labels (`names_in`), so a name labelled in one
        rationale goes from all of them (tests/test_deidentify_scans.py holds the two equal).
        A record has about ten strings, and most of `free_text`'s time on one is setting up its
        scans, not scanning."""
        present = [value for value in values if value is not None]
        if not present:
            return list(values)
        if any(_APART_MARK in value for value in present):
            names = names.union(*map(names_in, present))
            return [
                None if v is None else self.free_text(v, letter_id, pivot, names)[0] for v in values
            ]
        done = iter(self.free_text(_APART.join(present), letter_id, pivot, names)[0].split(_APART))
        return [None if value is None else next(done) for value in values]

    def record(self, record: GoldRecord, letter_text: str | None = None) -> GoldRecord:
        """The record de-identified; with its letter's text, the names its header labels are
        also removed from the record's strings."""
        data = record.model_dump()
        original_id = record.letter_id
        pivot = self._pivot(record)
        names = names_in(letter_text) if letter_text else frozenset()
        shift = self._shifter(original_id)
        self.counts["letters"] += 1
        data["letter_id"] = self.letter_id(original_id)
        if record.case_number:
            data["case_number"] = self.pseudonym(record.case_number)
            self.counts["case numbers"] += 1
        for name in DATE_FIELDS:
            if data[name] is not None:
                data[name] = shift(data[name])
                self.counts["dates"] += 1
        if record.patient.age is not None and record.patient.age > AGE_CAP:
            data["patient"]["age"] = GROUPED_AGE
            self.counts["ages over 89"] += 1
        values: list[str | None] = [d["text"] for d in data["diagnoses"]]
        for item in data["items"]:
            values += [item["request"], item["rationale"]]
        done = iter(self.strings(values, original_id, pivot, names))
        for diagnosis in data["diagnoses"]:
            diagnosis["text"] = next(done)
        for item in data["items"]:
            item["request"], item["rationale"] = next(done), next(done)
        return GoldRecord.model_validate(data)

    def spans_object(self, obj: dict[str, Any], record: GoldRecord) -> dict[str, Any]:
        """A ``core.export.spans_object`` made from ``record``, with its text and spans moved."""
        names = names_in(obj["text"])
        text, mapper = self.free_text(obj["text"], record.letter_id, self._pivot(record), names)
        spans = [
            {**s, "start": mapper(s["start"]), "end": mapper(s["end"], True)} for s in obj["spans"]
        ]
        new = self.record(record, obj["text"])
        meta = {**obj.get("meta", {}), "letter_id": new.letter_id}
        return {
            **obj,
            "text": text,
            "spans": spans,
            "meta": meta,
            "record": new.model_dump(mode="json"),
        }

    # -- report -------------------------------------------------------------------------------

    def summary(self) -> list[str]:
        c = self.counts
        lines = [
            f"deidentified {c['letters']} letter(s):",
            f"  case numbers replaced by stable pseudonyms (CASE-...): {c['case numbers']} "
            f"in records, {c['case numbers in text']} in text",
            f"  dates shifted by a per-letter offset of {MIN_SHIFT_DAYS}-{self.max_shift_days}"
            " days "
            f"(intervals within a letter kept): {c['dates']} in records, "
            f"{c['dates in text']} in text",
            f"  ages over {AGE_CAP} grouped as {GROUPED_AGE} (meaning {GROUPED_AGE} or older): "
            f"{c['ages over 89']} in records, {c['ages over 89 in text']} in text",
            "  letter ids (sha256 of the original file) replaced by a keyed hash",
            f"  names {c['names']}, birth dates of people over 89 "
            f"{c['birth dates of people over 89']}, and "
            + ", ".join(
                f"{c[k + 's']} {k}"
                for k in (
                    "address",
                    "city",
                    "zip",
                    "phone",
                    "email",
                    "url",
                    "ip",
                    "ssn",
                    "id",
                )
            )
            + " replaced by their kind in brackets",
        ]
        return lines
