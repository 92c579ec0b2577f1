"""De-identification tries each pattern only where one of its matches can start, and skips a
pattern whose text lacks what every match holds (``core.deidentify._finditer``): it must find
exactly what scanning the whole text finds, on the real letters, the seeded-identifier corpus and
generated text; and de-identifying with the plain scans must give the same text, offsets and
counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from imrgold.core import deidentify
from imrgold.core.deidentify import Deidentifier
from imrgold.core.models import GoldRecord
from imrgold.core.reading import read_letter
from tests.test_deidentify_corpus import CASES
from tests.test_streaming import TRICKY, _deidentified

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LETTERS = sorted(
    [*(FIXTURES / "letters").glob("*.txt"), *(FIXTURES / "holdout" / "letters").glob("*.txt")]
)
# A word that is not a month makes a match of these two but never an edit.
MONTH_WORD = {deidentify._LONG_DATE, deidentify._MONTH_YEAR}
PATTERNS = sorted(
    {*deidentify._STARTS, *deidentify._NEEDS}, key=lambda p: p.pattern
)  # every pattern the fast scans change

FRAGMENTS = [
    "CM16-0237844", "CM16 0237844", "cm160237844", "CM 16 - 0237844", "(916) 555-0112",
    "916.555.8811", "1-800-555-2304", "+1 916 555 0000", "1(916)555 1234", "555) 123-4567",
    "192.168.0.44", "Section 3.3.8.2", "520-44-1937", "SSN: 520441937", "ſocial ſecurity no. 12",
    "ADJ1070700", "adj 1234567", "MRN-009921", "Claım # AB12345", "POLİCY No. 99812",
    "member id ZX9981", "account no. 7", "1200 Mariposa Canyon Road, Suite 4B", "12 N. Elm St.",
    "Rancho Cordova, CA 95670", "Rancho Santa Margarita, CA 92688", "At Bb Cc Dd,CA 12345",
    "Sacramento, California 95814-1234", "in Lodi,CA 95240",
    "3-4-2016", "03.10.2016", "2016/03/14", "2016-3-4", "03/2016", "1/20", "01-10-16",
    "March 4, 2016", "Sept. 3rd, 2015", "May 2016", "decision 2016", "DEC 12 2016",
    "93 y/o", "93-year-old", "93yo", "93YO", "94Years old", "91 yrs", "aged 93", "Aged  101",
    "ninety-three years old",
    "Employee: Maria Gonzalvez", "\n  Claimant : Ann Lee", "Dr. Harlan Pryce", "Mrs. Smith",
    "Miss Ivy", "Mx Kay", "a.b@example.org", "www.example.com/x", "HTTP://x.y", " ", "  ", "\n",
    "\t", ", ", ",", "-", "/", ".", "(", "+", ":", "1", "12", "123", "2016", "12345", "1234567",
    "ß", "İ", "ı", "\u212a", "é", "٣", "a", "Word", "may be",
]  # fmt: skip


def _spans(pattern, text, fast: bool) -> list[tuple[int, int]]:
    found = (
        deidentify._finditer(pattern, text, deidentify._Facts(text))
        if fast
        else pattern.finditer(text)
    )
    if pattern in MONTH_WORD:
        found = (m for m in found if m["mon"].lower() in deidentify._MONTHS)
    return [m.span() for m in found]


def check_scans(text: str) -> None:
    for pattern in PATTERNS:
        assert _spans(pattern, text, True) == _spans(pattern, text, False), pattern.pattern


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))
@example("a 93YO man, 94Years old; Rancho Santa Margarita, CA 92688 (916) 555-0112")
def test_generated_text_gives_what_the_whole_scan_gives(text) -> None:
    check_scans(text)


@given(st.text(alphabet="0123456789 -./()+,:CAMaymrnDJdsoy\n", max_size=60))
def test_digits_and_separators_give_what_the_whole_scan_gives(text) -> None:
    check_scans(text)


@pytest.mark.parametrize("path", LETTERS, ids=lambda p: p.name)
def test_real_letters_give_what_the_whole_scan_gives(path) -> None:
    check_scans(read_letter(path).text)


def test_the_seeded_corpus_gives_what_the_whole_scan_gives() -> None:
    for _, text, _, _ in CASES:
        check_scans(text)
    for text in TRICKY:
        check_scans(text)


def test_deidentified_text_is_the_same_with_whole_scans(monkeypatch) -> None:
    texts = [read_letter(p).text for p in LETTERS] + [t for _, t, _, _ in CASES] + TRICKY
    fast = _deidentified(texts)
    monkeypatch.setattr(deidentify, "_STARTS", {})
    monkeypatch.setattr(deidentify, "_NEEDS", {})
    deidentify._labelled.cache_clear()
    assert _deidentified(texts) == fast


def _one_at_a_time(values: list[str | None], names: frozenset[str]) -> tuple[list, dict]:
    """Each string alone, with the names any of them labels."""
    deid = Deidentifier("gate-key")
    names = names.union(*(deidentify.names_in(v) for v in values if v is not None))
    done = [None if v is None else deid.free_text(v, "letter", 2017, names)[0] for v in values]
    return done, dict(deid.counts)


def _in_one_pass(values: list[str | None], names: frozenset[str]) -> tuple[list, dict]:
    deid = Deidentifier("gate-key")
    return deid.strings(values, "letter", 2017, names), dict(deid.counts)


NAMES = frozenset({"Gonzalvez", "Maria", "Pryce", "Word"})
PIECES = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)


@given(st.lists(st.one_of(st.none(), PIECES), max_size=8))
@example(["Employee:", "Maria Gonzalvez"])  # a label at one string's end, its value in the next
@example(["CM16", "0237844", "March", "4, 2016", "93", "years old", "Dr.", "Pryce"])
@example(["Rancho Cordova,", "CA 95670", "DOB:", "02/11/1923", "www.example.com", "/x"])
@example(["a\x00b 3/4/2016", "Mr. Word"])  # a string holding the separator's mark
def test_a_records_strings_in_one_pass_are_each_as_alone(values) -> None:
    assert _in_one_pass(values, NAMES) == _one_at_a_time(values, NAMES)


@pytest.mark.parametrize("path", sorted((FIXTURES / "gold").glob("*.json")), ids=lambda p: p.stem)
def test_real_records_strings_in_one_pass_are_each_as_alone(path) -> None:
    record = GoldRecord.model_validate_json(path.read_text(encoding="utf-8"))
    values: list[str | None] = [d.text for d in record.diagnoses]
    for item in record.items:
        values += [item.request, item.rationale]
    letter = FIXTURES / "letters" / f"{path.stem}.txt"
    names = deidentify.names_in(letter.read_text(encoding="utf-8")) if letter.exists() else NAMES
    assert _in_one_pass(values, names) == _one_at_a_time(values, names)


def test_seeded_records_strings_in_one_pass_are_each_as_alone() -> None:
    for _, text, _, _ in CASES:
        names = deidentify.names_in(text)
        paragraphs = text.split("\n\n")
        assert _in_one_pass(paragraphs, names) == _one_at_a_time(paragraphs, names)
