"""Text repair keeps offsets: what the extractor reads maps back to the letter's own characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from imrgold.core.extract_dates import full_year, parse_date
from imrgold.core.text import fix_mojibake, fold, repair

LETTERS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "letters").glob("*.txt"))


@pytest.mark.parametrize("letter", LETTERS, ids=[p.stem for p in LETTERS])
def test_every_kept_character_maps_to_itself(letter: Path) -> None:
    original = letter.read_text(encoding="utf-8")
    repaired = repair(original)
    for pos, char in enumerate(repaired.text):
        if char.isascii() and char.isalnum():
            assert original[repaired.to_original(pos)] == char


def test_pdf_double_spacing_becomes_one_line_a_line_with_paragraphs_kept() -> None:
    original = "First line \n\nsecond line \n\nthird \n\n \n\nNew paragraph \n\nlast \n\n"
    repaired = repair(original)
    assert repaired.text == "First line\nsecond line\nthird\n\nNew paragraph\nlast"
    start = repaired.text.index("second")
    at = original.index("second")
    assert repaired.span(start, start + 6) == (at, at + 6)


def test_markup_goes_and_spans_skip_it() -> None:
    original = "### IMR ISSUES\n**Baclofen cream #2 120mg:** Upheld\n<b>Case Number:</b>\tCM14-01"
    repaired = repair(original)
    assert repaired.text == "IMR ISSUES\nBaclofen cream #2 120mg: Upheld\nCase Number:\tCM14-01"
    start = repaired.text.index("Baclofen")
    end = start + len("Baclofen cream #2 120mg")
    o_start, o_end = repaired.span(start, end)
    assert original[o_start:o_end] == "Baclofen cream #2 120mg"


def test_mojibake_is_fixed_and_its_span_covers_the_damaged_bytes() -> None:
    original = "C.C.R. Â§Â§9792.20 and Î±-adrenergic"
    repaired = repair(original)
    assert repaired.text == "C.C.R. §§9792.20 and α-adrenergic"
    start = repaired.text.index("§§")
    o_start, o_end = repaired.span(start, start + 2)
    assert original[o_start:o_end] == "Â§Â§"
    assert fix_mojibake("DuragesicÂ®.") == "Duragesic®."


def test_form_feeds_and_indentation_vanish() -> None:
    original = "medically necessary.\n\fVoltaren gel: Upheld\n          CLINICAL CASE SUMMARY   \n"
    repaired = repair(original)
    assert repaired.text == "medically necessary.\nVoltaren gel: Upheld\nCLINICAL CASE SUMMARY"


def test_fold_joins_hyphen_breaks_and_keeps_spaced_dashes() -> None:
    assert fold("the FDA-\napproved forms") == "the FDA-approved forms"
    assert fold("Page 111 of 127--\nTopical") == "Page 111 of 127--Topical"
    assert fold("9792.20 -\n9792.26  MTUS") == "9792.20 - 9792.26 MTUS"


def test_two_digit_years_follow_the_decision_year() -> None:
    assert full_year(0, 2014) == 2000
    assert full_year(98, 2017) == 1998
    assert parse_date("06/27/00", 2014).isoformat() == "2000-06-27"
    assert parse_date("injured on Feb. 14, 2013").isoformat() == "2013-02-14"
    assert parse_date("10-26-2016").isoformat() == "2016-10-26"
    assert parse_date("13/45/2016") is None


def test_without_a_four_digit_year_the_latest_two_digit_year_pivots() -> None:
    from imrgold.core.extract_dates import latest_year

    assert latest_year("injured 10/24/00, seen 7/1/14 and 4/21/14") == 14
    assert latest_year("decided in 2014, injured 10/24/98") == 2014
    assert full_year(98, 14) == 1998
    assert full_year(98, None) == 1998  # never a year still to come
