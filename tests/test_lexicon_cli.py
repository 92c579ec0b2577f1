"""`imrgold drugs`: suggest, normalize, learn and add, the way a user types them."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core import lexicon

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _pinned(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "lexicon-cache"))
    monkeypatch.setenv("IMRGOLD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IMRGOLD_DB", str(tmp_path / "store.json"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    lexicon.reset_default_lexicon()
    yield
    lexicon.reset_default_lexicon()


def test_suggest_prints_ranked_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drugs", "suggest", "Norco 10/325 #60", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[:3] == ["1.", "100.00", "Norco"]
    assert "acetaminophen, hydrocodone" in lines[0]
    assert "[supplement]" in lines[0]


def test_suggest_with_the_letter_it_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    letter = FIXTURES / "letters" / "000_fa2635f264c99a6e.txt"
    code = main(["drugs", "suggest", "Cyclopean 5% PLO gel", "--letter", str(letter), "--json"])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["name"] == "Cyclophene"
    assert rows[0]["in_letter"] is True
    assert rows[0]["generics"] == ["cyclobenzaprine"]
    assert {"name", "score", "generics", "origin", "ids"} <= set(rows[0])


def test_normalize_prints_the_drugs_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drugs", "normalize", "Medi-derm 0.035-520 percent cream"]) == 0
    assert json.loads(capsys.readouterr().out) == ["capsaicin", "menthol", "methyl salicylate"]
    assert main(["drugs", "normalize", "TENS unit"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_learn_then_suggest_in_a_new_process_state(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["drugs", "learn", "Cyclopean", "Cyclophene"]) == 0
    assert "cyclobenzaprine" in capsys.readouterr().out
    learned = tmp_path / "data" / "learned_drugs.json"
    assert stat.S_IMODE(learned.stat().st_mode) == 0o600
    lexicon.reset_default_lexicon()  # as a fresh `imrgold` run would start
    assert main(["drugs", "suggest", "Cyclopean", "--json", "--limit", "1"]) == 0
    top = json.loads(capsys.readouterr().out)
    assert (top["name"], top["origin"]) == ("Cyclophene", "learned")


def test_add_a_product_to_the_users_supplement(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        ["drugs", "add", "Lidothol", "--generic", "lidocaine", "--generic", "Menthol",
         "--source", "DailyMed label", "--alias", "Lido-thol"]
    )  # fmt: skip
    assert code == 0
    assert "Lidothol (lidocaine, menthol)" in capsys.readouterr().out
    saved = json.loads((tmp_path / "data" / "drug_supplement.json").read_text(encoding="utf-8"))
    assert saved["products"][0]["source"] == "DailyMed label"
    lexicon.reset_default_lexicon()
    assert main(["drugs", "normalize", "Lido thol patch #30"]) == 0
    assert json.loads(capsys.readouterr().out) == ["lidocaine", "menthol"]


@pytest.mark.parametrize(
    "argv",
    [
        ["drugs", "suggest", "Norco", "--letter", "/no/such/letter.txt"],
        ["drugs", "suggest", "   "],
        ["drugs", "suggest", "Norco", "--limit", "0"],
        ["drugs", "add", "Lidothol", "--generic", "lidocaine", "--source", "  "],
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("imrgold drugs: error:")
    assert len(err.splitlines()) == 1


def test_nothing_found_exits_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drugs", "suggest", "10/325 #60"]) == 1
    assert "no drug name" in capsys.readouterr().out
