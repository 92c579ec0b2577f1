"""Field confidences that mean something: the extractor's rule strengths mapped to how often
fields proposed with them were right on real letters with gold.

The extractor gives every field a rule strength (a hand-set number named in `core.strengths`,
such as 0.85 for a general rule on a clear layout, or a product of them).  On real letters
those strengths say little about how often the field is right, so each (field, strength) pair is
a cell of a table learned from gold, smoothed twice so a rare cell is neither 0 nor 1:

1. per strength, pooled over fields: ``(right + PRIOR * strength) / (n + PRIOR)``: the hand-set
   strength is the prior a few letters outweigh;
2. per field and strength: ``(right + PRIOR * pooled) / (n + PRIOR)``: a field seen rarely at a
   strength takes the pooled figure, a field seen often its own;

each made monotone in the strength by pool-adjacent-violators (a stronger rule is never less
sure than a weaker one for the same field).  Between the strengths seen, the curve is linear;
below the weakest it falls linearly to 0 at 0 (a field the machine could not propose stays at 0);
above the strongest it stays level.

The table is data (`core/data/calibration.json`), rebuilt from the fixtures' gold by
`scripts/make_calibration.py`; `imrgold eval` reports it cross-validated by letter.
"""

from __future__ import annotations

import bisect
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imrgold.core.models import Proposal, split_item_path

FLAG_BELOW = 0.95
"""A machine field whose calibrated confidence is below this is flagged for a look: on real
letters, fields under it were wrong more than one time in twenty.  The one definition of the
threshold (the editor's low rows, `imrgold eval`'s flag share and recall)."""

MACHINE_CEILING = 0.999
"""No machine field is certain: 1.0 is a person's word (a confirmed or typed value)."""

PRIOR = 10.0
"""Pseudo-letters of weight the prior of each level carries (see the module's docstring)."""

DATA_PATH = Path(__file__).resolve().parent / "data" / "calibration.json"

Knots = tuple[tuple[float, float], ...]


@functools.lru_cache(maxsize=1024)
def field_key(path: str) -> str:
    """The calibration key of a field path: item fields are pooled (``items.3.drugs`` ->
    ``items.drugs``), as `core.evaluate` scores them."""
    split = split_item_path(path)
    return f"items.{split[1]}" if split else path


def pav(points: Sequence[tuple[float, float, float]]) -> Knots:
    """Pool adjacent violators: the weighted least-squares non-decreasing fit of ``(x, y,
    weight)`` points (``x`` strictly increasing), as ``(x, fitted y)`` knots."""
    blocks: list[list[float]] = []  # [sum of w*y, sum of w, number of points]
    for _, y, w in points:
        blocks.append([w * y, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            top = blocks.pop()
            blocks[-1] = [blocks[-1][0] + top[0], blocks[-1][1] + top[1], blocks[-1][2] + top[2]]
    fitted: list[float] = []
    for wy, w, count in blocks:
        fitted.extend([wy / w] * int(count))
    return tuple((x, y) for (x, _, _), y in zip(points, fitted, strict=True))


def interpolate(knots: Knots, x: float) -> float:
    """The curve through ``knots`` at ``x``: linear between them, from (0, 0) up to the first,
    level after the last; bounded to [0, 1]."""
    if not knots:
        return min(1.0, max(0.0, x))
    xs = [k[0] for k in knots]
    at = bisect.bisect_left(xs, x)
    if at < len(knots) and knots[at][0] == x:
        y = knots[at][1]
    elif at == len(knots):
        y = knots[-1][1]
    else:
        (x0, y0) = knots[at - 1] if at else (0.0, 0.0)
        x1, y1 = knots[at]
        y = y0 if x1 <= x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return min(1.0, max(0.0, y))


Cells = dict[float, list[int]]  # strength -> [right, total]


def _smoothed_curve(cells: Cells, prior: Callable[[float], float], weight: float) -> Knots:
    points = [
        (x, (right + weight * prior(x)) / (n + weight), n + weight)
        for x, (right, n) in sorted(cells.items())
    ]
    return pav(points)


@dataclass(frozen=True)
class Calibration:
    """Per field key, the calibrated curve's knots; ``pooled`` for a key never seen."""

    pooled: Knots = ()
    fields: dict[str, Knots] = field(default_factory=dict)
    _cache: dict[tuple[str, float], float] = field(default_factory=dict, compare=False)

    def confidence(self, key: str, strength: float) -> float:
        """The calibrated confidence of a field ``key`` proposed with rule ``strength``."""
        found = self._cache.get((key, strength))
        if found is None:
            knots = self.fields.get(key, self.pooled)
            found = min(MACHINE_CEILING, round(interpolate(knots, strength), 3))
            # Keys are field keys and rule strengths, a few hundred at most; bounded all the same.
            if len(self._cache) < 4096:
                self._cache[(key, strength)] = found
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "pooled": [list(k) for k in self.pooled],
            "fields": {key: [list(k) for k in knots] for key, knots in sorted(self.fields.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        def knots(raw: Any) -> Knots:
            return tuple((float(x), float(y)) for x, y in raw)

        return cls(
            pooled=knots(data.get("pooled", [])),
            fields={str(k): knots(v) for k, v in data.get("fields", {}).items()},
        )


def fit(samples: Iterable[tuple[str, float, bool]], weight: float = PRIOR) -> Calibration:
    """The calibration learned from ``(field key, rule strength, right?)`` samples.

    A strength of 0 is a field the machine did not propose (a missed item): left out, it stays
    at 0."""
    pooled_cells: Cells = defaultdict(lambda: [0, 0])
    field_cells: dict[str, Cells] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for key, strength, right in samples:
        if strength <= 0:
            continue
        for cell in (pooled_cells[strength], field_cells[key][strength]):
            cell[0] += bool(right)
            cell[1] += 1
    pooled = _smoothed_curve(pooled_cells, lambda x: x, weight)
    fields = {
        key: _smoothed_curve(cells, functools.partial(interpolate, pooled), weight)
        for key, cells in field_cells.items()
    }
    return Calibration(pooled=_rounded(pooled), fields={k: _rounded(v) for k, v in fields.items()})


def _rounded(knots: Knots) -> Knots:
    # Four places: the data file stays readable and reproducible to the byte.
    return tuple((round(x, 3), round(y, 4)) for x, y in knots)


def load(path: Path) -> Calibration:
    """The calibration in ``path`` (written by `scripts/make_calibration.py`)."""
    return Calibration.from_dict(json.loads(path.read_text(encoding="utf-8")))


@functools.cache
def default_calibration() -> Calibration:
    """The shipped calibration (package data: a missing file is a broken install and raises)."""
    return load(DATA_PATH)


def calibrated(proposal: Proposal, calibration: Calibration | None = None) -> Proposal:
    """``proposal`` with calibrated confidences: as it is when already calibrated, else a copy
    with every field's rule strength mapped (a proposal or draft stored before calibration
    existed, whose raw strengths would all fall under the flag)."""
    if proposal.calibrated:
        return proposal
    table = calibration or default_calibration()
    fields = {
        path: field_.model_copy(
            update={"confidence": table.confidence(field_key(path), field_.confidence)}
        )
        for path, field_ in proposal.fields.items()
    }
    return proposal.model_copy(update={"fields": fields, "calibrated": True})
