"""The letter as the reading pane shows it (core.shown): reflowed, clean, and mapped exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imrgold.core.extract import extract
from imrgold.core.reading import read_letter
from imrgold.core.shown import shown_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TEXT_LETTERS = sorted((FIXTURES / "letters").glob("*.txt"))
PDF_LETTERS = sorted((FIXTURES / "pdf").glob("*.pdf"))
MARKUP = re.compile(r"</?b>|^#+ |\*\*", re.M)


def _words(text: str) -> str:
    return " ".join(MARKUP.sub("", text).split())


def _lines(shown: str) -> list[str]:
    return shown.split("\n")


@pytest.mark.parametrize("path", TEXT_LETTERS[:6] + PDF_LETTERS[:6], ids=lambda p: p.name)
def test_every_proposed_span_shows_exactly_its_words(path):
    """What the pane highlights for a value is the value's own text, in every kind of letter."""
    text = read_letter(path).text
    shown = shown_text(text)
    fields = extract(text, "x").fields.values()
    spans = [s for field in fields for s in field.spans if s.end > s.start]
    assert spans
    for span in spans:
        start, end = shown.to_shown(span.start), shown.to_shown(span.end)
        assert _words(shown.text[start:end]) == _words(text[span.start : span.end])
        # and back: the shown stretch is the span again (hidden markup at its edges aside)
        back = shown.span_to_letter(start, end)
        assert span.start <= back[0] <= back[1] <= span.end
        assert _words(text[back[0] : back[1]]) == _words(text[span.start : span.end])


def test_a_pdf_letter_is_reflowed_into_paragraphs_with_its_structure_kept():
    text = read_letter(FIXTURES / "pdf" / "CM17-0003284.pdf").text
    lines = _lines(shown_text(text).text)
    assert len(lines) < len(text.split("\n")) / 2
    # Labels, headings and the header block still start their own lines.
    for start in ("Decision rationale:", "MAXIMUS guideline:", "CLINICAL CASE SUMMARY",
                  "IMR ISSUES", "Case Number:"):  # fmt: skip
        assert any(line.lstrip().startswith(start) for line in lines), start
    # A paragraph is one line (the pane wraps it), with one space where the PDF broke it.
    assert all(len(line) < 2000 for line in lines)
    assert "  " not in "".join(line.strip() for line in lines if len(line) > 200)


def test_a_double_spaced_copy_loses_the_blank_after_each_line_but_keeps_its_paragraphs():
    # The text copies put a blank line after every line of the letter ("has no \n\naffiliation").
    text = read_letter(FIXTURES / "letters" / "000_fa2635f264c99a6e.txt").text
    assert "has no \n\naffiliation" in text
    lines = _lines(shown_text(text).text)
    assert any("has no affiliation with the employer" in line for line in lines)
    # Where the copy has two blank lines or more, the letter's paragraphs part: one blank line.
    at = lines.index("CLINICAL CASE SUMMARY")
    assert lines[at - 1] == "" and lines[at - 2].endswith("Review determinations.")


def test_markup_is_hidden_and_a_one_paragraph_a_line_copy_keeps_its_blank_lines():
    text = read_letter(FIXTURES / "letters" / "003_f48181e75229ba39.txt").text
    assert "<b>" in text and "### " in text and "**" in text
    shown = shown_text(text).text
    assert "<b>" not in shown and "</b>" not in shown and "###" not in shown and "**" not in shown
    lines = _lines(shown)
    assert lines[0].startswith("Case Number:") and lines[1].startswith("Date Assigned:")
    at = lines.index("CLINICAL CASE SUMMARY")
    assert lines[at - 1] == "" and lines[at + 1] == ""


def test_raw_shows_every_character_as_ingested():
    text = "<b>Case Number:</b> CM1\r\nline two\fpage\n\nend"
    raw = shown_text(text, clean=False)
    assert raw.text == "<b>Case Number:</b> CM1 \nline two page\n\nend"
    assert all(raw.to_letter(i) == i for i in range(len(text) + 1))


def test_a_letter_without_lines_of_wrapped_width_is_left_as_it_is():
    paragraph = "The patient reports pain. " * 12
    text = "\n".join([paragraph.strip()] * 6)
    assert shown_text(text).text == text


_LETTERISH = st.lists(
    st.sampled_from(
        [
            "The injured worker is a 43 year old female who sustained an industrial injury on",
            "Decision rationale: Norco 10/325mg #60 is not medically necessary for this",
            "<b>Case Number:</b>\tCM16-0231706",
            "### CLINICAL CASE SUMMARY",
            "**Baclofen cream:** Upheld",
            "",
            " ",
            "\f",
            "short line",
            "1. Tramadol 50mg",
        ]
    ),
    max_size=40,
).map(lambda lines: "\n".join(lines))


@given(_LETTERISH, st.integers(0, 4000), st.integers(0, 4000))
def test_the_map_is_monotone_and_keeps_shown_characters(text, a, b):
    shown = shown_text(text)
    a, b = sorted((a % (len(text) + 1), b % (len(text) + 1)))
    assert shown.to_shown(a) <= shown.to_shown(b) <= len(shown.text)
    for i, c in enumerate(shown.text):
        at = shown.to_letter(i)
        assert c in " \n" or text[at] == c
        assert i == 0 or shown.to_letter(i - 1) < at
        assert shown.to_shown(at) == i
