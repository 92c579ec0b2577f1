"""On any text the extractor returns a valid record and never raises; repair keeps its map."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imrgold.core.calibration import default_calibration
from imrgold.core.extract import _extract, extract
from imrgold.core.lexicon_text import fold as lexfold
from imrgold.core.lexicon_text import letter_tokens, letter_words, tokens
from imrgold.core.models import GoldRecord
from imrgold.core.text import Repaired, repair

LETTERS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "letters").glob("*.txt"))
# Real lines and the tokens the rules key on, so generated texts reach the deep paths
# (headers, item headings, partial certifications, diagnoses blocks) and not only the surface.
LINES = sorted(
    {
        line.strip()
        for p in LETTERS[::3]
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
)
TOKENS = [
    "Upheld",
    ": Upheld",
    "is: Overturned",
    "Overturned",
    "Decision rationale:",
    "MAXIMUS guideline:",
    "Claims Administrator guideline:",
    "IMR ISSUES, DECISIONS AND RATIONALES",
    "CLINICAL CASE SUMMARY",
    "Diagnoses:",
    "- ",
    "1. ",
    "**",
    "<b>",
    "</b>",
    "###",
    "\f",
    "\t",
    "Â§",
    "Î±",
    "Case Number:",
    "CM16-0248471",
    "12/27/2016",
    "06/27/00",
    "Standard",
    "Application",
    "Received:",
    "original request,",
    "Board Certified in",
    "licensed to practice in",
    "State(s) of Licensure:",
    "Certification(s)/Specialty:",
    "#90",
    "5%",
    "120 grams",
    "qty 1",
    "po",
    "q8-12 prn",
    "40-year-old",
    "female",
    "he",
    "she",
    "-\n",
    "\n",
    "\n\n",
    " ",
]
FRAGMENTS = st.lists(
    st.one_of(st.sampled_from(LINES), st.sampled_from(TOKENS), st.text(max_size=20)), max_size=60
)
SEPARATORS = st.sampled_from(["\n", " \n\n", " ", "\n\n", "\t", ""])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text: str) -> None:
    # The unguarded core (a rule that trips shows here), confidences calibrated.
    proposal = _extract(text, "0" * 64, default_calibration())
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


def _reference_span(repaired: Repaired, start: int, end: int) -> tuple[int, int]:
    """`Repaired.span` stated plainly: each end found in its segment by a walk over them all; a
    copied segment maps offset for offset (within it), a replaced one maps a start to where
    its original begins and an end to where it ends; a range never ends before it starts."""
    segments = list(
        zip(
            repaired._clean_starts,
            repaired._orig_starts,
            repaired._orig_ends,
            repaired._copied,
            strict=True,
        )
    )
    if not segments:
        return 0, 0

    def segment_at(pos: int) -> tuple[int, int, int, bool]:
        found = segments[0]  # a position before the first segment counts as in it
        for segment in segments:
            if segment[0] <= pos:
                found = segment
        return found

    clean, orig, orig_end, copied = segment_at(start)
    first = min(orig + start - clean, orig_end) if copied else orig
    if end <= start:
        return first, first
    if end <= 0:  # a range that ends before the text ends at its start
        return first, max(0, first)
    clean, orig, orig_end, copied = segment_at(end - 1)  # the range's last character
    last = min(orig + end - clean, orig_end) if copied else orig_end
    return first, max(last, first)


@SETTINGS
@given(
    st.one_of(st.text(max_size=500), FRAGMENTS.map("\n".join), FRAGMENTS.map(" \n\n".join)),
    st.data(),
)
def test_the_fast_span_map_is_the_plain_one(text: str, data: st.DataObject) -> None:
    repaired = repair(text)
    n = len(repaired.text)
    position = st.integers(-2, n + 2)
    for start, end in data.draw(st.lists(st.tuples(position, position), min_size=1, max_size=30)):
        assert repaired.span(start, end) == _reference_span(repaired, start, end)
    # Every single character and every whole line, where the extractor's spans fall.
    for pos in range(n):
        assert repaired.span(pos, pos + 1) == _reference_span(repaired, pos, pos + 1)
    line_start = 0
    for line in repaired.text.split("\n"):
        end = line_start + len(line)
        assert repaired.span(line_start, end) == _reference_span(repaired, line_start, end)
        line_start = end + 1


# The lexicon's tokenizer, written as the plain regexes it was before it was sped up: the faster
# patterns must split every text the same way.
_REF_OCR = re.compile(r"(?<=[a-z])[01]+(?=[a-z])|(?<![\w.])0(?=[a-z]{3})")
_REF_LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_REF_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def _reference_tokens(text: str) -> list[str]:
    text = _REF_OCR.sub(lambda m: m.group().translate(str.maketrans("01", "ol")), lexfold(text))
    return _REF_TOKEN.findall(_REF_LETTER_DIGIT.sub(" ", text))


@SETTINGS
@given(st.text(alphabet="ab01 ._9zA0x1é-/#", max_size=40) | st.sampled_from(LINES))
def test_lexicon_tokens_match_the_plain_regexes(text: str) -> None:
    assert tokens(text) == _reference_tokens(text)


@SETTINGS
@given(st.text(alphabet="abcd01 ._9zA0x1é-/#Tylenol3", max_size=40) | st.sampled_from(LINES))
def test_letter_words_are_the_long_all_letter_tokens(text: str) -> None:
    wanted = {t for t in letter_tokens(text) if t.isalpha() and len(t) >= 3}
    assert set(letter_words(text)) == wanted
