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

from imrgold.core.models import GUIDELINES, GoldRecord

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GOLD_DIRS = (
    (FIXTURES / "gold", FIXTURES / "letters"),
    (FIXTURES / "synthetic" / "gold", FIXTURES / "synthetic" / "letters"),
    (FIXTURES / "holdout" / "gold", FIXTURES / "holdout" / "letters"),
    (FIXTURES / "pdf" / "gold", FIXTURES / "pdf"),
)
DATE_FIELDS = (
    "date_of_injury",
    "ur_denial_date",
    "application_received",
    "date_assigned",
    "decision_date",
)
EARLIEST, LATEST = dt.date(1950, 1, 1), dt.date(2030, 12, 31)
LETTER_SUFFIXES = (".txt", ".md", ".pdf")


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


_MARKUP = re.compile(r"</?b>|\*\*|^#+[ \t]+", re.MULTILINE)
# A word-hyphen ending a line with no trailing space is a wrap inside a word: "FDA-\napproved".
_WRAPPED_HYPHEN = re.compile(r"(?<=\S-)\n\s*")
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Text as gold values are written: mojibake repaired, markup dropped, whitespace folded."""
    text = ftfy.fix_text(text, uncurl_quotes=False, normalization=None)
    text = _MARKUP.sub("", text.replace("\f", "\n"))
    text = _WRAPPED_HYPHEN.sub("", text)
    return _SPACE.sub(" ", text).strip()


def _letter_text(letter_bytes: bytes) -> str:
    """The letter as its gold was written from: a PDF's text layer as `imrgold` reads it."""
    if letter_bytes.startswith(b"%PDF-"):
        from imrgold.core.reading import pdf_text

        return pdf_text(letter_bytes)
    return letter_bytes.decode("utf-8", errors="replace")


def problems(data: dict, letter_bytes: bytes) -> list[str]:
    """Everything wrong with a raw gold record (as loaded from JSON) against its letter."""
    try:
        # Defaults filled in; the raw lists are still checked below, since validation sorts them.
        full = GoldRecord.model_validate(data).model_dump(mode="json")
    except Exception as exc:  # pydantic.ValidationError; report it like the others
        return [f"not a valid GoldRecord: {exc}"]
    found: list[str] = []
    if data["letter_id"] != hashlib.sha256(letter_bytes).hexdigest():
        found.append("letter_id is not the sha256 of the letter's bytes")
    text = fold(_letter_text(letter_bytes))
    found += date_problems(full)
    found += letter_level_problems(full, text)
    for index, (raw, item) in enumerate(zip(data.get("items", []), full["items"], strict=True)):
        found += list_problems(f"items.{index}", raw)
        found += detail_problems(f"items.{index}", item)
    found += walk_problems(full["items"], text)
    return found


def date_problems(data: dict) -> list[str]:
    found = []
    dates = {n: dt.date.fromisoformat(data[n]) for n in DATE_FIELDS if data.get(n) is not None}
    for name, date in dates.items():
        if not EARLIEST <= date <= LATEST:
            found.append(f"{name} {date} is outside {EARLIEST.year}..{LATEST.year}")
    # A case moves forward: injury, UR denial, IMR application, assignment, decision.
    for (first, a), (then, b) in itertools.pairwise(dates.items()):
        if a > b:
            found.append(f"{first} {a} comes after {then} {b}")
    return found


def list_problems(where: str, item: dict) -> list[str]:
    found = []
    drugs, guidelines = item.get("drugs", []), item.get("guidelines", [])
    if drugs != sorted({d.lower() for d in drugs}):
        found.append(f"{where}.drugs {drugs} are not sorted, unique and lowercase")
    if guidelines != sorted(set(guidelines), key=GUIDELINES.index):
        found.append(f"{where}.guidelines {guidelines} are out of SPEC order")
    return found


STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
DETAIL_FIELDS = ("strength", "form", "amount", "quantity", "route", "frequency")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def date_spellings(date: dt.date) -> set[str]:
    """The ways a letter may write a date: 10/20/2016, 2/28/14, 10-26-2016, October 20, 2016."""
    month, day, year, short = date.month, date.day, date.year, date.year % 100
    numeric = {
        f"{m}{sep}{d}{sep}{y}"
        for m in (f"{month}", f"{month:02d}")
        for d in (f"{day}", f"{day:02d}")
        for y in (f"{year}", f"{short:02d}")
        for sep in "/-"
    }
    name = date.strftime("%B")
    worded = {f"{n} {d}, {year}" for n in (name, name[:3] + ".") for d in (day, f"{day:02d}")}
    return numeric | worded


def letter_level_problems(data: dict, text: str) -> list[str]:
    """Header, reviewer, patient and diagnoses: each value must be written in the letter."""
    found = []
    lowered = text.lower()
    if data["case_number"] is not None and data["case_number"] not in text:
        found.append(f"case_number {data['case_number']} is not in the letter")
    for name in DATE_FIELDS:
        if data[name] is not None:
            spellings = date_spellings(dt.date.fromisoformat(data[name]))
            if not any(re.search(rf"(?<![\d/-]){re.escape(w)}(?![\d/])", text) for w in spellings):
                found.append(f"{name} {data[name]} is not written in the letter")
    reviewer = data["reviewer"]
    for field in ("specialties", "subspecialties"):
        for value in reviewer[field]:
            if value.lower() not in lowered:
                found.append(f"reviewer.{field} {value!r} is not in the letter")
    for code in reviewer["licensure"]:
        if code not in STATES or STATES[code] not in text:
            found.append(f"reviewer.licensure {code}: the letter does not name that state")
    age = data["patient"]["age"]
    if age is not None and not re.search(rf"\b{age}[- ]year[- ]old|\baged {age}\b", text):
        found.append(f"patient.age {age} is not written as an age in the letter")
    for diagnosis in data["diagnoses"]:
        written = diagnosis["text"]
        if _SPACE.sub(" ", written).strip().lower() not in lowered:
            found.append(f"diagnosis {written!r} is not in the letter")
        code = diagnosis["icd10"]
        if code is not None and not code_fits(code, written):
            found.append(f"diagnosis {written!r}: {code} ({code_terms(code)[0]}) does not fit it")
    return found


def code_terms(code: str) -> list[str]:
    """What the code set says a code covers: its description, its inclusion terms, and those of
    the categories above it; and the curated phrases of its subcategory (the linker's own
    supplement, each phrase with its source)."""
    import simple_icd_10_cm as cm

    from imrgold.core.icd10 import SUPPLEMENT_PATH

    supplement = json.loads(SUPPLEMENT_PATH.read_text(encoding="utf-8"))
    terms = [p["phrase"] for p in supplement["phrases"] if p["code"][:5] == code[:5]]
    for item in [code, *cm.get_ancestors(code)]:
        if cm.is_chapter_or_block(item):
            continue
        terms.append(cm.get_description(item))
        terms += cm.get_inclusion_term(item)
    return terms


def _stems(text: str) -> set[str]:
    from imrgold.core.icd10 import normalize_words

    return {w[:5] for w in normalize_words(text) if len(w) > 2}


def code_fits(code: str, text: str) -> bool:
    """A code fits a diagnosis when it names something the diagnosis names: a word of the
    diagnosis (abbreviations expanded, first five letters) is a word of what the code covers."""
    if re.match(r"(?i)status post\b|s/p\b", text) and code.startswith("Z9"):
        return True  # a "status post" diagnosis is coded by its Z9 status code
    covered = set().union(*(_stems(t) for t in code_terms(code)))
    return bool(_stems(text) & covered)


def detail_problems(where: str, item: dict) -> list[str]:
    """Drug details belong to medication items and come from the request's own numbers."""
    found = []
    filled = [f for f in DETAIL_FIELDS if item[f] is not None]
    if item["category"] != "medication":
        if filled or item["drugs"]:
            found.append(f"{where} is not a medication but has {filled or ['drugs']}")
        return found
    request_numbers = set(_NUMBER.findall(item["request"]))
    for field in ("strength", "amount", "quantity"):
        value = item[field]
        if value is not None and not set(_NUMBER.findall(value)) <= request_numbers:
            found.append(f"{where}.{field} {value!r} has numbers the request does not have")
    return found


_NOT_MTUS = re.compile(r"Non-MTUS|outside of the MTUS")
_ODG = re.compile(r"\bODG\b|Official Disability Guidelines")
INTRO = "set forth below:"
ORIGINAL = "was the original request."
# Before a heading only a partial certification's preamble may stand.
MAX_GAP = 600


def cited(paragraph: str) -> dict[str, bool]:
    """Which guideline families a "MAXIMUS guideline:" paragraph plainly names."""
    return {
        "MTUS": "MTUS" in _NOT_MTUS.sub("", paragraph),
        "ODG": bool(_ODG.search(paragraph)),
        # ACOEM chapters cited as MTUS ("Decision based on MTUS ACOEM ...") count as MTUS only.
        "ACOEM": any(
            "ACOEM" in part and not part.lstrip().startswith("MTUS")
            for part in paragraph.split("Decision based on")
        ),
    }


def heading_follows(gap: str) -> bool:
    """Whether a heading may start after this text: directly, or ending a partial
    certification's preamble ("X was the original request. ... The original request, <heading>
    is: Upheld"), which opens with X's own sentence."""
    gap = gap.strip()
    if not gap:
        return True
    opening = gap.split(ORIGINAL, 1)[0]
    return (
        ORIGINAL in gap
        and ". " not in opening
        and gap.endswith("original request,")
        and len(gap) <= MAX_GAP
        and "Decision rationale:" not in gap
    )


def walk_problems(items: list[dict], text: str) -> list[str]:
    """Read the letter in order: each heading with its decision, its MAXIMUS paragraph and the
    rationale running from "Decision rationale:" to the next heading or the end."""
    found: list[str] = []
    cursor = text.find(INTRO)
    if cursor < 0:
        return [f"the letter has no {INTRO!r} line"] if items else []
    cursor += len(INTRO)
    previous_end: int | None = cursor
    for index, item in enumerate(items):
        where = f"items.{index}"
        request = _SPACE.sub(" ", item["request"]).strip()
        if not request or request not in text:
            found.append(f"{where}.request {request!r} is not in the letter")
            return found
        word = (item["decision"] or "").capitalize()
        # SPEC's partial-certification wording sets Z off with commas: "request, Z, is: Upheld".
        spellings = (f"{request}: {word}", f"{request} is: {word}", f"{request}, is: {word}")
        heads = [h for h in spellings if h in text[cursor:]]
        if not word or not heads:
            found.append(
                f"{where}: after the previous item the letter does not say {request!r} "
                f"is {word or 'decided'}"
            )
            return found
        head = min(text.index(h, cursor) for h in heads)
        if previous_end is not None and not heading_follows(text[previous_end:head]):
            what = f"items.{index - 1}.rationale" if index else f"the text after {INTRO!r}"
            found.append(f"{what} stops short of the heading of {where}")
        maximus = text.find("MAXIMUS guideline:", head)
        opens = text.find("Decision rationale:", max(maximus, head))
        if maximus < 0 or opens < 0:
            found.append(
                f"{where}: no MAXIMUS guideline paragraph and rationale follow the heading"
            )
            return found
        for family, named in cited(text[maximus:opens]).items():
            if named != (family in item["guidelines"]):
                verb = "names" if named else "does not name"
                found.append(
                    f"{where}.guidelines {item['guidelines']}: the paragraph {verb} {family}"
                )
        rationale = _SPACE.sub(" ", item["rationale"] or "").strip()
        body = f"Decision rationale: {rationale}"
        if not rationale or not text.startswith(body, opens):
            found.append(f"{where}.rationale is not the letter's text after 'Decision rationale:'")
            previous_end = None
        else:
            previous_end = opens + len(body)
        cursor = opens
    if previous_end is not None and text[previous_end:].strip():
        found.append(f"items.{len(items) - 1}.rationale stops short of the end of the letter")
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
        if letter is not None and drug_items and len(data["items"]) >= 2:
            return data, letter.read_bytes()
    pytest.fail("no gold record with two items and a multi-drug item to break")


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


@pytest.mark.parametrize(
    ("index", "message"), [(0, "heading of items.1"), (-1, "end of the letter")]
)
def test_checks_catch_a_rationale_cut_short(real_case, index, message):
    data, letter = real_case
    item = data["items"][index]
    item["rationale"] = item["rationale"].rsplit(". ", 1)[0] + "."
    assert any(f"stops short of the {message}" in p for p in problems(data, letter))


def test_checks_catch_items_out_of_letter_order(real_case):
    data, letter = real_case
    data["items"].reverse()
    assert any("after the previous item" in p for p in problems(data, letter))


def test_checks_catch_guidelines_the_maximus_paragraph_does_not_support(real_case):
    data, letter = real_case
    data["items"][0]["guidelines"] = []
    assert any("the paragraph names" in p for p in problems(data, letter))
    data["items"][0]["guidelines"] = ["MTUS", "ODG", "ACOEM"]
    assert any("the paragraph does not name" in p for p in problems(data, letter))


@pytest.fixture
def headed_case() -> tuple[dict, bytes]:
    """A record with a case header, a reviewer, an age and diagnoses."""
    for gold, letters in CASES:
        data, letter = _load(gold), letter_for(gold, letters)
        header = data["case_number"] and data["decision_date"] and data["reviewer"]["licensure"]
        if letter is not None and header and data["patient"]["age"] and data["diagnoses"]:
            return data, letter.read_bytes()
    pytest.fail("no gold record with a full header to break")


def test_checks_accept_the_unbroken_headed_record(headed_case):
    data, letter = headed_case
    assert problems(data, letter) == []


@pytest.mark.parametrize(
    ("path", "change", "message"),
    [
        ("case_number", lambda v: v[:-1] + str((int(v[-1]) + 1) % 10), "case_number"),
        (
            "decision_date",
            lambda v: str(dt.date.fromisoformat(v) + dt.timedelta(days=1)),
            "written",
        ),
        ("reviewer.specialties", lambda v: [*v, "Dermatology"], "specialties"),
        ("reviewer.licensure", lambda v: [*v, "HI"], "licensure HI"),
        ("reviewer.licensure", lambda v: [*v, "XX"], "licensure XX"),
        ("patient.age", lambda v: v + 1, "patient.age"),
        ("diagnoses", lambda v: [{**v[0], "text": v[0]["text"] + "s"}], "diagnosis"),
        # A valid code of another condition (Z00.00 is a general adult examination).
        ("diagnoses", lambda v: [{**v[0], "icd10": "Z00.00"}], "does not fit"),
    ],
)
def test_checks_catch_a_letter_level_value_the_letter_does_not_write(
    headed_case, path, change, message
):
    data, letter = headed_case
    *parents, name = path.split(".")
    holder = data[parents[0]] if parents else data
    holder[name] = change(holder[name])
    assert any(message in p for p in problems(data, letter))


def test_checks_catch_drug_details_on_a_non_medication(real_case):
    data, letter = real_case
    item = data["items"][0]
    item["category"] = "procedure"
    assert any("is not a medication" in p for p in problems(data, letter))


def test_checks_catch_a_strength_the_request_does_not_state(real_case):
    data, letter = real_case
    item = next(i for i in data["items"] if i["strength"])
    item["strength"] = "99 mg"
    assert any("strength" in p for p in problems(data, letter))


def test_fold_repairs_mojibake_markup_and_wrapped_words():
    assert fold("**Baclofen** <b>cream</b>\n\nC.C.R. Â§Â§9792.20 -\n9792.26 FDA-\napproved\f") == (
        "Baclofen cream C.C.R. §§9792.20 - 9792.26 FDA-approved"
    )
