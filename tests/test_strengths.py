"""The named rule strengths: each group stays in its band of the scale, and the extractor gives
no strength that is not one of them (or the item arithmetic on them)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from imrgold.core import strengths
from imrgold.core.extract import extract
from imrgold.core.reading import read_letter

ROOT = Path(__file__).resolve().parent.parent

BANDS = {
    "READ": (0.95, 1.0),
    "CLEAR": (0.8, 0.95),
    "FALLBACK": (0.5, 0.8),
    "DOUBT": (0.0, 0.5),
    "ABSENT": (0.0, 1.0),
}


def _values(group: Any) -> dict[str, float]:
    return {f.name: getattr(group, f.name) for f in dataclasses.fields(group)}


@pytest.mark.parametrize("name", sorted(BANDS))
def test_each_group_stays_in_its_band(name):
    lo, hi = BANDS[name]
    group = getattr(strengths, name)
    values = _values(group)
    assert values
    outside = {k: v for k, v in values.items() if not lo <= v <= hi}
    # A band's upper edge belongs to the band above (0.95 is READ, not CLEAR).
    outside |= {k: v for k, v in values.items() if v == hi and name in ("CLEAR", "FALLBACK")}
    outside |= {k: v for k, v in values.items() if v == hi and name == "DOUBT"}
    assert not outside, f"{name} strengths outside [{lo}, {hi}): {outside}"


def test_groups_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(strengths.CLEAR, "labelled_item", 0.5)  # noqa: B010


def _named() -> set[float]:
    """Every strength a rule may give: the named ones, and an item's request and decision
    (its block's strength with a heading adjustment) and category (scaled for an unlabelled
    block), rounded as proposals are."""
    groups = [strengths.READ, strengths.CLEAR, strengths.FALLBACK, strengths.DOUBT]
    named = {v for g in [*groups, strengths.ABSENT] for v in _values(g).values()}
    bases = (strengths.CLEAR.labelled_item, strengths.FALLBACK.unlabelled_item)
    adjustments = (strengths.WHOLE_HEADING, strengths.PARTIAL_HEADING, 0.0)
    derived = {b + a for b, a in itertools.product(bases, adjustments)}
    scale = strengths.FALLBACK.unlabelled_item / strengths.CLEAR.labelled_item
    derived |= {v * scale for v in named}
    return {round(v, 3) for v in named | derived}


def test_the_extractor_gives_only_named_strengths():
    folders = ("fixtures/letters", "fixtures/holdout/letters", "tests/extract_letters/letters")
    letters = [p for folder in folders for p in sorted((ROOT / folder).glob("*"))]
    assert len(letters) >= 10
    allowed = _named()
    seen: set[float] = set()
    for path in letters:
        letter = read_letter(path, check=False)
        proposal = extract(letter.text, letter.letter_id, calibrated=False)
        for field_path, field in proposal.fields.items():
            assert field.confidence in allowed, (path.name, field_path, field.confidence)
            seen.add(field.confidence)
    # The letters exercise many rules, not one default.
    assert len(seen) >= 12
