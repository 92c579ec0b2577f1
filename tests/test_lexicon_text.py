"""The pure text helpers under the lexicon: what counts as a name, a salt, a form, a dose."""

from __future__ import annotations

import pytest

from imrgold.core.lexicon_text import compact, name_tokens, split_components, strip_salts, tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Norco 10/325 #60", ["norco"]),
        ("Norco10/325mg#60", ["norco"]),
        ("Fexmid 7.5mg 1 po q8-12 prn #90", ["fexmid"]),
        ("Fexmid7.5mg 1po q8-12h prn", ["fexmid"]),
        ("Cyclophene 5% in PLO gel dosage 120 grams: apply thin layer", ["cyclophene"]),
        ("Diclofenac Sodium 1.5% 60 gm qty 1", ["diclofenac"]),
        ("Venlafaxine HCL ER 37.5mg #90", ["venlafaxine"]),
        ("Magnesium oxide 400 mg", ["magnesium", "oxide"]),
        ("Sodium", ["sodium"]),
        ("Deprizine 15mg/ml oral suspension, 250ml", ["deprizine"]),
        ("Medi-derm 0.035-520 percent cream", ["medi", "derm"]),
        ("Tylenol #3 #60", ["tylenol", "codeine"]),
        ("Ibuprofène 400", ["ibuprofene"]),
        ("Terocin pafch #30", ["terocin"]),  # a form with one slip is still a form
        ("Cyclobenzaprine 7.5 mg tablts", ["cyclobenzaprine"]),
        ("Creon 24000 units", ["creon"]),  # two letters from "cream": a drug
        ("10/325 mg #60 po bid", []),
        ("", []),
    ],
)
def test_name_tokens_keep_only_name_words(text: str, expected: list[str]) -> None:
    assert name_tokens(text) == expected


@pytest.mark.parametrize(
    ("damaged", "reading"),
    [("Cyc1obenzaprine", "cyclobenzaprine"), ("Effex0r", "effexor"), ("0meprazole", "omeprazole")],
)
def test_ocr_digits_inside_words_are_read_as_letters(damaged: str, reading: str) -> None:
    assert tokens(damaged) == [reading]


def test_numbers_stay_numbers() -> None:
    assert tokens("10mg 0.5% b12") == ["10", "mg", "0.5", "b", "12"]


@pytest.mark.parametrize(
    ("canonical", "parts"),
    [
        ("abacavir, dolutegravir, and lamivudine", ["abacavir", "dolutegravir", "lamivudine"]),
        ("diclofenac/misoprostol", ["diclofenac", "misoprostol"]),
        ("lidocaine patch", ["lidocaine"]),
        ("buprenorphine sublingual and buccal (opioid dependence)", ["buprenorphine"]),
        ("diclofenac (arthritis pain)", ["diclofenac"]),
        ("penicillin g benzathine", ["penicillin g"]),
        ("hydrocodone bitartrate and acetaminophen", ["hydrocodone", "acetaminophen"]),
    ],
)
def test_canonical_names_split_into_ingredients(canonical: str, parts: list[str]) -> None:
    assert split_components(canonical) == parts


def test_salts_drop_only_from_the_end() -> None:
    assert strip_salts("naproxen sodium") == "naproxen"
    assert strip_salts("sodium bicarbonate") == "sodium bicarbonate"
    assert strip_salts("sodium") == "sodium"


def test_compact_ignores_spacing_and_punctuation() -> None:
    assert compact("Medi-derm") == compact("Medi derm") == compact("MEDIDERM") == "mediderm"
