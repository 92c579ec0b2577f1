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

import itertools
import json.encoder
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import orjson

# A character's class, read by ``re`` itself (``\d``, ``\w`` and ``\s`` as Unicode defines them):
# the tokens are what ``\d+(?:[.,]\d+)*|[^\W\d_]+|\S`` finds, computed a class a character.
_DIGIT, _LETTER, _SPACE, _OTHER = 0, 1, 2, 3
_CLASS_RES = ((_DIGIT, re.compile(r"\d")), (_LETTER, re.compile(r"[^\W\d_]")),
              (_SPACE, re.compile(r"\s")))  # fmt: skip
_class_of: dict[int, int] = {}


def _char_class(code: int) -> int:
    found = _class_of.get(code)
    if found is None:
        char = chr(code)
        found = next((k for k, pattern in _CLASS_RES if pattern.fullmatch(char)), _OTHER)
        _class_of[code] = found
    return found


_LATIN = np.array([_char_class(c) for c in range(256)], dtype=np.uint8)


def _classes(codes: np.ndarray) -> np.ndarray:
    if not codes.size or int(codes.max()) < 256:
        return _LATIN[codes]
    out = np.empty(codes.size, np.uint8)
    low = codes < 256
    out[low] = _LATIN[codes[low]]
    high, where = np.unique(codes[~low], return_inverse=True)
    out[~low] = np.array([_char_class(c) for c in high.tolist()], np.uint8)[where]
    return out


def _codes(text: str) -> np.ndarray:
    # One uint32 a character: numpy sees the text with Python's own offsets.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _bounds(
    codes: np.ndarray, cuts: Iterable[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every token's start and end and whether a single space follows it (its ``ws``), as
    arrays, plus the positions of those spaces (``absorbed``, a boolean a character).

    Vectorized (a letter has thousands of tokens and the spans export tokenizes every letter):
    a token starts where the character class changes, at every "other" character and at every
    cut that is not inside whitespace; a ``.`` or ``,`` between two digits counts as a digit (so
    ``7.5`` is one token, as the regular expression reads it). A whitespace run's first character,
    when it is a space after a token, is that token's ``ws`` and belongs to no token."""
    n = codes.size
    if not n:
        nothing = np.zeros(0, np.int64)
        return nothing, nothing, np.zeros(0, bool), np.zeros(0, bool)
    kind = _classes(codes)
    if n > 2:
        mid = codes[1:-1]
        inner = ((mid == 46) | (mid == 44)) & (kind[:-2] == _DIGIT) & (kind[2:] == _DIGIT)
        kind[1:-1][inner] = _DIGIT
    space = kind == _SPACE
    new = np.empty(n, bool)
    new[:1] = True
    np.not_equal(kind[1:], kind[:-1], out=new[1:])
    new[1:] |= kind[1:] == _OTHER
    at = np.fromiter(cuts, np.int64)
    at = at[(at > 0) & (at < n)]
    new[at[~space[at]]] = True
    absorbed = new & space & (codes == 32)
    absorbed[:1] = False
    begins = new & ~absorbed
    begins[1:] |= absorbed[:-1] & space[1:]
    marks = np.flatnonzero(begins | absorbed)
    following = np.append(marks[1:], n)
    token = ~absorbed[marks]
    ends = following[token]
    return marks[token], ends, np.append(absorbed, False)[ends], absorbed


def _dicts(text: str, starts: np.ndarray, ends: np.ndarray, ws: np.ndarray) -> list[dict[str, Any]]:
    return [
        {"text": text[start:end], "start": start, "end": end, "id": index, "ws": space}
        for index, (start, end, space) in enumerate(
            zip(starts.tolist(), ends.tolist(), ws.tolist(), strict=True)
        )
    ]


def tokenize(text: str, cuts: Iterable[int] = ()) -> list[dict[str, Any]]:
    """``text`` as Prodigy tokens, with a token boundary at every position of ``cuts`` that is
    not inside whitespace."""
    starts, ends, ws, _ = _bounds(_codes(text), cuts)
    return _dicts(text, starts, ends, ws)


# The JSON between two token texts is looked up, not formatted: strings for every number a
# letter needs, grown as letters need more (a format a token costs more than the tokenizing).
_TAIL = ',{"text":"'
_glue: dict[str, np.ndarray] = {}


def _glue_for(size: int) -> dict[str, np.ndarray]:
    if size > len(_glue.get("start", ())):
        size = max(size, 2 * len(_glue.get("start", ())), 1 << 15)
        table = np.empty((size, 2), dtype=object)
        table[:, 0] = [f',"id":{i},"ws":false}}{_TAIL}' for i in range(size)]
        table[:, 1] = [f',"id":{i},"ws":true}}{_TAIL}' for i in range(size)]
        _glue.update(
            start=np.array([f'","start":{i}' for i in range(size + 1)], dtype=object),
            end=np.array([f',"end":{i}' for i in range(size + 1)], dtype=object),
            id_ws=table,
        )
    return _glue


_escaped: dict[str, str] = {}


def _escape(piece: str) -> str:
    # What needs escaping is whitespace runs and single characters: few distinct ones.
    found = _escaped.get(piece)
    if found is None:
        if len(_escaped) > 4096:
            _escaped.clear()
        found = _escaped[piece] = json.encoder.encode_basestring(piece)[1:-1]
    return found


def _unused(codes: np.ndarray) -> int:
    # A private-use character the text lacks, to split it at every token boundary at once.
    present = set(np.unique(codes[(codes >= 0xE000) & (codes < 0xF900)]).tolist())
    return next(c for c in range(0xE000, 0xF900) if c not in present)


def _token_parts(
    codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, ws: np.ndarray, absorbed: np.ndarray
) -> list[str]:
    """The tokens' JSON array in pieces that join to exactly what
    ``json.dumps(tokens, ensure_ascii=False, separators=(",", ":"))`` writes."""
    n_tokens = starts.size
    if not n_tokens:
        return ["[]"]
    # The texts in one split: the absorbed spaces and a mark before every other token start
    # become a character the text lacks.
    sentinel = _unused(codes)
    marked = codes.copy()
    marked[absorbed] = sentinel
    later = starts[1:]
    marked = np.insert(marked, later[~absorbed[later - 1]], sentinel)
    texts = marked.tobytes().decode("utf-32-le", "surrogatepass").split(chr(sentinel))
    del texts[n_tokens:]  # a trailing absorbed space leaves an empty piece
    needy = np.flatnonzero((codes < 32) | (codes == 34) | (codes == 92))
    for index in np.unique(np.searchsorted(starts, needy, side="right") - 1).tolist():
        texts[index] = _escape(texts[index])
    glue = _glue_for(n_tokens)
    parts = list(
        itertools.chain.from_iterable(
            zip(
                texts,
                glue["start"][starts].tolist(),
                glue["end"][ends].tolist(),
                glue["id_ws"][np.arange(n_tokens), ws.astype(np.intp)].tolist(),
                strict=True,
            )
        )
    )
    parts[-1] = parts[-1][: -len(_TAIL)]
    parts.insert(0, '[{"text":"')
    parts.append("]")
    return parts


def tokens_json(text: str, cuts: Iterable[int] = ()) -> str:
    """``json.dumps(tokenize(text, cuts), ensure_ascii=False, separators=(",", ":"))``,
    written without building the token dicts."""
    codes = _codes(text)
    return "".join(_token_parts(codes, *_bounds(codes, cuts)))


def _trimmed(text: str, span: Mapping[str, Any]) -> dict[str, Any] | None:
    start, end = span["start"], span["end"]
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return {**span, "start": start, "end": end} if start < end else None


def _trimmed_spans(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for span in obj["spans"] if (s := _trimmed(obj["text"], span)) is not None]


def _located(
    spans: list[dict[str, Any]], starts: np.ndarray, ends: np.ndarray
) -> list[dict[str, Any]]:
    # Exact by construction: the tokens were cut at every span's start and end.
    first = np.searchsorted(starts, [s["start"] for s in spans]).tolist()
    last = np.searchsorted(ends, [s["end"] for s in spans]).tolist()
    return [
        {**s, "token_start": a, "token_end": b} for s, a, b in zip(spans, first, last, strict=True)
    ]


def _cuts(spans: list[dict[str, Any]]) -> list[int]:
    return [p for s in spans for p in (s["start"], s["end"])]


def with_tokens(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A spans object (``text``, ``spans``) with ``tokens`` and each span's token range."""
    spans = _trimmed_spans(obj)
    starts, ends, ws, _ = _bounds(_codes(obj["text"]), _cuts(spans))
    tokens = _dicts(obj["text"], starts, ends, ws)
    return {**obj, "tokens": tokens, "spans": _located(spans, starts, ends)}


def spans_line(obj: Mapping[str, Any]) -> str:
    """``with_tokens(obj)`` as one compact JSON line (its keys in the same order), the way the
    spans export writes every letter: the tokens' JSON is written straight from the token
    bounds (a letter has thousands of tokens; their dicts cost more than the rest of the
    line)."""
    spans = _trimmed_spans(obj)
    codes = _codes(obj["text"])
    starts, ends, ws, absorbed = _bounds(codes, _cuts(spans))
    head = orjson.dumps({**obj, "spans": _located(spans, starts, ends)}).decode()
    return "".join([head[:-1], ',"tokens":', *_token_parts(codes, starts, ends, ws, absorbed), "}"])


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
