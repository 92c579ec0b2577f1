"""The hand-written gold records agree with the letters they describe.

Every gold file on disk (fixtures/gold and fixtures/synthetic/gold) is checked, so records added
later are covered without touching this file.  The checks compare a record with its own letter
only; `test_checks_catch_*` prove that each check fails on a broken record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from pathlib import Path

import ftfy
import pytest

from core.models import GUIDELINES, GoldRecord

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GOLD_DIRS = (
    (FIXTURES / "gold", FIXTURES / "letters"),
    (FIXTURES / "synthetic" / "gold", FIXTURES / "synthetic" / "letters"),
)
DATE_FIELDS = (
    "date_of_injury",
    "ur_denial_date",
    "application_received",
    "date_assigned",
    "decision_date",
)
EARLIEST, LATEST = dt.date(1950, 1, 1), dt.date(2030, 12, 31)
LETTER_SUFFIXES = (".txt", ".md")


def gold_files() -> list[tuple[Path, Path]]:
    """(gold file, its letters folder) for every gold record on disk."""
    return [
        (path, letters)
        for gold, letters in GOLD_DIRS
        if gold.is_dir()
        for path in sorted(gold.glob("*.json"))
    ]


def letter_for(gold: Path, letters: Path) -> Path | None:
    for suffix in LETTER_SUFFIXES:
        candidate = letters / (gold.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


_MARKUP = re.compile(r"</?b>|\*\*|^#+[ \t]*", re.MULTILINE)
# A word-hyphen ending a line with no trailing space is a wrap inside a word: "FDA-\napproved".
_WRAPPED_HYPHEN = re.compile(r"(?<=\S-)\n\s*")
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Text as gold values are written: mojibake repaired, markup dropped, whitespace folded."""
    text = ftfy.fix_text(text, uncurl_quotes=False, normalization=None)
    text = _MARKUP.sub("", text.replace("\f", "\n"))
    text = _WRAPPED_HYPHEN.sub("", text)
    return _SPACE.sub(" ", text).strip()


def problems(data: dict, letter_bytes: bytes) -> list[str]:
    """Everything wrong with a raw gold record (as loaded from JSON) against its letter."""
    found: list[str] = []
    try:
        GoldRecord.model_validate(data)
    except Exception as exc:  # pydantic.ValidationError; report it like the others
        return [f"not a valid GoldRecord: {exc}"]

    if data["letter_id"] != hashlib.sha256(letter_bytes).hexdigest():
        found.append("letter_id is not the sha256 of the letter's bytes")

    dates = {}
    for name in DATE_FIELDS:
        if data.get(name) is not None:
            dates[name] = dt.date.fromisoformat(data[name])
            if not EARLIEST <= dates[name] <= LATEST:
                found.append(f"{name} {data[name]} is outside {EARLIEST.year}..{LATEST.year}")
    ordered = [(n, dates[n]) for n in DATE_FIELDS if n in dates]
    for (first, a), (then, b) in itertools.pairwise(ordered):
        if a > b:
            found.append(f"{first} {a} comes after {then} {b}")

    text = fold(letter_bytes.decode("utf-8", errors="replace"))
    for index, item in enumerate(data["items"]):
        where = f"items.{index}"
        request = _SPACE.sub(" ", item["request"]).strip()
        if not request or request not in text:
            found.append(f"{where}.request {request!r} is not in the letter")
        elif item["decision"] is not None:
            word = item["decision"].capitalize()
            if f"{request}: {word}" not in text and f"{request} is: {word}" not in text:
                found.append(f"{where}: the letter does not say {request!r} is {word}")
        if item["drugs"] != sorted({d.lower() for d in item["drugs"]}):
            found.append(f"{where}.drugs {item['drugs']} are not sorted, unique and lowercase")
        if item["guidelines"] != sorted(set(item["guidelines"]), key=GUIDELINES.index):
            found.append(f"{where}.guidelines {item['guidelines']} are out of SPEC order")
        rationale = item["rationale"]
        if rationale is not None and _SPACE.sub(" ", rationale).strip() not in text:
            found.append(f"{where}.rationale is not the letter's text")
    return found


def _load(gold: Path) -> dict:
    return json.loads(gold.read_text(encoding="utf-8"))


CASES = gold_files()


def test_gold_records_exist():
    assert all(gold.is_dir() and any(gold.glob("*.json")) for gold, _ in GOLD_DIRS)


@pytest.mark.parametrize(("gold", "letters"), CASES, ids=[g.stem for g, _ in CASES])
def test_gold_record_matches_its_letter(gold: Path, letters: Path):
    letter = letter_for(gold, letters)
    assert letter is not None, f"no letter named {gold.stem} in {letters}"
    assert problems(_load(gold), letter.read_bytes()) == []


# ---------------------------------------------------------------------------------------------
# The checks above must be able to fail: break a real record one way at a time.


@pytest.fixture
def real_case() -> tuple[dict, bytes]:
    for gold, letters in CASES:
        data, letter = _load(gold), letter_for(gold, letters)
        drug_items = [i for i in data["items"] if len(i["drugs"]) >= 2]
        if letter is not None and drug_items and data["items"][0]["rationale"]:
            return data, letter.read_bytes()
    pytest.fail("no gold record with a multi-drug item to break")


def test_checks_accept_the_unbroken_record(real_case):
    data, letter = real_case
    assert problems(data, letter) == []


def test_checks_catch_a_letter_id_of_other_bytes(real_case):
    data, letter = real_case
    assert any("sha256" in p for p in problems(data, letter + b" "))


def test_checks_catch_an_invalid_record(real_case):
    data, letter = real_case
    data["items"][0]["decision"] = "denied"
    assert any("not a valid GoldRecord" in p for p in problems(data, letter))


def test_checks_catch_a_request_the_letter_does_not_contain(real_case):
    data, letter = real_case
    data["items"][0]["request"] += " with 3 refills"
    assert any("request" in p and "not in the letter" in p for p in problems(data, letter))


def test_checks_catch_a_wrong_decision(real_case):
    data, letter = real_case
    item = data["items"][0]
    item["decision"] = "overturned" if item["decision"] == "upheld" else "upheld"
    assert any("does not say" in p for p in problems(data, letter))


@pytest.mark.parametrize("bad", ["1949-12-31", "2031-01-01"])
def test_checks_catch_an_implausible_date(real_case, bad):
    data, letter = real_case
    data["date_of_injury"] = bad
    assert any("outside" in p for p in problems(data, letter))


def test_checks_catch_dates_out_of_order():
    data = {
        "letter_id": hashlib.sha256(b"x").hexdigest(),
        "date_of_injury": "2016-05-02",
        "decision_date": "2016-05-01",
        "items": [],
    }
    assert any("comes after" in p for p in problems(data, b"x"))


def test_checks_catch_unsorted_or_capitalised_drugs(real_case):
    data, letter = real_case
    item = next(i for i in data["items"] if len(i["drugs"]) >= 2)
    item["drugs"] = list(reversed(item["drugs"]))
    assert any("drugs" in p for p in problems(data, letter))
    item["drugs"] = [d.title() for d in reversed(item["drugs"])]
    assert any("drugs" in p for p in problems(data, letter))


def test_checks_catch_a_rationale_not_copied_from_the_letter(real_case):
    data, letter = real_case
    data["items"][0]["rationale"] += " x"
    assert any("rationale" in p for p in problems(data, letter))


def test_fold_repairs_mojibake_markup_and_wrapped_words():
    assert fold("**Baclofen** <b>cream</b>\n\nC.C.R. Â§Â§9792.20 -\n9792.26 FDA-\napproved\f") == (
        "Baclofen cream C.C.R. §§9792.20 - 9792.26 FDA-approved"
    )
