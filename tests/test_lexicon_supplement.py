"""The curated supplement file: well-formed, sourced, and covering the letters' products."""

from __future__ import annotations

import json

from imrgold.core.lexicon_build import SUPPLEMENT_PATH
from imrgold.core.lexicon_text import compact

PRODUCTS = json.loads(SUPPLEMENT_PATH.read_text(encoding="utf-8"))["products"]


def test_every_product_is_sourced_and_normalized() -> None:
    for product in PRODUCTS:
        assert product["name"].strip(), product
        assert len(product["source"].strip()) > 10, product["name"]
        generics = product["generics"]
        assert generics == sorted({g.strip().lower() for g in generics}), product["name"]
        assert set(product) <= {"name", "aliases", "generics", "kind", "source", "ids"}


def test_names_and_aliases_are_unambiguous() -> None:
    owner: dict[str, str] = {}
    for product in PRODUCTS:
        for spelling in [product["name"], *product.get("aliases", [])]:
            key = compact(spelling)
            assert owner.setdefault(key, product["name"]) == product["name"], spelling


def test_at_least_sixty_workers_comp_products() -> None:
    products = [p for p in PRODUCTS if p["kind"] not in ("ingredient", "abbreviation")]
    assert len(products) >= 60
    names = {compact(p["name"]) for p in PRODUCTS} | {
        compact(a) for p in PRODUCTS for a in p.get("aliases", [])
    }
    for wanted in (
        "Terocin", "Medi-derm", "Synapryn", "Tabradol", "Deprizine", "Dicopanol", "Fanatrex",
        "Cyclophene", "Fexmid", "Norco", "Lidopro", "Theramine", "Sentra",
    ):  # fmt: skip
        assert compact(wanted) in names, wanted


def test_medical_foods_name_no_drug_ingredient() -> None:
    # GOLD_CONVENTIONS.md: a nutrient blend has no labeled drug ingredient.
    foods = [p for p in PRODUCTS if p["kind"] == "medical food"]
    assert foods
    assert all(p["generics"] == [] for p in foods)
    assert all(p["generics"] for p in PRODUCTS if p["kind"] != "medical food")


def test_a_damaged_learned_file_is_kept_aside_and_never_overwritten(tmp_path, caplog):
    from imrgold.core.lexicon import Lexicon

    learned = tmp_path / "learned_drugs.json"
    learned.write_text('{"aliases": {"Cyclopean": "Cyclophene"}, "ingred')  # cut short
    with caplog.at_level("WARNING"):
        lex = Lexicon(learned=learned, user_supplement=tmp_path / "none.json", use_cache=False)
        lex.learn("Norko", "Norco")
    kept = list(tmp_path.glob("learned_drugs.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text().startswith('{"aliases": {"Cyclopean"')
    assert "damaged" in caplog.text
    assert json.loads(learned.read_text())["aliases"] == {"Norko": "Norco"}
