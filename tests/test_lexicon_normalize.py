"""Item request -> generic ingredients, on the fixture letters and their gold records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imrgold.core import lexicon
from imrgold.core.lexicon import Lexicon

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One build per test session: every lexicon test module points at the same cache folder.
    return tmp_path_factory.getbasetemp() / "lexicon-cache"


@pytest.fixture
def lex(shared_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lexicon]:
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(shared_cache))
    monkeypatch.setenv("IMRGOLD_DATA_DIR", str(tmp_path / "data"))
    lexicon.reset_default_lexicon()
    yield lexicon.default_lexicon()
    lexicon.reset_default_lexicon()


def _gold_items() -> list[tuple[Path, str, list[str], str]]:
    """Every (letter, request, drugs, category) of the hand-written gold records, real and
    synthetic letters alike."""
    out = []
    for folder in (FIXTURES, FIXTURES / "synthetic"):
        for path in sorted((folder / "gold").glob("*.json")):
            letter = folder / "letters" / f"{path.stem}.txt"
            if not letter.exists():
                continue
            record = json.loads(path.read_text(encoding="utf-8"))
            for item in record["items"]:
                out.append((letter, item["request"], item["drugs"], item.get("category") or ""))
    return out


GOLD_ITEMS = _gold_items()


@pytest.mark.skipif(not GOLD_ITEMS, reason="no gold records yet")
def test_every_gold_item_normalizes_with_and_without_its_letter(lex: Lexicon) -> None:
    wrong = []
    for letter, request, drugs, _category in GOLD_ITEMS:
        text = letter.read_text(encoding="utf-8", errors="replace")
        for letter_text in (text, None):
            got = lexicon.generic_ingredients(request, letter_text)
            if got != drugs:
                wrong.append((letter.name, request, letter_text is not None, got, drugs))
    assert not wrong, wrong
    assert any(drugs for _, _, drugs, _ in GOLD_ITEMS), "the fixtures name no drug at all"


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("Norco 10/325 #60", ["acetaminophen", "hydrocodone"]),
        ("Norco10/325mg#60", ["acetaminophen", "hydrocodone"]),
        ("Fexmid 7.5mg 1 po q8-12 prn #90", ["cyclobenzaprine"]),
        ("Flexeril 10 mg tid", ["cyclobenzaprine"]),
        ("Diclofenac Sodium 1.5% 60 gm qty 1", ["diclofenac"]),
        ("Medi-derm 0.035-520 percent cream", ["capsaicin", "menthol", "methyl salicylate"]),
        ("MEDIDERM cream", ["capsaicin", "menthol", "methyl salicylate"]),
        ("Terocin patch #30", ["lidocaine", "menthol"]),
        ("Terocin lotion 120ml", ["capsaicin", "lidocaine", "menthol", "methyl salicylate"]),
        ("Tabradol 1mg/ml oral suspension, 250ml", ["cyclobenzaprine", "methylsulfonylmethane"]),
        ("Hydrocodone/APAP 10/325 #120", ["acetaminophen", "hydrocodone"]),
        ("Voltaren gel 1% 100g", ["diclofenac"]),
        ("Physical therapy 2x6 for the lumbar spine", []),
        ("standard wheelchair for a 2 month rental", []),
        ("MRI of the right shoulder", []),
        ("Medial branch block L4-5", []),
        ("Lumbar epidural steroid injection L4-L5", []),
        ("Urine drug screen", []),
        ("TENS unit with supplies", []),
        ("same cream as before", []),  # not "Sam-e" written without its hyphen
        ("Cyclobenzaprne 7.5mg #60", ["cyclobenzaprine"]),
        ("", []),
    ],
)
def test_requests_normalize(lex: Lexicon, request_text: str, expected: list[str]) -> None:
    assert lexicon.generic_ingredients(request_text) == expected


def test_ocr_damage_resolves_through_the_letter(lex: Lexicon) -> None:
    letter = (
        "Compounded Cyclopean 5% PLO gel dosage 120grams was requested.\n"
        "Compounded Cyclophene 5% in PLO gel dosage 120 grams: Upheld\n"
    )
    assert lexicon.generic_ingredients("Cyclopean 5% PLO gel", letter) == ["cyclobenzaprine"]
    # Without the letter the damaged word is too far from any name to risk a guess.
    assert lexicon.generic_ingredients("Cyclopean 5% PLO gel") == []


def test_a_product_the_letter_names_but_nobody_knows_stays_unknown(lex: Lexicon) -> None:
    letter = "Zorvalex (unknown quantity): Upheld\nthe request for Zorvalex is not necessary."
    assert lexicon.generic_ingredients("Zorvalex (unknown quantity)", letter) == []


@pytest.mark.skipif(not GOLD_ITEMS, reason="no gold records yet")
def test_items_that_are_not_drugs_name_none(lex: Lexicon) -> None:
    for letter, request, _drugs, category in GOLD_ITEMS:
        if category and category != "medication":
            text = letter.read_text(encoding="utf-8", errors="replace")
            assert lexicon.generic_ingredients(request, text) == [], (letter.name, request)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=80))
def test_any_text_normalizes_without_error(lex: Lexicon, text: str) -> None:
    got = lexicon.generic_ingredients(text, text)
    assert got == sorted(set(got))
    assert all(g == g.lower() and g.strip() == g for g in got)
    for candidate in lex.suggest(text, text, limit=3):
        assert 0 <= candidate.score <= 100


def test_a_name_learned_after_a_request_was_read_changes_the_next_reading(lex: Lexicon) -> None:
    # Two words: only the exact reading (cached per request) can find the learned name.
    letter = "The patient takes Zorba Flex 10mg daily. Request: Zorba Flex 10mg #30"
    assert lex.generic_ingredients("Zorba Flex 10mg #30", letter) == []
    lex.learn_generics("Zorba Flex", ["cyclobenzaprine"])
    assert lex.generic_ingredients("Zorba Flex 10mg #30", letter) == ["cyclobenzaprine"]


def test_a_misspelling_read_before_its_name_was_learned_resolves_after(lex: Lexicon) -> None:
    assert lex.generic_ingredients("Zorbaflx 10mg #30") == []
    lex.learn_generics("Zorbaflex", ["cyclobenzaprine"])
    assert lex.generic_ingredients("Zorbaflx 10mg #30") == ["cyclobenzaprine"]


@pytest.mark.parametrize(
    ("item_request", "generics"),
    [
        ("Ketophene 20% cream 120 g", ["ketoprofen"]),
        ("Anecream 4% 30 g", ["lidocaine"]),
        ("Salonpas pad #30", ["menthol", "methyl salicylate"]),
    ],
)
def test_products_real_letters_request_resolve_to_their_ingredients(item_request, generics):
    assert lexicon.generic_ingredients(item_request) == generics
