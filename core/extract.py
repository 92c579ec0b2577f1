"""The machine's proposal for a letter: every field of the gold record, with spans and confidence.

`extract(text, letter_id)` repairs the text (`core.text`), cuts it into sections and item blocks
(`core.sections`), reads each field with general rules, and maps every value's span back to the
original text.  Each rule gives its value a strength: a value read from a labelled header cell
scores high, a value guessed from prose lower, an absent value scores by how sure we are it is
absent.

The rule strengths are named in `core.strengths`, by the kind of evidence: a labelled cell or
an explicit statement (`READ`), a general rule on a clear layout (`CLEAR`), a fallback
(`FALLBACK`), something the rules could not read (`DOUBT`), and for an absent value how sure it is
absent (`ABSENT`).  The proposal's confidence is the strength calibrated on real letters with gold
(`core.calibration`: how often that field at that strength was right), which ``imrgold eval``
reports, also on letters held out of the fit.  An item the extractor missed has no proposal, so
its fields count at 0 in the calibration.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from imrgold.core import extract_items as items_mod
from imrgold.core import icd10
from imrgold.core.calibration import Calibration, default_calibration, field_key
from imrgold.core.extract_dates import DATE, DATE_RE, latest_year, parse_date
from imrgold.core.models import (
    HEADER_FIELDS,
    LETTER_FIELDS,
    Proposal,
    ProposedField,
    Span,
    field_paths,
    is_list_field,
    item_path,
)
from imrgold.core.sections import ItemBlock, Sections, find_items, find_sections
from imrgold.core.strengths import (
    ABSENT,
    CLEAR,
    DOUBT,
    FALLBACK,
    PARTIAL_HEADING,
    READ,
    WHOLE_HEADING,
)
from imrgold.core.text import Repaired, fix_mojibake, fold, repair

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Field values with their spans in the repaired text.


_SETATTR = object.__setattr__
_NEW = object.__new__
_SPAN_FIELDS = set(Span.model_fields)
_FIELD_FIELDS = set(ProposedField.model_fields)
_PROPOSAL_FIELDS = set(Proposal.model_fields)


def _built(cls: type[BaseModel], data: dict[str, Any], fields_set: set[str]) -> Any:
    """What ``cls.model_construct(**data)`` builds, at a fraction of its cost.

    The extractor makes ~100 fields and spans a letter and must run ~1,000 letters a second;
    pydantic's generic ``model_construct`` was a quarter of that budget.  Every value is
    already valid by construction (the hypothesis tests check `Proposal.to_record()`).
    """
    obj = cls.__new__(cls)
    _SETATTR(obj, "__dict__", data)
    # Every field is set, so pydantic's later ``fields_set.add(name)`` never changes this set:
    # one set can serve every instance.
    _SETATTR(obj, "__pydantic_fields_set__", fields_set)
    _SETATTR(obj, "__pydantic_extra__", None)
    _SETATTR(obj, "__pydantic_private__", None)
    return obj


def _field(value: Any, spans: list[Span], confidence: float) -> ProposedField:
    data = {
        "value": value,
        "spans": spans,
        "source": "machine",
        "confidence": confidence,
        "confirmed": False,
        "elements": [],
    }
    return _built(ProposedField, data, _FIELD_FIELDS)


class _Fields:
    """Collects proposed fields; spans are given in repaired-text offsets and mapped once."""

    def __init__(self, repaired: Repaired) -> None:
        self.repaired = repaired
        self.fields: dict[str, ProposedField] = {}
        self._raw_spans: dict[str, tuple[int, int]] = {}

    def get_span(self, path: str) -> tuple[int, int]:
        """The first repaired-text span given for ``path`` (to reuse for a related field)."""
        return self._raw_spans.get(path, (0, 0))

    def put(
        self,
        path: str,
        value: Any,
        confidence: float,
        spans: Iterable[tuple[int, int]] = (),
    ) -> None:
        # ~50 fields a letter: the loop is written out (no helper calls, `_built` inlined) for
        # speed; a call per span and field was most of this method's cost.
        mapped: list[Span] = []
        if spans:
            span = self.repaired.span
            for start, end in spans:
                if end > start:
                    if not mapped:
                        self._raw_spans[path] = (start, end)
                    s, e = span(start, end)
                    piece = _NEW(Span)
                    _SETATTR(piece, "__dict__", {"start": s, "end": e})
                    _SETATTR(piece, "__pydantic_fields_set__", _SPAN_FIELDS)
                    _SETATTR(piece, "__pydantic_extra__", None)
                    _SETATTR(piece, "__pydantic_private__", None)
                    mapped.append(piece)
        rounded = _ROUNDED.get(confidence)
        if rounded is None:
            rounded = 0.0 if confidence < 0 else 1.0 if confidence > 1 else round(confidence, 3)
            # An integral key would also answer for an int or -0.0, whose round() differs in
            # type or sign: those are never cached.
            if len(_ROUNDED) < 4096 and not float(confidence).is_integer():
                _ROUNDED[confidence] = rounded
        obj = _NEW(ProposedField)
        _SETATTR(
            obj,
            "__dict__",
            {
                "value": value,
                "spans": mapped,
                "source": "machine",
                "confidence": rounded,
                "confirmed": False,
                "elements": [],
            },
        )
        _SETATTR(obj, "__pydantic_fields_set__", _FIELD_FIELDS)
        _SETATTR(obj, "__pydantic_extra__", None)
        _SETATTR(obj, "__pydantic_private__", None)
        self.fields[path] = obj


# Confidences are a few dozen rule strengths (and products of them): each is rounded once.
# Keyed on rule constants, not on letter content, and bounded.
_ROUNDED: dict[float, float] = {}


# ---------------------------------------------------------------------------------------------
# Case header.

_HEADER_LABELS: tuple[tuple[str, str, str], ...] = (
    ("case_number", "case", r"Case\s+(?:Number|No\.?|#)"),
    ("date_assigned", "date", r"Date\s+Assigned"),
    ("date_of_injury", "date", r"Date\s+of\s+Injury|Injury\s+Date"),
    ("decision_date", "date", r"Decision\s+Date"),
    ("ur_denial_date", "date", r"UR\s+Denial\s+Date"),
    ("application_received", "date", r"Application(?:\s+Received)?|App\.?\s+Received"),
    ("priority", "priority", r"Priority"),
)
_CASE_NUMBER = r"\b[A-Z]{2}\d{2}\s?-\s?\d{5,8}\b"
_PRIORITY = r"\b(?:Standard|Expedited|Urgent|Regular)\b"
# Every token opens with a word boundary; checking it once before the alternation, rather
# than in each of its ten branches at every character, halves the scan.
_HEADER_TOKENS = re.compile(
    r"\b(?:"
    + "|".join(f"(?P<L_{name}>\\b(?:{pattern})\\s*:?)" for name, _, pattern in _HEADER_LABELS)
    + f"|(?P<V_case>{_CASE_NUMBER})|(?P<V_date>{DATE})|(?P<V_priority>{_PRIORITY}))",
    re.I,
)
_LABEL_KIND = {name: kind for name, kind, _ in _HEADER_LABELS}
_SENTENCE_STOP = re.compile(r"[.;]")
_CASE_LABEL = re.compile(r"Case\s+(?:Number|No\.?)\s*:", re.I)


def _case_label(text: str) -> re.Match[str] | None:
    """A "Case Number:" label anywhere (str.find first: a regex scan of the letter is slow)."""
    low = text.lower()
    if len(low) != len(text):
        return _CASE_LABEL.search(text)
    at = low.find("case")
    while at >= 0:
        m = _CASE_LABEL.match(text, at)
        if m and not low[at - 1 : at].isalpha():
            return m
        at = low.find("case", at + 1)
    return None


def _header_cells(text: str, lo: int, hi: int) -> dict[str, tuple[str, int, int, bool]]:
    """Pair header labels with values whatever the layout.

    Label cells then value cells, aligned ``-layout`` columns and ``<b>`` cells all read as a
    sequence of label and value tokens: a value on its label's line goes to that label, any
    other to the oldest waiting label of its kind.  The flag says whether the value sat on its
    label's line (the surest layout).
    """
    waiting: list[tuple[str, int]] = []
    waiting_names: set[str] = set()  # the names in `waiting`, each there once
    cells: dict[str, tuple[str, int, int, bool]] = {}
    last_label: str | None = None
    last_label_end = -10
    for m in _HEADER_TOKENS.finditer(text, lo, hi):
        group = m.lastgroup or ""
        if group.startswith("L_"):
            name = group[2:]
            if name not in cells and name not in waiting_names:
                waiting.append((name, m.end()))
                waiting_names.add(name)
            last_label, last_label_end = name, m.end()
            continue
        kind = group[2:]
        between = text[last_label_end : m.start()]
        # A value on its label's own line belongs to that label, even when an earlier label's
        # cell was empty; values on lines of their own (label block, then value block) go to
        # the oldest waiting label of their kind.
        same_line = not between.strip() and "\n" not in between
        chosen = None
        if same_line and last_label in waiting_names and _LABEL_KIND[last_label] == kind:
            chosen = last_label
        if chosen is None:
            for n, _ in waiting:
                if _LABEL_KIND[n] == kind:
                    chosen = n
                    break
        if chosen is not None:
            waiting = [w for w in waiting if w[0] != chosen]
            waiting_names.discard(chosen)
            cells[chosen] = (m.group(), m.start(), m.end(), same_line)
    return cells


# ---------------------------------------------------------------------------------------------
# Reviewer.

STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU", "virgin islands": "VI",
}  # fmt: skip
_STATE_RE = re.compile(
    r"\b(?:"
    + "|".join(sorted((re.escape(s).replace(r"\ ", r"\s+") for s in STATES), key=len, reverse=True))
    + r"|(?-i:[A-Z]{2})(?=\s*(?:,|$|\.|and\b)))\b",
    re.I,
)
_CODES = set(STATES.values())

# "Board Certified in X[, has a subspecialty in Y] and is licensed to practice in Z.": the
# sentence is cut first (a period then a space ends it), then its parts, each optional.
_BOARD = re.compile(r"Board[\s-]+Certified\s+in\s+(?P<body>[^.]*(?:\.(?=\S)[^.]*)*)", re.I)
_BOARD_LICENSED = re.compile(
    r",?\s*(?:and\s+)?(?:is\s+|he/she\s+is\s+)?licensed\s+to\s+practice\s+in\s+(?P<lic>.*)$",
    re.I | re.S,
)
_BOARD_SUB = re.compile(
    r",?\s*(?:and\s+)?has\s+(?:a\s+)?sub-?\s?specialt(?:y|ies)\s+in\s+(?P<sub>.*)$", re.I | re.S
)
_LICENSED_ANYWHERE = re.compile(r"licensed\s+to\s+practice\s+in\s+(?P<lic>[^.]*)", re.I)
# A list ending in a comma goes on on the next line.
_LICENSURE = re.compile(
    r"State\s*\(?s?\)?\s+of\s+Licensure\s*:[ \t]*"
    r"(?P<lic>(?:(?!Certification)[^\n])*(?:(?<=,)\n(?:(?!Certification)[^\n])*)*)",
    re.I,
)
_CERTIFICATION = re.compile(
    r"Certifications?\s*\(?s?\)?\s*/\s*Specialt(?:y|ies)\s*:[ \t]*"
    r"(?P<spec>[^\n]*(?:\n(?!(?-i:[A-Z ]{12,})$)(?![^\n]*:)[^\n]{1,80}(?=\n|$))*)",
    re.I | re.M,
)
_HEAD_NOUN = re.compile(
    r"(?:Medicine|Surgery|Pediatrics|Psychiatry|Neurology|Anesthesiology|Radiology|Pathology"
    r"|Dermatology|Urology|Ophthalmology|Otolaryngology|Cardiology|Oncology|Rheumatology"
    r"|Gastroenterology|Endocrinology|Nephrology|Hematology|Obstetrics|Gynecology|Psychology"
    r"|Chiropractic|Podiatry|Management|Care|Diseases?|Practice)$",
    re.I,
)
_SMALL_WORDS = {"and", "of", "the", "in", "&", "for", "with", "or"}


def _title(phrase: str) -> str:
    words = phrase.split()
    if any(w[:1].isupper() for w in words) and not phrase.isupper():
        return " ".join(words)
    return " ".join(
        w.lower() if i and w.lower() in _SMALL_WORDS else w[:1].upper() + w[1:].lower()
        for i, w in enumerate(words)
    )


# Patterns used on every letter, compiled once (``re.sub(str, ...)`` pays a cache lookup a call).
_NOT_LIST_SEP = re.compile(r"[^,;]+")
_AND_JOINER = re.compile(r"\s+(?:&|and)\s+")
_LEADING_AND = re.compile(r"^(?:and|&)\s+", re.I)
_WORD3 = re.compile(r"[A-Za-z]{3,}")
_LIST_FILLER = re.compile(r"\b(?:and|or|the|state|states|of)\b", re.I)
_SPACES = re.compile(r"\s+")
_LETTERS = re.compile(r"[A-Za-z]+")
# The list's glue before a diagnosis: "and", a number, a dash, and the sentence's article ("She
# was diagnosed with a right shoulder sprain" states "right shoulder sprain").
_DX_NUMBER_LEAD = re.compile(r"^\s*(?:and\s+|\(?\d{1,2}[.)]\s*|-\s*)*(?:(?i:an?)\s+)?")
_PARAPHRASED = re.compile(r"\(paraphrased\)\s*", re.I)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PIECES_SEMI = re.compile(r"[^;]+")
_PIECES_COMMA = re.compile(r"[^;,]+")


def _split_specialties(text: str) -> list[tuple[str, int, int]]:
    """Board certifications: commas and semicolons part them; "&"/"and" only between two whole
    specialties ("Internal Medicine & Emergency Medicine", not "Physical Medicine & Rehab")."""
    out: list[tuple[str, int, int]] = []
    for m in _NOT_LIST_SEP.finditer(text):
        piece = m.group()
        parts: list[tuple[int, int]] = [(m.start(), m.end())]
        joiner = _AND_JOINER.search(piece)
        if joiner:
            left, right = piece[: joiner.start()].strip(), piece[joiner.end() :].strip()
            if _HEAD_NOUN.search(left) and _HEAD_NOUN.search(right) and len(right.split()) >= 2:
                cut_lo, cut_hi = m.start() + joiner.start(), m.start() + joiner.end()
                parts = [(m.start(), cut_lo), (cut_hi, m.end())]
        for start, end in parts:
            raw = text[start:end]
            stripped = raw.strip(" \n\t.")
            stripped = _LEADING_AND.sub("", stripped)
            if not stripped or not _WORD3.search(stripped):
                continue
            offset = start + raw.find(stripped)
            out.append((_title(fold(stripped)), offset, offset + len(stripped)))
    return out


def _unread_words(text: str, found: list[tuple[str, int, int]]) -> bool:
    """Whether a list (of states) holds words no element accounts for: a misspelt or unknown
    name the rules skipped."""
    rest = list(text)
    for _, start, end in found:
        rest[start:end] = " " * (end - start)
    leftover = _LIST_FILLER.sub(" ", "".join(rest))
    return _WORD3.search(leftover) is not None


def _states(text: str) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for m in _STATE_RE.finditer(text):
        word = _SPACES.sub(" ", m.group().lower())
        code = STATES.get(word) or (m.group().upper() if m.group().upper() in _CODES else None)
        if code and code not in [c for c, _, _ in out]:
            out.append((code, m.start(), m.end()))
    return out


def _shift(found: list[tuple[str, int, int]], offset: int) -> list[tuple[str, int, int]]:
    return [(v, s + offset, e + offset) for v, s, e in found]


_Found = list[tuple[str, int, int]]


class _ReviewerRead(NamedTuple):
    specialties: _Found
    subspecialties: _Found
    licensure: _Found
    strength: float
    licensure_doubt: bool  # the licensure statement names something that is no known state


def _reviewer(text: str, lo: int, hi: int, fields: _Fields) -> None:
    section = text[lo:hi]
    read = _labelled_reviewer(section) or _board_sentence(section)
    if read is None:
        for path in ("reviewer.specialties", "reviewer.subspecialties", "reviewer.licensure"):
            fields.put(path, [], ABSENT.no_text)
        return
    for path, found in (
        ("reviewer.specialties", read.specialties),
        ("reviewer.subspecialties", read.subspecialties),
        ("reviewer.licensure", read.licensure),
    ):
        conf = read.strength
        if path == "reviewer.licensure" and (read.licensure_doubt or not found):
            conf = DOUBT.unknown_state
        fields.put(path, [v for v, _, _ in found], conf, [(lo + s, lo + e) for _, s, e in found])


def _labelled_reviewer(section: str) -> _ReviewerRead | None:
    """Specialties and licensure from their labelled lines (no subspecialty line exists)."""
    lic = _LICENSURE.search(section)
    cert = _CERTIFICATION.search(section)
    if not (cert or lic):
        return None
    specialties: _Found = []
    licensure: _Found = []
    licensure_doubt = False
    if cert:
        specialties = _shift(_split_specialties(cert.group("spec")), cert.start("spec"))
    if lic:
        licensure, licensure_doubt = _licensure(lic.group("lic"), lic.start("lic"))
    return _ReviewerRead(specialties, [], licensure, CLEAR.labelled_lines, licensure_doubt)


def _board_sentence(section: str) -> _ReviewerRead | None:
    """Specialties, subspecialties and licensure from "Board Certified in X, has a
    subspecialty in Y and is licensed to practice in Z." (licensure from elsewhere in the
    section when the sentence does not say it).  Read only when no labelled line says them."""
    board = _BOARD.search(section)
    if board is None:
        return None
    body_at = board.start("body")
    body = board.group("body")
    licensure: _Found = []
    licensure_doubt = False
    if lic_m := _BOARD_LICENSED.search(body):
        licensure, licensure_doubt = _licensure(lic_m.group("lic"), body_at + lic_m.start("lic"))
        body = body[: lic_m.start()]
    elif elsewhere := _LICENSED_ANYWHERE.search(section):
        licensure, licensure_doubt = _licensure(elsewhere.group("lic"), elsewhere.start("lic"))
    subspecialties: _Found = []
    if sub_m := _BOARD_SUB.search(body):
        subspecialties = _shift(
            _split_specialties(sub_m.group("sub")), body_at + sub_m.start("sub")
        )
        body = body[: sub_m.start()]
    specialties = _shift(_split_specialties(body), body_at)
    return _ReviewerRead(
        specialties, subspecialties, licensure, CLEAR.board_sentence, licensure_doubt
    )


def _licensure(statement: str, at: int) -> tuple[_Found, bool]:
    """The states a licensure statement at ``at`` names, and whether it names more."""
    states = _states(statement)
    return _shift(states, at), _unread_words(statement, states)


# ---------------------------------------------------------------------------------------------
# Patient.

# "old" is required after "years": "worked there for 10 years" is not an age.
_AGE = re.compile(
    r"\b(?P<n>\d{1,3})\s*-?\s*(?:(?:years?|yrs?\.?)[\s-]*old|y/o|yo|y\.o\.)(?![\w])"
    r"|\b(?:aged?|age\s+of)\s+(?P<m>\d{1,3})\b",
    re.I,
)
_SEX_WORD = re.compile(r"\b(?P<w>male|female|man|woman|gentleman|lady|boy|girl)\b", re.I)
_SEX_OF = {"male": "male", "man": "male", "gentleman": "male", "boy": "male",
           "female": "female", "woman": "female", "lady": "female", "girl": "female"}  # fmt: skip
_PRONOUN = re.compile(r"\b(?:he|him|his|himself|she|her|hers|herself)\b", re.I)


def _patient(text: str, summary: tuple[int, int], fields: _Fields) -> None:
    lo, hi = summary
    age_m = _AGE.search(text, lo, hi)
    if age_m and int(age_m.group("n") or age_m.group("m")) <= 120:
        group = "n" if age_m.group("n") else "m"
        # The patient's age opens the summary; an age further in may be someone else's.
        early = age_m.start() - lo < 400
        fields.put(
            "patient.age",
            int(age_m.group(group)),
            READ.age_opening_summary if early else FALLBACK.later_age,
            [age_m.span(group)],
        )
    else:
        # "40-ycar-old": an age the rules could not read is likely there.
        maybe_age = re.search(
            r"\b\d{1,3}[\s-]*\w{2,6}[\s-]*o[l1I]d\b|\byears?\b", text[lo:hi], re.I
        )
        fields.put("patient.age", None, ABSENT.age_like_phrase if maybe_age else ABSENT.by_rule)
    _sex(text, lo, hi, age_m, fields)


def _sex(text: str, lo: int, hi: int, age_m: re.Match[str] | None, fields: _Fields) -> None:
    """An explicit word first (GOLD_CONVENTIONS), else the summary's pronouns if all one sex."""
    word = _SEX_WORD.search(text, lo, hi)
    near = word is not None and age_m is not None and 0 <= word.start() - age_m.end() < 40
    if word and near:
        fields.put(
            "patient.sex", _SEX_OF[word.group("w").lower()], READ.sex_word_by_age, [word.span()]
        )
        return
    he, she = _pronouns(text, lo, hi)
    if word:
        sex = _SEX_OF[word.group("w").lower()]
        # A word away from the age, against the pronouns, may be about someone else.
        against = len(she if sex == "male" else he) > len(he if sex == "male" else she)
        conf = FALLBACK.sex_word_against_pronouns if against else CLEAR.sex_word
        fields.put("patient.sex", sex, conf, [word.span()])
    elif he and not she:
        fields.put("patient.sex", "male", _pronoun_strength(he), he[:1])
    elif she and not he:
        fields.put("patient.sex", "female", _pronoun_strength(she), she[:1])
    else:
        fields.put("patient.sex", None, ABSENT.mixed_pronouns if (he or she) else ABSENT.no_sex_cue)


def _pronoun_strength(pronouns: list[tuple[int, int]]) -> float:
    return CLEAR.pronouns if len(pronouns) >= 3 else FALLBACK.few_pronouns


def _pronouns(text: str, lo: int, hi: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans of he/him/his and she/her/hers, the boilerplate "He/she", "his/her" left out."""
    he: list[tuple[int, int]] = []
    she: list[tuple[int, int]] = []
    for m in _PRONOUN.finditer(text, lo, hi):
        start, end = m.span()
        if (start and text[start - 1] == "/") or text[end : end + 1] == "/":
            continue
        (she if m.group().lower().startswith(("she", "her")) else he).append((start, end))
    return he, she


# ---------------------------------------------------------------------------------------------
# Date of injury from the summary, when the header does not give it.

# Cue phrases, then a date within 120 characters of the same sentence.  Found with str.find on
# the lowercased text: a case-insensitive regex alternation costs ~0.3 ms a summary.
_INJURY_CUES = ("date of injury", "injury date", "doi", "date of loss", "injur",
                "occupational claim", "claim from")  # fmt: skip
_EXPLICIT_CUES = frozenset({"date of injury", "injury date", "doi", "date of loss"})


def _injury_from_summary(text: str, lo: int, hi: int) -> tuple[re.Match[str], bool] | None:
    """The date after the first injury cue that has one, and whether the cue names the date
    ("date of injury", "DOI") rather than the event ("injured", "claim from")."""
    low = text[lo:hi].lower()
    if len(low) != hi - lo:  # lowercasing changed the length: offsets would drift
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text[lo:hi])
    cues = []
    for cue in _INJURY_CUES:
        at = low.find(cue)
        while at >= 0:
            cues.append((at, cue))
            at = low.find(cue, at + 1)
    for at, cue in sorted(cues):
        if cue == "doi" and (low[at - 1 : at].isalpha() or low[at + 3 : at + 4].isalpha()):
            continue
        start = lo + at + len(cue)
        m = DATE_RE.search(text, start, min(hi, start + 140))
        if m and m.start() - start <= 120 and not _SENTENCE_STOP.search(text, start, m.start()):
            return m, cue in _EXPLICIT_CUES
    return None


# ---------------------------------------------------------------------------------------------
# Diagnoses.

_DX_COLON = re.compile(r"\bDiagnos(?:es|is)\b[^:\n.]{0,30}:[ \t]*\n?[ \t]*", re.I)
_DX_DASH_ENTRY = re.compile(r"-\s*(?P<d>[^-\s](?:[^-]|-(?!\s))*)")
_DX_NUMBERED_ENTRY = re.compile(r"^[ \t]*\(?\d{1,2}[.)][ \t]*(?P<d>[^\n]+)$", re.M)
_DX_PROSE = re.compile(
    r"\b(?:diagnos(?:es|is)|DX|diagnostic\s+impressions?|assessments?(?=\s+(?:has\s+|have\s+)?"
    r"includ))\s*(?:\([^()\n]{1,30}\)\s*)?(?:that\s+)?"
    # Helper verbs: "have included", "have been", "has also included", "were".
    r"(?:(?:(?:have|has|had)\s+(?:also\s+)?(?:been|included)|include[sd]?"
    r"|are|is|was|were|consist(?:s|ed)?\s+of|of)\b\s*:?"
    # A bare colon opens prose or an inline "1) ... 2) ..." list; blocks on their own lines are
    # `_listed_diagnoses`'.
    r"|:(?![ \t]*(?:-|\n[ \t]*(?:-|\(?\d{1,2}[.)]))))\s*"
    r"(?:(?:documented|noted|listed|reported|recorded|given|identified)\s+)?(?:as\s+)?(?::\s*)?"
    # The sentence ends at a full stop that is not an inline list number ("1. Obesity 2. ...").
    r"(?P<list>[^\s:].+?)(?<!\s\d)(?<!\s\d\d)(?=\.(?:\s|$)|\n\n|$)"
    r"|\bdiagnosed\s+(?:with|as\s+having)\s+(?P<list2>.+?)(?=\.(?:\s|$)|\n\n|$)",
    re.I | re.S,
)
_CLAUSE = re.compile(
    r"\b(?:reveal(?:s|ed)?|show(?:s|ed)?|indicat(?:es|ed)|document(?:s|ed)|report(?:s|ed)"
    r"|underwent|was|were|has|had|have)\b",
    re.I,
)
_DX_OF = re.compile(r"diagnos(?:es|is)\s+of\b", re.I)
# A sentence run on to the last entry of a listed block: "medicationsThe utilization review".
_RUN_TOGETHER = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])|\.\s")
# Words that only qualify or locate: after a comma they continue an ICD-style term
# ("dislocation, shoulder", "radiculopathy, left") instead of starting a new diagnosis.
_QUALIFIERS = frozenset(
    re.findall(
        r"\w+",
        "left right bilateral unilateral unspecified subsequent initial encounter sequela region"
        " site sites multiple shoulder knee hip ankle wrist elbow hand foot feet neck back spine"
        " lumbar cervical thoracic lumbosacral sacral upper lower arm forearm leg thigh finger"
        " fingers toe toes joint side other nos not elsewhere classified primary secondary acute"
        " chronic and of the with without recurrent",
    )
)


def _is_qualifier(piece: str) -> bool:
    words = _LETTERS.findall(piece.lower())
    return 0 < len(words) <= 3 and all(w in _QUALIFIERS for w in words)


def _clean_dx(raw: str) -> str:
    value = _DX_NUMBER_LEAD.sub("", raw)
    value = _PARAPHRASED.sub("", value)
    return fold(value).rstrip(".;,").strip()


_DX_INLINE_NUMBER = re.compile(r"(?:^|(?<=\s))\(?\d{1,2}[.)](?=\s)")
_DX_ENTRY_TAIL = re.compile(r"[\s;,]*(?:\band)?[\s;,]*$", re.I)


def _split_numbered(text: str, base: int) -> list[tuple[str, int, int]]:
    """'1) A, left 2) B; and 3) C': one diagnosis per number, commas stay inside an entry."""
    marks = [m.start() for m in _DX_INLINE_NUMBER.finditer(text)] + [len(text)]
    out: list[tuple[str, int, int]] = []
    for s, e in itertools.pairwise(marks):
        tail = _DX_ENTRY_TAIL.search(text, s, e)
        e = tail.start() if tail else e
        value = _clean_dx(text[s:e])
        if value:
            out.append((value, *_trim_span(text, s, e, base)))
    return out


def _split_list(text: str, base: int) -> list[tuple[str, int, int]]:
    """Split on ';' when the letter uses it (`_semicolon_bounds`), else on ',' (qualifiers and
    ICD-10-CM names rejoin), and at the final 'and'."""
    if _DX_INLINE_NUMBER.match(text.lstrip()):
        return _split_numbered(text, base)
    bounds = _semicolon_bounds(text) if ";" in text else _group_bounds(text, 0, len(text))
    out: list[tuple[str, int, int]] = []
    for bs, be in bounds:
        value = _clean_dx(text[bs:be])
        if _CLAUSE.search(value):
            # "diagnosed with a contusion and initial x-rays reveal signs of ...": the sentence
            # went on past the diagnoses; a part with a verb of its own ends the list.
            break
        if value:
            out.append((value, *_trim_span(text, bs, be, base)))
    return out


# The 7th character's wording of an injury code ("initial encounter for closed fracture",
# "subsequent encounter for fracture with routine healing", "sequela"): never a diagnosis alone.
_ENCOUNTER_PIECE = re.compile(r"\s*(?:(?:initial|subsequent)\s+encounter|sequela)\b", re.I)


def _comma_pieces(text: str, start: int, end: int) -> list[list[int]]:
    """The ',' pieces of text[start:end], a piece that only qualifies ("left", "lumbar region",
    "initial encounter for closed fracture", what the code set writes after a comma) joined to
    the one before."""
    merged: list[list[int]] = []
    for m in _PIECES_COMMA.finditer(text, start, end):
        piece = m.group()
        if merged and (
            _is_qualifier(piece) or _ENCOUNTER_PIECE.match(piece) or icd10.is_name_tail(piece)
        ):
            merged[-1][1] = m.end()
        else:
            merged.append([m.start(), m.end()])
    return merged


def _group_bounds(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """One group of a list (no ';' inside): split on ',' (qualifiers and ICD-10-CM names with
    commas rejoin) and the group's final 'and'."""
    pieces = _icd_names_whole(text, _comma_pieces(text, start, end))
    bounds: list[tuple[int, int]] = []
    for i, (s, e) in enumerate(pieces):
        bounds += _split_at_and(text, s, e) if i == len(pieces) - 1 else [(s, e)]
    return bounds


def _split_at_and(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The last piece of a list, split at its 'and' (see `_and_split`), unless it starts with
    one ("and knee arthropathy" is one diagnosis) or reads as one ICD-10-CM name clearly better
    than its parts, as `_icd_names_whole` joins comma pieces ("other synovitis and
    tenosynovitis, unspecified hand")."""
    chunk = text[start:end]
    cuts = list(re.finditer(r"\s+and\s+", chunk))
    if not cuts or re.match(r"\s*and\s", chunk):
        return [(start, end)]
    parts = _and_split(chunk, cuts)
    best = max(_dx_score(chunk[a:b]) for a, b in parts)
    if len(parts) > 1 and _dx_score(chunk) >= max(best + _MERGE_LEAD, _MERGE_FLOOR):
        return [(start, end)]
    return [(start + a, start + b) for a, b in parts]


# Head words of the conditions letters list.  In a ';' list a ',' usually sits inside one
# ICD-10-CM name ("strain of muscle, fascia, and tendon at neck level", "major depressive
# disorder, single episode, moderate"); it parts two diagnoses only when each side names a
# condition of its own ("mild cervical strain, bilateral hand paresthesia ...; low back strain").
_CONDITION_WORDS = frozenset(
    re.findall(
        r"\w+",
        "strain strains sprain sprains tear tears syndrome pain pains fracture fractures contusion"
        " contusions paresthesia paresthesias radiculopathy radiculitis sciatica neuritis"
        " neuropathy tendinitis tendonitis tendinosis tenosynovitis synovitis bursitis"
        " epicondylitis fasciitis capsulitis arthritis osteoarthritis arthropathy spondylosis"
        " stenosis disorder disorders disease injury injuries displacement degeneration"
        " herniation protrusion protrusions bulge bulges impingement dislocation subluxation"
        " laceration abrasion derangement spasm spasms myalgia myospasm cervicalgia lumbago"
        " headache headaches migraine concussion insomnia depression anxiety effusion instability"
        " hypertension diabetes obesity dysfunction lesion deformity",
    )
)


def _names_condition(piece: str) -> bool:
    return any(w in _CONDITION_WORDS for w in _LETTERS.findall(piece.lower()))


def _semicolon_bounds(text: str) -> list[tuple[int, int]]:
    """A list parted by ';': a group is one diagnosis, unless its ',' pieces each name a
    condition, when it is a list of its own ("left shoulder labral tear, possible rotator cuff
    tear and impingement syndrome; left thumb non-displaced fracture" is four).  The list's
    final 'and' splits the last group."""
    groups = [m.span() for m in _PIECES_SEMI.finditer(text)]
    bounds: list[tuple[int, int]] = []
    for i, (gs, ge) in enumerate(groups):
        pieces = _comma_pieces(text, gs, ge)
        if len(pieces) > 1 and all(_names_condition(text[s:e]) for s, e in pieces):
            bounds += _group_bounds(text, gs, ge)
            continue
        bounds += _split_at_and(text, gs, ge) if i == len(groups) - 1 else [(gs, ge)]
    return bounds


_MERGE_LEAD = 5.0
_MERGE_FLOOR = 90.0


def _icd_names_whole(text: str, pieces: list[list[int]]) -> list[list[int]]:
    """Comma pieces joined back where they are one ICD-10-CM name with commas inside ("strain
    of unspecified muscle, fascia and tendon at upper arm level, right arm"): a piece takes the
    next one or two when together they read as a code's description clearly better (by
    _MERGE_LEAD, and at least _MERGE_FLOOR) than each part alone.  A piece that starts with
    "and" starts a new diagnosis."""
    out: list[list[int]] = []
    i = 0
    while i < len(pieces):
        current = list(pieces[i])
        i += 1
        for take in (2, 1):
            following = pieces[i : i + take]
            if len(following) < take or any(re.match(r"\s*and\s", text[s:e]) for s, e in following):
                continue
            joined = text[current[0] : following[-1][1]]
            alone = max(_dx_score(text[s:e]) for s, e in [current, *following])
            if _dx_score(joined) >= max(alone + _MERGE_LEAD, _MERGE_FLOOR):
                current[1] = following[-1][1]
                i += take
                break
        out.append(current)
    return out


_AND_SPLIT_LEAD = 15.0
"""How much better (in ICD-10-CM match score) another split at 'and' must read than the split at
the last 'and' to be taken."""


def _and_split(chunk: str, cuts: list[re.Match[str]]) -> list[tuple[int, int]]:
    """Where the last list piece splits at 'and': at the last 'and' (the list's own), unless
    another choice of 'and's leaves parts that each read clearly better as diagnoses of the
    code set ("pain in the left upper arm and sprain of the other part of the left hand and
    wrist" is two, split at the first 'and'; "right and left shoulder sprain" is one)."""

    def parts(chosen: tuple[re.Match[str], ...]) -> list[tuple[int, int]]:
        edges = [0, *(x for c in chosen for x in (c.start(), c.end())), len(chunk)]
        return list(itertools.pairwise(edges))[::2]

    def reads(bounds: list[tuple[int, int]]) -> float:
        # A bare site or side ("foot", "left") is no diagnosis, however a code reads it.
        scores = [0.0 if _is_qualifier(chunk[a:b]) else _dx_score(chunk[a:b]) for a, b in bounds]
        return min(scores) if scores else 0.0

    default = parts((cuts[-1],))
    if len(cuts) > 3:
        return default
    best, best_score = default, reads(default) + _AND_SPLIT_LEAD
    # Left whole only when the last 'and' would cut off a bare qualifier ("right and left
    # shoulder sprain"): two conditions joined by 'and' are two diagnoses however they score.
    whole_allowed = any(_is_qualifier(chunk[a:b]) for a, b in default)
    for n in range(0 if whole_allowed else 1, len(cuts) + 1):
        for chosen in itertools.combinations(cuts, n):
            option = parts(chosen)
            if option != default and (score := reads(option)) > best_score:
                best, best_score = option, score
    return best


@functools.lru_cache(maxsize=4096)
def _dx_score(text: str) -> float:
    """How well a phrase reads as one diagnosis of ICD-10-CM (0-100)."""
    found = icd10.suggest(_clean_dx(text), limit=1)
    return found[0].score if found else 0.0


_DX_LEAD = re.compile(r"(?:\s|-|and\s|\(?\d{1,2}[.)]|\(paraphrased\))*(?:an?\s+)?", re.I)


def _trim_span(text: str, start: int, end: int, base: int) -> tuple[int, int]:
    """The span of a diagnosis without the list's glue: what `_clean_dx` keeps."""
    raw = text[start:end]
    lead_m = _DX_LEAD.match(raw)
    lead = lead_m.end() if lead_m else 0
    trail = len(raw.rstrip(" \t\n.;,"))
    return base + start + lead, base + start + max(trail, lead)


# Where a diagnosis statement can start, in the lowercased summary.  A case-insensitive
# pattern is tried at every position of a 3 kB summary; a lowercase literal is found by a fast
# scan, and the full pattern then runs only there.
_DX_CUE = re.compile(r"diagnos|dx|assessment")


def _finditer_at_cues(
    pattern: re.Pattern[str], text: str, lo: int, hi: int, lowered: str, cues: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text, lo, hi)`` for a pattern whose every match starts at a ``cues``
    match of ``lowered`` (``text[lo:hi]`` lowercased)."""
    if len(lowered) != hi - lo:  # lowercasing changed a length: positions would not line up
        yield from pattern.finditer(text, lo, hi)
        return
    done = lo
    for cue in cues.finditer(lowered):
        at = lo + cue.start()
        if at < done:
            continue
        m = pattern.match(text, at, hi)
        if m:
            yield m
            done = max(m.end(), at + 1)


def _listed_diagnoses(
    text: str, lo: int, hi: int, lowered: str | None = None
) -> list[tuple[str, int, int]]:
    """A block after "Diagnoses:": dash entries (run together or not) or numbered lines."""
    found: list[tuple[str, int, int]] = []
    if lowered is None:
        lowered = text[lo:hi].lower()
    colons = list(_finditer_at_cues(_DX_COLON, text, lo, hi, lowered, _DX_CUE))
    for k, m in enumerate(colons):
        start = m.end()
        if text.startswith("-", start):
            # A block ends at a blank line, the next "Diagnoses:", or 1,500 characters on.
            stop = min(hi, start + 1500, colons[k + 1].start() if k + 1 < len(colons) else hi)
            end = text.find("\n\n", start, stop)
            block = text[start : end if end >= 0 else stop]
            if "\n-" in block and (prose := re.search(r"\n(?=[ \t]*[A-Z])", block)):
                # One entry a line: a capitalized line without its dash is the summary going
                # on (a wrapped entry continues in lower case).
                block = block[: prose.start()]
            entries = list(_DX_DASH_ENTRY.finditer(block))
            for j, entry in enumerate(entries):
                raw = entry.group("d")
                if j == len(entries) - 1 and (cut := _RUN_TOGETHER.search(raw)):
                    raw = raw[: cut.start()]
                value = _clean_dx(raw)
                if value:
                    s0 = start + entry.start("d")
                    found.append((value, *_trim_span(text, s0, s0 + len(raw), 0)))
        elif re.match(r"\(?\d{1,2}[.)]", text[start : start + 4]):
            pos = start
            while (numbered := _DX_NUMBERED_ENTRY.match(text, pos, hi)) is not None:
                value = _clean_dx(numbered.group("d"))
                if value:
                    found.append((value, *_trim_span(text, *numbered.span("d"), 0)))
                pos = numbered.end() + 1
    return found


def _diagnoses(text: str, lo: int, hi: int) -> tuple[list[tuple[str, int, int]], float]:
    body = text[lo:hi]
    lowered = body.lower()
    if "diagnos" not in lowered and "dx" not in lowered and "assessment" not in lowered:
        # Case-insensitive patterns cannot skip ahead; most of the cost is proving absence.
        return [], ABSENT.unmentioned
    listed = _listed_diagnoses(text, lo, hi, lowered)
    if listed:
        # Several statements count, each diagnosis once (GOLD_CONVENTIONS).
        return _first_of_each(listed), CLEAR.listed_diagnoses
    found, statements = _prose_diagnoses(text, lo, hi, lowered)
    if found:
        # Splitting prose on commas and "and" is where diagnoses go wrong; long lists more so.
        short = len(found) <= 3 and statements == 1
        return found, FALLBACK.short_prose_diagnoses if short else FALLBACK.prose_diagnoses
    # No statement found: right if the summary never speaks of a diagnosis.
    spoken = re.search(r"diagnos", body, re.I)
    return found, ABSENT.unparsed_diagnoses if spoken else ABSENT.unmentioned


# Whose diagnoses a rationale's statement gives: the patient's, named at a sentence's or a
# clause's start ("His diagnoses include ...", "She has a diagnosis of ...", "The patient is
# diagnosed with ...", "In this case, the injured worker's working diagnoses are ...").  Not a
# guideline's ("supporting a diagnosis of radiculopathy", "red-flag diagnoses are being
# evaluated") nor a number's ("the number of visits for the patient's diagnosis is 10").
# A sentence starts after a stop or at a paragraph; a single line break is only where a PDF
# wrapped the line ("the number of sessions for the\npatient's diagnosis is 10 visits").
_PATIENT_DX_SUBJECT = re.compile(
    r"(?:[.:;,]|\n[ \t]*\n)\s*(?:"
    r"(?:his|her|(?:the\s+)?(?:patient|claimant|injured\s+worker|applicant|employee)'s)"
    r"|(?:he|she|(?:the\s+)?(?:patient|claimant|injured\s+worker|applicant|employee))\s+"
    r"(?:has|had|is|was)(?:\s+(?:also|been))*(?:\s+given)?)"
    r"(?:\s+(?:a|the|working|current|primary|final))*\s+\Z",
    re.I,
)
_SUBJECT_REACH = 100
"""How far before a statement its subject is looked for (characters)."""


def _rationale_diagnoses(text: str, lo: int, hi: int) -> list[tuple[str, int, int]]:
    """Diagnoses the decision rationales state of the patient (`_PATIENT_DX_SUBJECT`), each
    once: what a letter whose summary states none gives (the rationale retells the case)."""
    found: list[tuple[str, int, int]] = []
    for m in _dx_statements(text, lo, hi, text[lo:hi].lower()):
        if _PATIENT_DX_SUBJECT.search(text[max(lo, m.start() - _SUBJECT_REACH) : m.start()]):
            found += _statement_list(m)
    return _first_of_each(found)


def _first_of_each(found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Each value once, where it first appears."""
    seen: set[str] = set()
    unique = []
    for f in found:
        if f[0] not in seen:
            seen.add(f[0])
            unique.append(f)
    return unique


def _prose_diagnoses(
    text: str, lo: int, hi: int, lowered: str
) -> tuple[list[tuple[str, int, int]], int]:
    """Diagnoses stated in sentences ("Diagnoses include A, B and C"), each once, and how
    many statements gave them."""
    matches = _dx_statements(text, lo, hi, lowered)
    # "a diagnosis of X" also names past conditions ("a history of a diagnosis of autism"):
    # it counts only where the summary has no statement of the current diagnoses.
    strong = [m for m in matches if not _DX_OF.match(m.group())]
    found: list[tuple[str, int, int]] = []
    for m in strong or matches:
        found += _statement_list(m)
    return _first_of_each(found), len(strong or matches)


_DX_LIST_MAX = 600
"""A statement's list longer than this (characters) ran on past its sentence."""


def _dx_statements(text: str, lo: int, hi: int, lowered: str) -> list[re.Match[str]]:
    """The diagnosis statements (`_DX_PROSE`) in text[lo:hi] (``lowered`` is it lowercased)."""
    return [
        m
        for m in _finditer_at_cues(_DX_PROSE, text, lo, hi, lowered, _DX_CUE)
        if len(m.group("list") or m.group("list2")) <= _DX_LIST_MAX
    ]


def _statement_list(m: re.Match[str]) -> list[tuple[str, int, int]]:
    """The diagnoses one statement lists, with their spans."""
    group = "list" if m.group("list") is not None else "list2"
    return _split_list(m.group(group), m.start(group))


# ---------------------------------------------------------------------------------------------
# Items.


def _generic_ingredients(request: str, letter_text: str) -> list[str] | None:
    """The lexicon engineer's resolver; None while it is not there yet."""
    try:
        from imrgold.core.lexicon import generic_ingredients
    except ImportError:
        return None
    try:
        return list(generic_ingredients(request, letter_text))
    except Exception:
        return None


def _items(text: str, repaired: Repaired, blocks: list[ItemBlock], fields: _Fields) -> None:
    for i, block in enumerate(blocks):
        heading, request, r_start = _item_request(text, block, i, fields)
        category, _ = _item_kind(text, repaired, block, request, i, fields)
        _item_detail(heading, block, request, r_start, category, i, fields)
        _item_guidelines(text, block, i, fields)
        _item_rationale(text, block, i, last=i + 1 == len(blocks), fields=fields)


def _item_request(text: str, block: ItemBlock, i: int, fields: _Fields) -> tuple[str, str, int]:
    """Request and decision; returns the heading, the request and where it starts in it."""
    h_start, h_end = block.heading
    heading = text[h_start:h_end]
    r_start, r_end = items_mod.request_range(heading)
    request = fold(heading[r_start:r_end]).rstrip(" ,;:")
    base = CLEAR.labelled_item if block.labelled else FALLBACK.unlabelled_item
    partial = r_start > 0
    multiline = "\n" in heading.strip()
    conf = base + (
        WHOLE_HEADING if not (partial or multiline) else PARTIAL_HEADING if partial else 0.0
    )
    fields.put(item_path(i, "request"), request, conf, [(h_start + r_start, h_start + r_end)])
    fields.put(
        item_path(i, "decision"), block.decision, base + WHOLE_HEADING, [block.decision_span]
    )
    return heading, request, r_start


def _item_kind(
    text: str, repaired: Repaired, block: ItemBlock, request: str, i: int, fields: _Fields
) -> tuple[str | None, float]:
    """Category and drugs, which decide each other ("Toradol injection" is a medication)."""
    span = [fields.get_span(item_path(i, "request"))]
    drugs = (
        _generic_ingredients(request, repaired.original) if items_mod.might_be_drug(request) else []
    )
    drug_list = drugs or []
    context = " ".join(
        text[r[0] : min(r[1], r[0] + 600)] for r in (block.maximus, block.rationale) if r
    )
    category, conf = items_mod.category(request, drug_list, context)
    # Scaled as an unlabelled item's request is against a labelled one's.
    conf *= 1.0 if block.labelled else FALLBACK.unlabelled_item / CLEAR.labelled_item
    fields.put(item_path(i, "category"), category, conf, span)
    if drugs is None:
        fields.put(item_path(i, "drugs"), [], DOUBT.lexicon_failed)
    elif category == "medication":
        # A medication the lexicon cannot resolve is most likely an unknown product or a
        # misspelling: worth a look.
        conf = CLEAR.resolved_drugs if drug_list else DOUBT.unknown_drug
        fields.put(item_path(i, "drugs"), drug_list, conf, span)
    else:
        # Empty by rule once the category is not a medication: the category carries the doubt, so
        # one low-confidence row asks the annotator, not seven.
        conf = ABSENT.by_rule if not drug_list else FALLBACK.drugs_outside_medication
        fields.put(item_path(i, "drugs"), [], conf)
    return category, conf


def _item_detail(
    heading: str,
    block: ItemBlock,
    request: str,
    r_start: int,
    category: str | None,
    i: int,
    fields: _Fields,
) -> None:
    """Strength, form, amount, quantity, route, frequency: from a medication's request only."""
    is_med = category == "medication"
    detail = items_mod.drug_detail(request) if is_med else {}
    leftover = _unexplained_numbers(request, detail) if is_med else 0
    h_start = block.heading[0]
    for name in ("strength", "form", "amount", "quantity", "route", "frequency"):
        found = detail.get(name)
        if found is None:
            conf = ABSENT.unread_numbers if is_med and leftover else ABSENT.by_rule
            fields.put(item_path(i, name), None, conf)
            continue
        span = _locate(heading, r_start, request, found.start, found.end)
        joined = name == "strength" and "/" in found.value and "%" in found.value
        fields.put(
            item_path(i, name),
            found.value,
            FALLBACK.joined_strength if joined else CLEAR.request_detail,
            [(h_start + span[0], h_start + span[1])] if span else [],
        )


def _item_guidelines(text: str, block: ItemBlock, i: int, fields: _Fields) -> None:
    if block.maximus:
        paragraph = fold(text[block.maximus[0] : block.maximus[1]])
        value, conf = items_mod.guidelines(paragraph)
        fields.put(item_path(i, "guidelines"), value, conf, [block.maximus])
    else:
        fields.put(item_path(i, "guidelines"), [], ABSENT.no_text)


def _item_rationale(text: str, block: ItemBlock, i: int, last: bool, fields: _Fields) -> None:
    if block.rationale:
        r_lo, r_hi = block.rationale
        rationale = fold(fix_mojibake(text[r_lo:r_hi]))
        # The last rationale runs to the end of the letter, footers and all.
        if not rationale:
            conf = ABSENT.no_text
        else:
            conf = CLEAR.last_rationale if last else CLEAR.bounded_rationale
        fields.put(item_path(i, "rationale"), rationale or None, conf, [(r_lo, r_hi)])
    else:
        fields.put(item_path(i, "rationale"), None, ABSENT.no_text)


def _unexplained_numbers(request: str, detail: dict[str, items_mod.Found | None]) -> int:
    """Digits in a medication request that no detail field accounts for: a sign of a dose,
    count or frequency the rules did not read."""
    covered = [(f.start, f.end) for f in detail.values() if f is not None]
    count = 0
    for m in _NUMBER.finditer(request):
        if not any(s <= m.start() < e for s, e in covered):
            count += 1
    return count


def _locate(
    heading: str, offset: int, request: str, start: int, end: int
) -> tuple[int, int] | None:
    """Map a (start, end) in the folded request back into the heading (whitespace may differ)."""
    needle = request[start:end].strip()
    if not needle:
        return None
    pattern = r"\s+".join(re.escape(p) for p in needle.split())
    m = re.search(pattern, heading[offset:])
    return (offset + m.start(), offset + m.end()) if m else None


# ---------------------------------------------------------------------------------------------


def _case_header(clean: str, sections: Sections, fields: _Fields) -> int | None:
    """Case number, the five dates and priority.  Returns where the header table starts when
    text extraction placed it after the letter's start (the last item ends there)."""
    cells, moved = _header_table(clean, sections)
    decision_cell = cells.get("decision_date")
    decided = parse_date(decision_cell[0], None) if decision_cell else None
    # Two-digit years are read against the decision's year (else the letter's latest).
    pivot = decided.year if decided else latest_year(clean)
    for name in HEADER_FIELDS:
        cell = cells.get(name)
        if cell is not None:
            raw, start, end, same_line = cell
            value = _header_value(name, raw, pivot)
            if value is None:
                conf = DOUBT.unparsed_date
            else:
                conf = READ.cell_on_label_line if same_line else CLEAR.cell_by_kind
            fields.put(name, value, conf, [(start, end)])
    for name in HEADER_FIELDS:
        if name not in fields.fields and name != "date_of_injury":
            # A header with this cell missing is odd; no header at all is a known layout.
            fields.put(name, None, ABSENT.missing_cell if cells else ABSENT.unmentioned)
    if "date_of_injury" not in fields.fields:
        _injury_date(clean, sections, pivot, fields)
    return moved


def _header_table(
    clean: str, sections: Sections
) -> tuple[dict[str, tuple[str, int, int, bool]], int | None]:
    """The header's cells, and where the table starts when it is not at the letter's start."""
    cells = _header_cells(clean, *sections.header)
    if cells or not (table := _case_label(clean)):
        return cells, None
    # A header table that text extraction placed elsewhere (after the summary, on the last
    # page): read the labels and values around its "Case Number:".
    cells = _header_cells(clean, table.start(), min(len(clean), table.start() + 700))
    return cells, clean.rfind("\n", 0, table.start()) + 1 if cells else None


def _header_value(name: str, raw: str, pivot: int | None) -> str | None:
    """A header cell's value as the gold record holds it (None: a date that does not parse)."""
    if name == "case_number":
        return _SPACES.sub("", raw).upper()
    if name == "priority":
        return "expedited" if raw.lower() in ("expedited", "urgent") else "standard"
    parsed = parse_date(raw, pivot)
    return parsed.isoformat() if parsed else None


def _injury_date(clean: str, sections: Sections, pivot: int | None, fields: _Fields) -> None:
    """The date of injury from the summary's prose (else the whole letter's), when the header
    does not give it."""
    found = _injury_from_summary(clean, *sections.summary) or _injury_from_summary(
        clean, 0, len(clean)
    )
    parsed = parse_date(found[0].group(), pivot) if found else None
    if found and parsed:
        fields.put(
            "date_of_injury",
            parsed.isoformat(),
            CLEAR.named_injury_date if found[1] else FALLBACK.injury_event_date,
            [found[0].span()],
        )
    else:
        fields.put("date_of_injury", None, ABSENT.no_injury_date)


def _extract(text: str, letter_id: str, calibration: Calibration | None) -> Proposal:
    repaired = repair(text)
    clean = repaired.text
    fields = _Fields(repaired)
    sections = find_sections(clean)
    moved_header = _case_header(clean, sections, fields)
    issues = sections.issues
    if moved_header is not None and issues[0] < moved_header < issues[1]:
        issues = (issues[0], moved_header)
    _reviewer(clean, *sections.reviewer, fields)
    _patient(clean, sections.summary, fields)
    dx, dx_conf = _diagnoses(clean, *sections.summary)
    if not dx and (told := _rationale_diagnoses(clean, *issues)):
        dx, dx_conf = told, FALLBACK.rationale_diagnoses
    dx_spans = [(s, e) for _, s, e in dx]
    fields.put("diagnoses", [v for v, _, _ in dx], dx_conf, dx_spans)
    links = [icd10.link(v, context=clean) for v, _, _ in dx]
    # The codes are as sure as the diagnoses they code and the weakest link among them.
    codes_conf = min([dx_conf, *(c for _, c in links)])
    fields.put("diagnosis_codes", [code for code, _ in links], codes_conf, dx_spans)

    blocks = find_items(clean, issues)
    _items(clean, repaired, blocks, fields)

    ordered = {}
    for path in field_paths(len(blocks)):
        proposed = fields.fields.get(path) or _field(
            [] if is_list_field(path) else None, [], ABSENT.no_text
        )
        if calibration is not None:
            # Built above for this proposal alone: set in place, not copied (~60 fields a letter).
            proposed.__dict__["confidence"] = calibration.confidence(
                field_key(path), proposed.confidence
            )
        ordered[path] = proposed
    return _built(
        Proposal,
        {
            "letter_id": letter_id,
            "fields": ordered,
            "calibrated": calibration is not None,
            "failure": None,
            "extractor": None,
        },
        _PROPOSAL_FIELDS,
    )


def extract(
    text: str, letter_id: str, *, calibrated: bool = True, log_failure: bool = True
) -> Proposal:
    """The machine's proposal for one letter; never raises on any ``str``.

    Confidences are calibrated on real letters with gold (`core.calibration`); with
    ``calibrated=False`` they are the rules' own strengths (what the calibration is fitted on).
    A failure is logged unless ``log_failure`` is False: for a caller that tells the person
    itself (`Proposal.failure_note`), so the problem is said once."""
    calibration = default_calibration() if calibrated else None
    try:
        return _extract(text, letter_id, calibration)
    except Exception as err:  # a rule tripping on a strange letter must not stop a batch
        # ...but it is never silent: the letter and the rule that tripped are named.
        failure = f"{failed_rule(err)}: {type(err).__name__}: {err}"
        if log_failure:
            log.error("extraction failed on letter %s in %s", letter_id[:16], failure)
        return Proposal(
            letter_id=letter_id,
            fields={
                p: ProposedField(value=[] if is_list_field(p) else None, confidence=0.0)
                for p in LETTER_FIELDS
            },
            calibrated=calibrated,
            failure=failure,
        )


def failed_rule(err: BaseException) -> str:
    """The innermost function of the extractor's own modules an exception passed through."""
    here = str(Path(__file__).resolve().parent)
    frames = traceback.extract_tb(err.__traceback__)
    inner = [f for f in frames if str(Path(f.filename).resolve()).startswith(here)]
    return inner[-1].name if inner else "?"
