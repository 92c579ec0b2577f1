"""The spans export's tokenizer is vectorized (``core.tokens``): it must give exactly the tokens
of the plain regular-expression tokenizer it replaced, kept here as the reference, and its JSON
must be exactly what ``json.dumps`` writes of those tokens; on the real letters (text copies,
hold-out letters and the PDFs' text) with their gold spans, and on generated text."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from imrgold.core.export import spans_object
from imrgold.core.models import GoldRecord
from imrgold.core.reading import read_letter
from imrgold.core.tokens import spans_line, tokenize, tokens_json, with_tokens

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# ---------------------------------------------------------------------------------------------
# The reference: the tokenizer as it was, one regular-expression match at a time.

_PIECE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|\S")


def _pieces(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    next_cut, n_cuts = 0, len(cuts)
    for found in _PIECE.finditer(text):
        start, end = found.span()
        while next_cut < n_cuts and cuts[next_cut] <= start:
            next_cut += 1
        while next_cut < n_cuts and cuts[next_cut] < end:
            out.append((start, cuts[next_cut]))
            start = cuts[next_cut]
            next_cut += 1
        out.append((start, end))
    return out


def reference_tokenize(text: str, cuts: Iterable[int] = ()) -> list[dict[str, Any]]:
    spans: list[list[Any]] = []
    position = 0
    for start, end in _pieces(text, sorted(set(cuts))):
        if start > position:
            if spans and text[position] == " ":
                spans[-1][2] = True
                position += 1
            if start > position:
                spans.append([position, start, False])
        spans.append([start, end, False])
        position = end
    if position < len(text):
        if spans and text[position] == " ":
            spans[-1][2] = True
            position += 1
        if position < len(text):
            spans.append([position, len(text), False])
    return [
        {"text": text[start:end], "start": start, "end": end, "id": index, "ws": ws}
        for index, (start, end, ws) in enumerate(spans)
    ]


def reference_with_tokens(obj: Mapping[str, Any]) -> dict[str, Any]:
    text: str = obj["text"]
    spans = []
    for span in obj["spans"]:
        start, end = span["start"], span["end"]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append({**span, "start": start, "end": end})
    tokens = reference_tokenize(text, [p for s in spans for p in (s["start"], s["end"])])
    by_start = {t["start"]: t["id"] for t in tokens}
    by_end = {t["end"]: t["id"] for t in tokens}
    located = [
        {**s, "token_start": by_start[s["start"]], "token_end": by_end[s["end"]]} for s in spans
    ]
    return {**obj, "tokens": tokens, "spans": located}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def check_same(obj: Mapping[str, Any]) -> None:
    want = reference_with_tokens(obj)
    assert with_tokens(obj) == want
    line = spans_line(obj)
    assert line == _compact(want)  # same keys in the same order, same bytes
    cuts = [p for s in want["spans"] for p in (s["start"], s["end"])]
    assert tokenize(obj["text"], cuts) == want["tokens"]
    assert tokens_json(obj["text"], cuts) == _compact(want["tokens"])


# ---------------------------------------------------------------------------------------------
# Generated text: every character class the tokenizer tells apart, characters JSON escapes,
# a private-use character (the writer splits at one the text lacks), non-Latin digits and
# letters, a number sign that re reads as a letter (superscript two), and astral characters.

ALPHABET = 'ab1/., \n\t\r"\\\x00\x01\x1f\x85\u00a0\u2028é٣²_😀\ue000\ue001-'


@st.composite
def spans_objects(draw) -> dict[str, Any]:
    text = draw(st.one_of(st.text(alphabet=ALPHABET, max_size=60), st.text(max_size=60)))
    bounds = st.integers(0, len(text))
    pairs = draw(st.lists(st.tuples(bounds, bounds), max_size=6))
    spans = [{"start": min(a, b), "end": max(a, b), "label": "x"} for a, b in pairs]
    return {"text": text, "spans": spans, "meta": {"letter_id": "l"}, "record": {"n": 1}}


@given(spans_objects())
@example({"text": "", "spans": [], "meta": {}, "record": {}})
@example({"text": " a  b \n", "spans": [{"start": 0, "end": 7, "label": "x"}]})
@example({"text": "7.5,3..2 1,000.", "spans": [{"start": 2, "end": 3, "label": "x"}]})
@example({"text": "a\ue000 b ", "spans": [{"start": 3, "end": 4, "label": "x"}]})
def test_generated_text_gives_the_reference_tokens_and_json(obj) -> None:
    check_same(obj)


@given(st.text(alphabet=ALPHABET, max_size=80), st.lists(st.integers(-3, 90), max_size=8))
def test_any_cuts_give_the_reference_tokens(text, cuts) -> None:
    assert tokenize(text, cuts) == reference_tokenize(text, cuts)
    assert tokens_json(text, cuts) == _compact(reference_tokenize(text, cuts))


# ---------------------------------------------------------------------------------------------
# The real letters.


def _gold_by_id() -> dict[str, GoldRecord]:
    found = {}
    for folder in (FIXTURES / "gold", FIXTURES / "holdout" / "gold"):
        for path in sorted(folder.glob("*.json")):
            record = GoldRecord.model_validate_json(path.read_text(encoding="utf-8"))
            found[record.letter_id] = record
    return found


LETTERS = sorted(
    [*(FIXTURES / "letters").glob("*.txt"), *(FIXTURES / "holdout" / "letters").glob("*.txt"),
     *(FIXTURES / "pdf").glob("*.pdf")]
)  # fmt: skip


@pytest.fixture(scope="module")
def gold() -> dict[str, GoldRecord]:
    return _gold_by_id()


@pytest.mark.parametrize("path", LETTERS, ids=lambda p: p.name)
def test_real_letters_give_the_reference_tokens_and_json(path, gold) -> None:
    letter = read_letter(path)
    record = gold.get(letter.letter_id) or gold.get(hashlib.sha256(path.read_bytes()).hexdigest())
    if record is None:  # no gold: cut at every line start instead
        cuts = [m.start() for m in re.finditer(r"^", letter.text, re.MULTILINE)]
        spans = [{"start": a, "end": b, "label": "line"} for a, b in itertools.pairwise(cuts)]
        obj = {"text": letter.text, "spans": spans, "meta": {}, "record": {}}
    else:
        obj = spans_object(record, letter.text, meta={"status": "gold"})
        assert obj["spans"], path.name
    check_same(obj)
