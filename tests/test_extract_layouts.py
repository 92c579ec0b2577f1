"""A letter's values do not depend on its layout: every gold letter re-laid-out must extract the
same record (PDF double spacing, centred headings, markdown, form feeds, mojibake, every header
table layout, items reordered or dropped)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from imrgold.core.extract import extract
from imrgold.core.models import GoldRecord, flatten
from imrgold.core.text import fold, repair
from tests.letter_variants import (
    HEADER_STYLES,
    LAYOUTS,
    logical_lines,
    shuffle_items,
    with_header,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# The bundled fixtures, the synthetic letters, and this suite's own letters in unusual layouts.
OWN_LETTERS = Path(__file__).resolve().parent / "extract_letters"
GOLD_FOLDERS = (FIXTURES, FIXTURES / "synthetic", OWN_LETTERS)


def _gold_letters() -> list[tuple[str, str, GoldRecord]]:
    out = []
    for folder in GOLD_FOLDERS:
        letters = {p.stem: p for p in (folder / "letters").glob("*") if p.is_file()}
        for gold in sorted((folder / "gold").glob("*.json")):
            if gold.stem in letters:
                record = GoldRecord.model_validate_json(gold.read_text(encoding="utf-8"))
                text = letters[gold.stem].read_bytes().decode("utf-8")
                out.append((gold.stem, text, record))
    return out


GOLD_LETTERS = _gold_letters()
EACH_LETTER = pytest.mark.parametrize(
    ("stem", "text", "gold"), GOLD_LETTERS, ids=[s for s, _, _ in GOLD_LETTERS]
)


def linked(flat: dict, letter: str) -> dict:
    """Gold values with each diagnosis's code as the linker reads the diagnosis in its letter
    (which may give the side the diagnosis leaves open): a layout must not change them either
    (how often they equal the gold codes is `test_extract`'s and `imrgold eval`'s concern)."""
    from imrgold.core.icd10 import link
    from imrgold.core.text import repair

    context = repair(letter).text
    codes = [link(text, context=context)[0] for text in flat.get("diagnoses", [])]
    return {**flat, "diagnosis_codes": codes}


def _assert_same(text: str, gold: GoldRecord) -> None:
    proposal = extract(text, gold.letter_id)
    got = flatten(proposal.to_record())
    expected = linked(flatten(gold), text)
    wrong = {p: (got.get(p), v) for p, v in expected.items() if got.get(p) != v}
    assert not wrong
    assert set(got) == set(expected)
    # Whatever the layout, the highlighted text is the value.
    for path, field in proposal.fields.items():
        if path.endswith(".request") or (path == "case_number" and field.value):
            span = field.spans[0]
            assert fold(repair(text[span.start : span.end]).text) == field.value


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@EACH_LETTER
def test_layout_does_not_change_values(stem: str, text: str, gold: GoldRecord, layout: str) -> None:
    rng = random.Random(f"{stem}/{layout}")
    _assert_same(LAYOUTS[layout](logical_lines(text), rng), gold)


@pytest.mark.parametrize("style", HEADER_STYLES)
@EACH_LETTER
def test_every_header_table_layout_reads_the_same(
    stem: str, text: str, gold: GoldRecord, style: str
) -> None:
    if gold.case_number is None:
        pytest.skip("letter has no case header")
    if style == "blocks" and None in (gold.date_assigned, gold.decision_date, gold.priority):
        pytest.skip("an empty cell vanishes from a label block: the layout itself is ambiguous")
    rng = random.Random(f"{stem}/{style}")
    lines = with_header(logical_lines(text), gold, style)
    _assert_same(LAYOUTS[rng.choice(("plain", "pdf"))](lines, rng), gold)


@EACH_LETTER
def test_reordered_and_dropped_items_follow(stem: str, text: str, gold: GoldRecord) -> None:
    rng = random.Random(stem)
    lines, moved = shuffle_items(logical_lines(text), gold, rng)
    assert moved is not None
    _assert_same("\n".join(lines), moved)
