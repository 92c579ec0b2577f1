"""The spans export as a spaCy ``DocBin`` (``imrgold export --format docbin``; spaCy is the
optional extra ``imrgold[spacy]``).

Each letter is a `Doc` built from the export's own tokens (``core.tokens``), so every span is on
token boundaries and none is lost. Spans of a letter overlap (a rationale holds the drugs it
discusses), and ``doc.ents`` cannot: every span is in ``doc.spans["sc"]`` (what spaCy's
``spancat`` trains from), and ``doc.ents`` holds a non-overlapping subset, shortest spans first
(``core.tokens.non_overlapping``), for the ``ner`` component. A diagnosis's ICD-10-CM code is its
span's ``kb_id``; the letter id, status and field paths are in ``doc.user_data``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from imrgold.core.extras import require
from imrgold.core.tokens import non_overlapping

SPANS_KEY = "sc"
# What a Doc keeps of its tokens: their text and spaces, and the entities.  spaCy's default adds
# eight more columns of eight bytes a token (tags, lemmas, heads, ...) these Docs do not have:
# they made the DocBin of 10,000 letters 8 GB in memory.
ATTRS = ("ORTH", "SPACY", "ENT_IOB", "ENT_TYPE", "ENT_KB_ID")
PART = 250
"""Letters a DocBin holds when an export writes it in parts (a DocBin is built whole in
memory, about 0.1 GB for 250 letters; spaCy reads a folder of them as one corpus)."""


def docbin_parts(objects: Iterable[Mapping[str, Any]], size: int | None = None) -> Iterator[bytes]:
    """DocBins of at most ``size`` (`PART`) spans objects each (``core.tokens.with_tokens``), in
    order, each letter added as it comes (none held); one, empty, for no objects."""
    size = size or PART
    require("spacy", "spacy", "--format docbin")
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    def new_part() -> Any:
        return DocBin(attrs=list(ATTRS), store_user_data=True)

    part: Any = None
    vocab: Any = None
    held = 0
    for obj in objects:
        if part is None:
            part, vocab, held = new_part(), Vocab(), 0
        part.add(_doc(obj, vocab))
        held += 1
        if held == size:
            yield bytes(part.to_bytes())
            part = None
    if part is not None or not held:
        yield bytes((part or new_part()).to_bytes())


def _doc(obj: Mapping[str, Any], vocab: Any) -> Any:
    """A letter's spaCy `Doc`: its tokens, every span in ``spans["sc"]``, the non-overlapping
    ones as entities, the letter's meta and the spans' field paths as user data."""
    from spacy.tokens import Doc, Span

    tokens = obj["tokens"]
    doc = Doc(vocab, words=[t["text"] for t in tokens], spaces=[t["ws"] for t in tokens])
    spans = [
        Span(doc, s["token_start"], s["token_end"] + 1, label=s["label"],
             kb_id=s.get("icd10") or "")
        for s in obj["spans"]
    ]  # fmt: skip
    doc.spans[SPANS_KEY] = spans
    doc.ents = [spans[i] for i in non_overlapping(obj["spans"])]
    doc.user_data.update({**obj.get("meta", {}), "paths": [s.get("path") for s in obj["spans"]]})
    return doc
