"""Drug-name suggestions: each kind of query a letter or an annotator produces."""

from __future__ import annotations

import bz2
import pickle
import stat
from pathlib import Path

import pytest

from imrgold.core.lexicon import Candidate, Lexicon

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "lexicon-cache"


@pytest.fixture(scope="module")
def lex(shared_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Lexicon:
    data = tmp_path_factory.mktemp("lexicon-data")
    return Lexicon(
        cache_dir=shared_cache,
        user_supplement=data / "drug_supplement.json",
        learned=data / "learned_drugs.json",
    )


def _fresh(shared_cache: Path, data: Path) -> Lexicon:
    return Lexicon(
        cache_dir=shared_cache,
        user_supplement=data / "drug_supplement.json",
        learned=data / "learned_drugs.json",
    )


def _top(lex: Lexicon, query: str, letter: str | None = None) -> Candidate:
    found = lex.suggest(query, letter)
    assert found, f"no candidate for {query!r}"
    return found[0]


@pytest.mark.parametrize(
    ("query", "name", "generics"),
    [
        ("Fexmid", "Fexmid", ["cyclobenzaprine"]),
        ("Flexeril", "Flexeril", ["cyclobenzaprine"]),
        ("Prilosec", "Prilosec", ["omeprazole"]),
        ("NORCO", "Norco", ["acetaminophen", "hydrocodone"]),
        ("Percocet", "Percocet", ["acetaminophen", "oxycodone"]),
    ],
)
def test_brand(lex: Lexicon, query: str, name: str, generics: list[str]) -> None:
    top = _top(lex, query)
    assert (top.name, top.generics) == (name, generics)
    assert top.score == 100


def test_brand_beats_lookalike_generics(lex: Lexicon) -> None:
    # The naive search puts "ifex" (ifosfamide) above cyclobenzaprine for Fexmid.
    found = lex.suggest("Fexmid", limit=10)
    assert found[0].generics == ["cyclobenzaprine"]
    assert all(c.score < found[0].score for c in found[1:])


@pytest.mark.parametrize(
    ("query", "name", "generics"),
    [
        (
            "Medi-derm 0.035-520 percent cream",
            "Medi-Derm",
            ["capsaicin", "menthol", "methyl salicylate"],
        ),
        ("MEDI DERM", "Medi-Derm", ["capsaicin", "menthol", "methyl salicylate"]),
        (
            "Terocin lotion 120ml",
            "Terocin",
            ["capsaicin", "lidocaine", "menthol", "methyl salicylate"],
        ),
        ("Terocin patch #30", "Terocin patch", ["lidocaine", "menthol"]),
        ("Synapryn 10mg/1ml oral suspension 500ml", "Synapryn", ["glucosamine", "tramadol"]),
        (
            "Tabradol 1mg/ml oral suspension, 250ml",
            "Tabradol",
            ["cyclobenzaprine", "methylsulfonylmethane"],
        ),
        ("Compounded Cyclophene 5% in PLO gel", "Cyclophene", ["cyclobenzaprine"]),
        (
            "LidoPro ointment 121g",
            "LidoPro",
            ["capsaicin", "lidocaine", "menthol", "methyl salicylate"],
        ),
    ],
)
def test_compounded_products_and_kits(
    lex: Lexicon, query: str, name: str, generics: list[str]
) -> None:
    top = _top(lex, query)
    assert (top.name, top.generics, top.origin) == (name, generics, "supplement")
    assert top.source, "a supplement product must say where its ingredients come from"


def test_medical_food_is_known_but_has_no_drug_ingredient(lex: Lexicon) -> None:
    top = _top(lex, "Theramine #120")
    assert (top.name, top.generics, top.origin) == ("Theramine", [], "supplement")


@pytest.mark.parametrize(
    ("query", "generics"),
    [
        ("cyclobenzaprne", ["cyclobenzaprine"]),
        ("gabapentn 600mg", ["gabapentin"]),
        ("Tramdaol 50mg", ["tramadol"]),
        ("hydrocodne", ["hydrocodone"]),
        ("Flexiril", ["cyclobenzaprine"]),
        ("Celebrx 200mg", ["celecoxib"]),
    ],
)
def test_typo(lex: Lexicon, query: str, generics: list[str]) -> None:
    top = _top(lex, query)
    assert top.generics == generics
    assert top.score < 100


@pytest.mark.parametrize(
    ("query", "generics"),
    [
        ("Lidoderrn patch", ["lidocaine"]),  # m read as rn
        ("Cyc1obenzaprine", ["cyclobenzaprine"]),  # l read as 1
        ("0meprazole 20mg", ["omeprazole"]),  # O read as 0
        ("Cyclo benzaprine 7.5mg", ["cyclobenzaprine"]),  # a space inserted
        ("Naprox en sodium 550", ["naproxen"]),
    ],
)
def test_ocr_damage(lex: Lexicon, query: str, generics: list[str]) -> None:
    assert _top(lex, query).generics == generics


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Norco10/325#60", "Norco"),
        ("Norco 10/325 #60", "Norco"),
        ("Fexmid7.5mg 1po q8-12h prn #90", "Fexmid"),
        ("Gabapentin600mg tid", "Gabapentin"),
        ("Ultram50mg#120", "Ultram"),
    ],
)
def test_glued_strength_form_and_count_do_not_disturb(lex: Lexicon, query: str, name: str) -> None:
    top = _top(lex, query)
    assert top.name == name
    assert top.score == 100


def test_abbreviation(lex: Lexicon) -> None:
    assert _top(lex, "Hydrocodone/APAP 10/325").generics == ["acetaminophen", "hydrocodone"]
    assert _top(lex, "APAP 500mg").generics == ["acetaminophen"]


def test_letter_names_rank_first_when_they_fit(lex: Lexicon) -> None:
    text = (FIXTURES / "letters" / "000_fa2635f264c99a6e.txt").read_text(encoding="utf-8")
    top = _top(lex, "Cyclopean 5% PLO gel", text)
    assert (top.name, top.in_letter) == ("Cyclophene", True)
    # Whatever ranks second on its own comes first once the letter names it.
    alone = lex.suggest("Tramdol")
    runner_up = alone[1]
    letter = f"The patient was prescribed {runner_up.name} for pain."
    with_letter = lex.suggest("Tramdol", letter)
    assert with_letter[0].name == runner_up.name
    assert with_letter[0].in_letter
    # A name the letter uses that does not fit the query is not forced in.
    assert lex.suggest("Fexmid", "He also takes Lisinopril daily.")[0].name == "Fexmid"


def test_unknown_product_of_the_letter_is_offered_as_written(lex: Lexicon) -> None:
    # A compounded product no dictionary or supplement knows (the name is made up).
    letter = "Zorvalex (unknown quantity): Upheld. The request for Zorvalex is denied."
    found = lex.suggest("Zorvale", letter, limit=10)
    from_letter = [c for c in found if c.origin == "letter"]
    assert from_letter and from_letter[0].name == "Zorvalex"
    assert from_letter[0].generics == []


def test_learned_alias_comes_first_and_persists(shared_cache: Path, tmp_path: Path) -> None:
    first = _fresh(shared_cache, tmp_path)
    before = first.suggest("Cyclopane")
    assert before[0].name != "Cyclophene" or before[0].origin != "learned"
    first.learn("Cyclopane", "Cyclophene")
    assert (first.suggest("Cyclopane")[0].name, first.suggest("Cyclopane")[0].origin) == (
        "Cyclophene",
        "learned",
    )
    learned_file = tmp_path / "learned_drugs.json"
    assert stat.S_IMODE(learned_file.stat().st_mode) == 0o600
    again = _fresh(shared_cache, tmp_path)
    top = again.suggest("Cyclopane 5% gel")[0]
    assert (top.name, top.generics, top.origin) == ("Cyclophene", ["cyclobenzaprine"], "learned")
    assert again.generic_ingredients("Cyclopane 5% gel") == ["cyclobenzaprine"]


def test_picking_a_completion_teaches_nothing(shared_cache: Path, tmp_path: Path) -> None:
    lex = _fresh(shared_cache, tmp_path)
    lex.learn("gaba", "Gabapentin")
    assert not (tmp_path / "learned_drugs.json").exists()
    assert lex.generic_ingredients("GABA 500 mg") != ["gabapentin"]


def test_learning_a_name_the_lexicon_does_not_know(shared_cache: Path, tmp_path: Path) -> None:
    lex = _fresh(shared_cache, tmp_path)
    lex.learn("Zorvale", "Zorvalex")  # a made-up product name
    top = lex.suggest("Zorvale")[0]
    assert (top.name, top.generics, top.origin) == ("Zorvalex", [], "learned")


def test_user_supplement_product(shared_cache: Path, tmp_path: Path) -> None:
    lex = _fresh(shared_cache, tmp_path)
    assert lex.generic_ingredients("Zyxoderm cream 120g") == []
    lex.add_product("Zyxoderm", ["Lidocaine", "menthol"], "test label", aliases=["Zyxo-derm"])
    top = lex.suggest("Zyxoderm cream 120g")[0]
    assert (top.name, top.generics, top.origin) == (
        "Zyxoderm",
        ["lidocaine", "menthol"],
        "supplement",
    )
    assert _fresh(shared_cache, tmp_path).generic_ingredients("zyxo derm 4%") == [
        "lidocaine",
        "menthol",
    ]
    assert stat.S_IMODE((tmp_path / "drug_supplement.json").stat().st_mode) == 0o600


def test_nothing_to_suggest(lex: Lexicon) -> None:
    assert lex.suggest("") == []
    assert lex.suggest("10/325 mg #60 po bid") == []
    assert lex.suggest("Fexmid", limit=0) == []


def test_candidates_carry_ids_and_are_ranked(lex: Lexicon) -> None:
    found = lex.suggest("Flexeril", limit=5)
    assert found[0].ids.get("drugbank_id") == "DB00924"
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    assert len({(c.name, tuple(c.generics)) for c in found}) == len(found)


def _tiny_dictionary(path: Path) -> Path:
    """A dictionary file in the shipped package's format, small enough to build instantly."""
    data = {
        "drug_variant_to_canonical": {"ultram": ["tramadol"], "tramadol": ["tramadol"]},
        "drug_canonical_to_data": {"tramadol": {"name": "Tramadol", "drugbank_id": "DB00193"}},
        "drug_variant_to_variant_data": {"ultram": {"is_brand": True}},
    }
    with bz2.open(path, "wb") as handle:
        pickle.dump(data, handle)
    return path


def test_cache_is_reused_and_follows_the_supplement(tmp_path: Path) -> None:
    dictionary = _tiny_dictionary(tmp_path / "dictionary.pkl.bz2")
    supplement = tmp_path / "supplement.json"
    supplement.write_text(
        '{"products": [{"name": "Qwertycin", "generics": ["lidocaine"], "source": "test"}]}',
        encoding="utf-8",
    )
    cache = tmp_path / "cache"

    def load() -> Lexicon:
        return Lexicon(
            dictionary=dictionary,
            supplement=supplement,
            cache_dir=cache,
            learned=tmp_path / "learned.json",
            user_supplement=tmp_path / "mine.json",
        )

    built = load()
    assert len(list(cache.glob("lexicon-*.pkl"))) == 1
    assert built.suggest("Ultram 50mg")[0].generics == ["tramadol"]
    assert load().suggest("Qwertycin")[0].generics == ["lidocaine"]
    # An edited supplement is picked up: the cache is keyed by its content.
    supplement.write_text(
        '{"products": [{"name": "Qwertycin", "generics": ["menthol"], "source": "test"}]}',
        encoding="utf-8",
    )
    assert load().suggest("Qwertycin")[0].generics == ["menthol"]
    assert len(list(cache.glob("lexicon-*.pkl"))) == 1
    # A damaged cache file is rebuilt rather than trusted.
    next(cache.glob("lexicon-*.pkl")).write_bytes(b"not a pickle")
    assert load().suggest("Qwertycin")[0].generics == ["menthol"]


@pytest.mark.parametrize(
    ("typed", "generics"),
    [
        ("gabap", ["gabapentin"]),
        ("cyclob", ["cyclobenzaprine"]),
        ("hydroc", ["hydrocodone"]),
    ],
)
def test_a_name_being_typed_completes(lex: Lexicon, typed: str, generics: list[str]) -> None:
    assert generics in [c.generics for c in lex.suggest(typed)[:2]]


def test_learning_from_a_saved_gold_record(shared_cache: Path, tmp_path: Path) -> None:
    lex = _fresh(shared_cache, tmp_path)
    assert lex.generic_ingredients("Zyxocaine 4% cream") == []
    learned = lex.learn_from_items(
        [
            ("Zyxocaine 4% cream 120g", ["Lidocaine"]),
            ("Flurbiprofen 20%, Quorbutal 5% in cream base", ["flurbiprofen", "baclofen"]),
            ("Norco 10/325 #60", ["acetaminophen", "hydrocodone"]),  # already read right
            ("Physical therapy x 6", []),  # not a drug: nothing to learn
            ("Blorp Zyzzyx gel", ["ketoprofen"]),  # two unknown words: which one?
        ]
    )
    assert learned == [("Zyxocaine", ["lidocaine"]), ("Quorbutal", ["baclofen"])]
    again = _fresh(shared_cache, tmp_path)
    assert again.generic_ingredients("ZYXOCAINE 2% patch") == ["lidocaine"]
    assert again.generic_ingredients("Quorbutal 5%, Flurbiprofen") == ["baclofen", "flurbiprofen"]
    top = again.suggest("Zyxocaine")[0]
    assert (top.name, top.generics, top.origin) == ("Zyxocaine", ["lidocaine"], "learned")
    assert again.generic_ingredients("Blorp gel") == []


def test_the_dictionary_package_itself_is_never_imported(lex: Lexicon) -> None:
    # Importing it loads its data eagerly and wires up network helpers; only its data file
    # is read.
    import sys

    assert lex.suggest("Flexeril")
    assert "drug_named_entity_recognition" not in sys.modules


def test_a_compound_written_as_ingredients_is_offered_whole(lex: Lexicon) -> None:
    query = "Flurbiprofen 20%, Baclofen 5%, Menthol 2%, Capsaicin 0.025% in cream base"
    top = lex.suggest(query)[0]
    assert top.generics == ["baclofen", "capsaicin", "flurbiprofen", "menthol"]
    assert top.name == "Flurbiprofen + Baclofen + Menthol + Capsaicin"
    assert lex.suggest(query)[1].generics == ["flurbiprofen"]
    # One product is not a combination of itself.
    assert lex.suggest("Hydrocodone/APAP 10/325")[0].name == "Hydrocodone/APAP"


def test_a_near_tie_goes_to_the_drug_real_letters_name(lex: Lexicon) -> None:
    """ "norko" is as near the temazepam brand "Norkotral" as it is to Norco; workers'
    compensation letters name Norco (core/data/drug_prior.json), so it comes first, and the
    two stay too close for the interface to pick either for a fast Enter."""
    from imrgold.tui.widgets.suggestions import clearly_leads

    found = lex.suggest("norko 10/325", limit=3)
    assert found[0].name == "Norco"
    assert not clearly_leads([c.score for c in found])
    # An exact name gains nothing from the prior and a typo never shows 100.
    assert lex.suggest("Norkotral tema")[0].generics == ["temazepam"]
    assert all(c.score < 100 for c in lex.suggest("norko"))
