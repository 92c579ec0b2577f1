"""The extractor against the hand-written gold records, field by field, and its CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core.extract import extract
from imrgold.core.models import GoldRecord, flatten

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# The bundled fixtures, the synthetic letters, the held-out letters written blind to the
# extractor, and this suite's own letters in unusual layouts.
OWN_LETTERS = Path(__file__).resolve().parent / "extract_letters"
GOLD_FOLDERS = (FIXTURES, FIXTURES / "synthetic", FIXTURES / "holdout", OWN_LETTERS)
LETTERS = sorted((FIXTURES / "letters").glob("*.txt"))
GOLD = {p.stem: p for p in sorted((FIXTURES / "gold").glob("*.json"))}


def _extract_file(path: Path):
    data = path.read_bytes()
    return extract(data.decode("utf-8"), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("letter", LETTERS, ids=[p.stem for p in LETTERS])
def test_every_letter_gives_a_valid_record_with_items(letter: Path) -> None:
    record = _extract_file(letter).to_record()
    assert record.items, "every fixture letter has at least one decision"
    assert all(item.decision in ("upheld", "overturned") for item in record.items)
    assert all(item.request for item in record.items)


def test_spans_point_into_the_original_text() -> None:
    letter = FIXTURES / "letters" / "003_f48181e75229ba39.txt"
    text = letter.read_text(encoding="utf-8")
    proposal = _extract_file(letter)
    case = proposal.get("case_number")
    span = case.spans[0]
    assert text[span.start : span.end] == case.value
    request = proposal.get("items.0.request")
    span = request.spans[0]
    # The markup `**` sits outside the span; the span holds the heading itself.
    assert text[span.start : span.end] == request.value


def test_extract_cli_prints_one_record_per_letter_in_order(capsys, tmp_path) -> None:
    bad = tmp_path / "missing.txt"
    code = main(["extract", str(LETTERS[1]), str(bad), str(LETTERS[0]), "--json"])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 1
    assert "missing.txt" in err and len(err.strip().splitlines()) == 1
    assert len(lines) == 2
    first, second = (GoldRecord.model_validate_json(line) for line in lines)
    assert first.letter_id == hashlib.sha256(LETTERS[1].read_bytes()).hexdigest()
    assert second.letter_id == hashlib.sha256(LETTERS[0].read_bytes()).hexdigest()


def test_extract_cli_exit_zero_and_proposal_mode(capsys) -> None:
    code = main(["extract", str(LETTERS[0]), "--proposal"])
    out, _ = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert data["fields"]["items.0.decision"]["confidence"] > 0


def _gold_files() -> list[tuple[Path, Path]]:
    """(letter, gold) pairs for every gold record present, bundled fixtures and synthetic."""
    pairs = []
    for folder in GOLD_FOLDERS:
        letters = {p.stem: p for p in (folder / "letters").glob("*") if p.is_file()}
        for gold in sorted((folder / "gold").glob("*.json")):
            if gold.stem in letters:
                pairs.append((letters[gold.stem], gold))
    return pairs


def _gold_params():
    params = []
    for letter, gold in _gold_files():
        record = GoldRecord.model_validate_json(gold.read_text(encoding="utf-8"))
        for path, value in flatten(record).items():
            # Drug names are the lexicon's answer for the request; that the extractor asks it
            # about the right request is checked below, the lexicon itself by its own tests.
            # ICD-10-CM codes are the linker's answer for each diagnosis: scored as a whole
            # below, as a linker is (it is right on most, not all).
            if not path.endswith(".drugs") and path != "diagnosis_codes":
                params.append(pytest.param(letter, path, value, id=f"{letter.stem}:{path}"))
    return params


_FLAT: dict[Path, dict] = {}


def _flat(letter: Path) -> dict:
    if letter not in _FLAT:
        _FLAT[letter] = flatten(_extract_file(letter).to_record())
    return _FLAT[letter]


@pytest.mark.parametrize(("letter", "path", "expected"), _gold_params())
def test_extractor_matches_gold(letter: Path, path: str, expected) -> None:
    assert _flat(letter).get(path, "<no such item>") == expected


@pytest.mark.parametrize(("letter", "gold"), _gold_files(), ids=lambda p: p.stem)
def test_drugs_are_the_lexicon_answer_for_medication_requests(letter: Path, gold: Path) -> None:
    from imrgold.core.lexicon import generic_ingredients

    flat = _flat(letter)
    text = letter.read_bytes().decode("utf-8")
    n = 0
    while f"items.{n}.request" in flat:
        request, category = flat[f"items.{n}.request"], flat[f"items.{n}.category"]
        expected = generic_ingredients(request, text) if category == "medication" else []
        assert flat[f"items.{n}.drugs"] == sorted(expected)
        n += 1


def test_extract_cli_reads_a_folder_in_name_order(capsys, tmp_path) -> None:
    for letter in LETTERS[:3]:
        (tmp_path / letter.name).write_bytes(letter.read_bytes())
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")  # not a letter: skipped
    assert main(["extract", str(tmp_path), "--json"]) == 0
    ids = [json.loads(line)["letter_id"] for line in capsys.readouterr().out.splitlines()]
    assert ids == [hashlib.sha256(p.read_bytes()).hexdigest() for p in LETTERS[:3]]


def test_extract_cli_names_an_empty_file_and_goes_on(capsys, tmp_path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(["extract", str(empty), str(LETTERS[0])]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1
    assert "empty.txt" in err


_STRING_FIELDS = ("items.{}.request", "items.{}.rationale")


def _span_text(original: str, start: int, end: int) -> str:
    """What the interface highlights, read the way values are written (markup and mojibake
    repaired, whitespace folded)."""
    from imrgold.core.text import fold, repair

    return fold(repair(original[start:end]).text)


@pytest.mark.parametrize(("letter", "gold"), _gold_files(), ids=lambda p: p.stem)
def test_spans_highlight_the_values_in_the_original(letter: Path, gold: Path) -> None:
    original = letter.read_bytes().decode("utf-8")
    proposal = extract(original, "0" * 64)
    for path, field in proposal.fields.items():
        value = field.value
        if value in (None, []):
            continue
        assert field.spans, path
        for span in field.spans:
            assert 0 <= span.start < span.end <= len(original)
        if path.endswith((".request", ".rationale")) or path in ("case_number",):
            assert _span_text(original, field.spans[0].start, field.spans[0].end) == value
        if path in ("diagnoses", "reviewer.specialties", "reviewer.subspecialties"):
            # Specialties may be title-cased from the letter's capitals.
            assert [_span_text(original, s.start, s.end).lower() for s in field.spans] == [
                v.lower() for v in value
            ]


def test_diagnosis_codes_link_most_gold_diagnoses_to_their_gold_code() -> None:
    """Over every gold diagnosis the extractor finds, its proposed ICD-10-CM code is the gold
    code for most, and it proposes no code rather than a wrong one when unsure."""
    right = wrong = unsure = 0
    for letter, gold in _gold_files():
        record = GoldRecord.model_validate_json(gold.read_text(encoding="utf-8"))
        flat = _flat(letter)
        proposed = dict(
            zip(flat.get("diagnoses", []), flat.get("diagnosis_codes", []), strict=True)
        )
        for diagnosis in record.diagnoses:
            if diagnosis.icd10 is None or diagnosis.text not in proposed:
                continue
            code = proposed[diagnosis.text]
            if code == diagnosis.icd10:
                right += 1
            elif code is None:
                unsure += 1
            else:
                wrong += 1
    total = right + wrong + unsure
    assert total >= 150
    assert right / total >= 0.7, (right, wrong, unsure)
    assert wrong / total <= 0.25, (right, wrong, unsure)


def test_the_fast_built_models_equal_what_pydantic_builds():
    """core.extract writes models' __dict__ for speed: every field of the schema must be there,
    as `model_validate` would make it (a field added to the model and not to the extractor
    failed equality only where proposals were compared)."""
    from imrgold.core.extract import extract
    from imrgold.core.models import Proposal, ProposedField, Span
    from tests.store_helpers import fixture_letters

    letter = fixture_letters()[0]
    proposal = extract(letter.text, letter.letter_id)
    assert proposal == Proposal.model_validate(proposal.model_dump())
    for field in proposal.fields.values():
        assert set(vars(field)) == set(ProposedField.model_fields)
        assert field == ProposedField.model_validate(field.model_dump())
        for span in field.spans:
            assert set(vars(span)) == set(Span.model_fields)
