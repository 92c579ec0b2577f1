"""The CPU-bound part of an export, one letter at a time, where `core.parallel` runs it: the
spans format's spans and tokens, and de-identifying.  The exporting process reads the store, hands
each letter here and writes what comes back, in order.

Each worker holds its own `Deidentifier` under the export's key (`start`): pseudonyms and date
shifts are keyed hashes, the same in every process.  What it removed from a letter comes back
with the letter (`Rendered.counts`) and is added to the exporting process's summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from imrgold.core.deidentify import Deidentifier
from imrgold.core.export import spans_object
from imrgold.core.models import GoldRecord, Proposal
from imrgold.core.parallel import ordered_map
from imrgold.core.tokens import spans_line

_deid: Deidentifier | None = None


class Rendered(NamedTuple):
    value: Any
    counts: Counter[str]


def start(key: bytes | str | None) -> None:
    """Set up this process to render an export (de-identified under ``key``, unless None)."""
    global _deid
    _deid = Deidentifier(key) if key is not None else None


def _taken() -> Counter[str]:
    """What the de-identifier counted since it was last asked."""
    if _deid is None:
        return Counter()
    counts, _deid.counts = _deid.counts, Counter()
    return counts


Letter = tuple[GoldRecord, str, Proposal | None, dict[str, Any]]
"""What the spans format is made of, a letter: its record, text, proposal and meta."""


def _spans_object(item: Letter) -> dict[str, Any]:
    record, text, proposal, meta = item
    obj = spans_object(record, text, proposal, meta)
    return _deid.spans_object(obj, record) if _deid is not None else obj


def spans_of(item: Letter) -> Rendered:
    """A letter as the spans format's line (`core.export.spans_object`, tokens cut by
    `core.tokens.spans_line`), de-identified first when the export is."""
    return Rendered(spans_line(_spans_object(item)), _taken())


def spans_object_of(item: Letter) -> Rendered:
    """A letter's spans object (de-identified when the export is), for the DocBin."""
    return Rendered(_spans_object(item), _taken())


def record_of(item: tuple[GoldRecord, str | None]) -> Rendered:
    """A record de-identified (with its letter's text, for the names its header labels)."""
    record, text = item
    assert _deid is not None, "records are rendered here only to be de-identified"
    return Rendered(_deid.record(record, text), _taken())


def rendered(
    fn: Any,
    items: Iterable[Any],
    *,
    key: bytes | str | None,
    jobs: int,
    into: Deidentifier | None,
    initializer: Any = start,
    initargs: tuple[Any, ...] | None = None,
    preload: Sequence[str] = ("imrgold.core.render",),
) -> Iterator[Any]:
    """``fn`` (`spans_of`, `spans_object_of`, `record_of`, or a function of the same kind
    that reads its letter itself, set up by ``initializer(*initargs)``, which calls `start`)
    over ``items`` in ``jobs`` processes, in order; what each de-identified is added to
    ``into``'s counts."""
    for value, counts in ordered_map(
        fn,
        items,
        jobs=jobs,
        chunk=8,
        initializer=initializer,
        initargs=(key,) if initargs is None else initargs,
        preload=list(preload),
    ):
        if into is not None:
            into.counts.update(counts)
        yield value
