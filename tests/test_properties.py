"""On any text the extractor returns a valid record and never raises; repair keeps its map."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.extract import _extract, extract
from core.models import GoldRecord
from core.text import repair

LETTERS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "letters").glob("*.txt"))
# Real lines and the tokens the rules key on, so generated texts reach the deep paths
# (headers, item headings, partial certifications, diagnoses blocks) and not only the surface.
LINES = sorted({
    line.strip()
    for p in LETTERS[::3]
    for line in p.read_text(encoding="utf-8").splitlines()
    if line.strip()
})
TOKENS = [
    "Upheld", ": Upheld", "is: Overturned", "Overturned", "Decision rationale:",
    "MAXIMUS guideline:", "Claims Administrator guideline:", "IMR ISSUES, DECISIONS AND RATIONALES",
    "CLINICAL CASE SUMMARY", "Diagnoses:", "- ", "1. ", "**", "<b>", "</b>", "###", "\f", "\t",
    "Â§", "Î±", "Case Number:", "CM16-0248471", "12/27/2016", "06/27/00", "Standard",
    "Application", "Received:", "original request,", "Board Certified in",
    "licensed to practice in",
    "State(s) of Licensure:", "Certification(s)/Specialty:", "#90", "5%", "120 grams", "qty 1",
    "po", "q8-12 prn", "40-year-old", "female", "he", "she", "-\n", "\n", "\n\n", " ",
]
FRAGMENTS = st.lists(
    st.one_of(st.sampled_from(LINES), st.sampled_from(TOKENS), st.text(max_size=20)), max_size=60
)
SEPARATORS = st.sampled_from(["\n", " \n\n", " ", "\n\n", "\t", ""])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str) -> None:
    proposal = _extract(text, "0" * 64)  # the unguarded core: a rule that trips shows here
    record = proposal.to_record()
    GoldRecord.model_validate(record.model_dump())
    for field in proposal.fields.values():
        for span in field.spans:
            assert 0 <= span.start <= span.end <= len(text)
        assert 0.0 <= field.confidence <= 1.0


@SETTINGS
@given(st.text(max_size=3000))
def test_any_text_gives_a_valid_record(text: str) -> None:
    _check(text)


@SETTINGS
@given(FRAGMENTS, SEPARATORS)
def test_letter_like_text_gives_a_valid_record(fragments: list[str], sep: str) -> None:
    _check(sep.join(fragments))


@SETTINGS
@given(st.text(max_size=2000))
def test_the_guarded_entry_point_never_raises(text: str) -> None:
    assert extract(text, "x").letter_id == "x"


@SETTINGS
@given(st.one_of(st.text(max_size=2000), FRAGMENTS.map("\n".join)))
def test_repair_maps_monotonically_into_the_original(text: str) -> None:
    repaired = repair(text)
    previous = 0
    for pos in range(len(repaired.text)):
        here = repaired.to_original(pos)
        assert previous <= here < max(len(text), 1)
        previous = here
    for token in ("**", "<b>", "\f"):
        assert token not in repaired.text
