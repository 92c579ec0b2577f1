"""Pairing the disputed items of two versions of a record by their request text.

Evaluation (machine against gold) and agreement (annotator against annotator) both compare item
fields, and both must first decide which item of one version is which item of the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Pairs = list[tuple[int | None, int | None]]


def normalize_text(value: object) -> str:
    """Whitespace folded, lower case: how two spellings of a request or list value are compared."""
    return re.sub(r"\s+", " ", str(value or "")).strip().lower()


def align_items(
    a: Sequence[str], b: Sequence[str], *, threshold: float, by_position_if_same_count: bool = False
) -> Pairs:
    """Pairs (index in ``a``, index in ``b``); None on the side that lacks the item.

    Best-scoring pairs first (token-set ratio, ties broken by closeness of position), so a
    reordered or missing item does not shift every pair after it; pairs scoring below
    ``threshold`` stay unmatched.  ``by_position_if_same_count`` pairs equal-length lists by
    position: items are in letter order, and one side may have corrected the request text.
    """
    if by_position_if_same_count and len(a) == len(b):
        return [(i, i) for i in range(len(a))]
    from rapidfuzz import fuzz

    scored = sorted(
        (
            (fuzz.token_set_ratio(normalize_text(x), normalize_text(y)), -abs(i - j), i, j)
            for i, x in enumerate(a)
            for j, y in enumerate(b)
        ),
        reverse=True,
    )
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for score, _, i, j in scored:
        if score < threshold:
            break
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    out: Pairs = [(i, pairs.get(i)) for i in range(len(a))]
    out += [(None, j) for j in range(len(b)) if j not in used]
    return out
