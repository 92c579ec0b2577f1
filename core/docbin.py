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

from collections.abc import Iterable, Mapping
from typing import Any

from imrgold.core.extras import require
from imrgold.core.tokens import non_overlapping

SPANS_KEY = "sc"


def docbin_bytes(objects: Iterable[Mapping[str, Any]]) -> bytes:
    """The DocBin of spans objects that carry tokens (``core.tokens.with_tokens``)."""
    require("spacy", "spacy", "--format docbin")
    from spacy.tokens import Doc, DocBin, Span
    from spacy.vocab import Vocab

    vocab = Vocab()
    docs = DocBin(store_user_data=True)
    for obj in objects:
        tokens = obj["tokens"]
        doc = Doc(vocab, words=[t["text"] for t in tokens], spaces=[t["ws"] for t in tokens])
        spans = [
            Span(doc, s["token_start"], s["token_end"] + 1, label=s["label"],
                 kb_id=s.get("icd10") or "")
            for s in obj["spans"]
        ]  # fmt: skip
        doc.spans[SPANS_KEY] = spans
        doc.ents = [spans[i] for i in non_overlapping(obj["spans"])]
        doc.user_data.update(
            {**obj.get("meta", {}), "paths": [s.get("path") for s in obj["spans"]]}
        )
        docs.add(doc)
    return bytes(docs.to_bytes())
