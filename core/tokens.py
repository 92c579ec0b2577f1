"""Tokens for the spans export, in the shape Prodigy and spaCy train from.

A spans object (``core.export.spans_object``) gains ``tokens`` (``text``, ``start``, ``end``,
``id``, ``ws``) and each span its ``token_start`` and ``token_end`` (the index of its last
token, inclusive, as Prodigy writes it). Joining every token's text, followed by a space where
``ws`` is true, gives back the letter text exactly, so ``Doc(vocab, words, spaces)`` built from
the tokens has the letter's character offsets.

Every span falls on token boundaries by construction: the tokenizer is told where the spans start
and end and cuts a token there. A general tokenizer cannot promise that, since a labelled value
can sit inside what it reads as one word (a strength in ``10/325mg``, a drug glued to its dose in
a badly extracted PDF line); a span that does not align is silently dropped by spaCy and Prodigy.
Beyond those cuts the rules are regular: a run of digits (with inner ``.`` or ``,`` between
digits, ``7.5``, ``1,000``), a run of letters, or any other single character, so medical
strengths come apart (``10``, ``/``, ``325``, ``mg``) whether or not a span asks for it.

Whitespace follows spaCy: a single space after a token is its ``ws``; any other whitespace (line
breaks, runs of spaces) is a token of its own. A span's leading or trailing whitespace is dropped
first (spaCy refuses entities that start or end with whitespace; the labelled words are the same)
and a span of whitespace alone is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_PIECE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|\S")


def _pieces(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    """The non-space tokens as (start, end), each cut at every position of the sorted ``cuts``
    inside it."""
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


def tokenize(text: str, cuts: Iterable[int] = ()) -> list[dict[str, Any]]:
    """``text`` as Prodigy tokens, with a token boundary at every position of ``cuts`` that is
    not inside whitespace."""
    # (start, end, ws) first, dicts at the end: a letter has thousands of tokens.
    spans: list[list[Any]] = []
    position = 0
    for start, end in _pieces(text, sorted(set(cuts))):
        if start > position:  # whitespace since the last token
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


def _trimmed(text: str, span: Mapping[str, Any]) -> dict[str, Any] | None:
    start, end = span["start"], span["end"]
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return {**span, "start": start, "end": end} if start < end else None


def with_tokens(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A spans object (``text``, ``spans``) with ``tokens`` and each span's token range."""
    text: str = obj["text"]
    spans = [s for span in obj["spans"] if (s := _trimmed(text, span)) is not None]
    tokens = tokenize(text, [p for s in spans for p in (s["start"], s["end"])])
    by_start = {t["start"]: t["id"] for t in tokens}
    by_end = {t["end"]: t["id"] for t in tokens}
    located = [
        {**s, "token_start": by_start[s["start"]], "token_end": by_end[s["end"]]} for s in spans
    ]
    return {**obj, "tokens": tokens, "spans": located}


def non_overlapping(spans: list[Mapping[str, Any]]) -> list[int]:
    """Indexes of a subset of token-located spans in which no two share a token, shortest
    first: the fine-grained values (a drug, a strength, a date) rather than the paragraph or
    heading that contains them (those stay among the overlapping spans)."""
    taken: set[int] = set()
    chosen: list[int] = []
    order = sorted(
        range(len(spans)),
        key=lambda i: (spans[i]["token_end"] - spans[i]["token_start"], spans[i]["token_start"]),
    )
    for index in order:
        ids = range(spans[index]["token_start"], spans[index]["token_end"] + 1)
        if not taken.intersection(ids):
            taken.update(ids)
            chosen.append(index)
    return sorted(chosen, key=lambda i: spans[i]["token_start"])
