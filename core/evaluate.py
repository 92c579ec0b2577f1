"""The machine's proposals scored against gold records, field by field, with calibration.

Items are aligned by request first (rapidfuzz, best pairs first above a threshold), so a missed
or extra item costs that item's fields, not every item after it.  Per field key (item fields
pooled as ``items.decision`` ...):

- scalar fields: accuracy over units (letters, or items: matched, missed and spurious);
- list fields: micro precision, recall and F1 over elements, plus exact-match accuracy.

Every (confidence, right?) pair also feeds a calibration table: if confidence means something,
accuracy rises with it, and the expected calibration error (ECE) is small.  `held_out` refits
the calibration (`core.calibration`) without each letter in turn and scores it on that letter:
the ECE, the share of fields flagged and the share of the machine's errors flagged, as they would
be on letters the calibration has not seen.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from imrgold.core.alignment import Pairs, normalize_text
from imrgold.core.alignment import align_items as _align
from imrgold.core.calibration import FLAG_BELOW, PRIOR, fit
from imrgold.core.models import (
    ITEM_FIELDS,
    LETTER_FIELDS,
    GoldRecord,
    Proposal,
    flatten,
    is_list_field,
    item_path,
)

ITEM_MATCH_THRESHOLD = 50.0
CALIBRATION_BINS: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0000001)


def align_items(gold: Sequence[str], machine: Sequence[str]) -> Pairs:
    """Pairs (gold index, machine index), best match first even when the counts agree: the
    machine may have split, merged or missed an item, and then position says nothing."""
    return _align(gold, machine, threshold=ITEM_MATCH_THRESHOLD)


def _requests(flat: dict[str, Any], n: int) -> list[str]:
    return [flat.get(item_path(i, "request")) or "" for i in range(n)]


@dataclass
class FieldScore:
    key: str
    kind: str  # "scalar" or "list"
    n: int = 0
    correct: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.n if self.n else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if (self.tp + self.fp) else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if (self.tp + self.fn) else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if (p + r) else 0.0

    def add(self, gold: Any, machine: Any, unmatched: bool = False) -> bool:
        self.n += 1
        if self.kind == "list":
            g = {normalize_text(v) for v in gold or []}
            m = {normalize_text(v) for v in machine or []}
            self.tp += len(g & m)
            self.fp += len(m - g)
            self.fn += len(g - m)
            right = g == m and not unmatched
        else:
            right = _same(gold, machine) and not unmatched
        self.correct += right
        return right

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "field": self.key,
            "kind": self.kind,
            "n": self.n,
            "accuracy": self.accuracy,
        }
        if self.kind == "list":
            out.update(
                precision=self.precision,
                recall=self.recall,
                f1=self.f1,
                tp=self.tp,
                fp=self.fp,
                fn=self.fn,
            )
        return out


def _same(gold: Any, machine: Any) -> bool:
    if isinstance(gold, str) and isinstance(machine, str):
        return " ".join(gold.split()) == " ".join(machine.split())
    return gold == machine


@dataclass
class CalibrationBin:
    low: float
    high: float
    n: int = 0
    confidence_sum: float = 0.0
    correct: int = 0

    @property
    def mean_confidence(self) -> float | None:
        return self.confidence_sum / self.n if self.n else None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.n if self.n else None


@dataclass(frozen=True)
class Sample:
    """One field instance scored: which letter, which field key, the confidence it was proposed
    with (0 for a field of an item the machine missed: nothing on screen to flag), right?"""

    letter_id: str
    key: str
    confidence: float
    right: bool
    proposed: bool = True


@dataclass
class Evaluation:
    fields: dict[str, FieldScore] = field(default_factory=dict)
    bins: list[CalibrationBin] = field(default_factory=list)
    letters: int = 0
    items_gold: int = 0
    items_machine: int = 0
    items_matched: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    def score(self, key: str) -> FieldScore:
        if key not in self.fields:
            self.fields[key] = FieldScore(key, "list" if is_list_field(key) else "scalar")
        return self.fields[key]

    def record(
        self,
        key: str,
        gold: Any,
        machine: Any,
        confidence: float,
        where: str,
        unmatched: bool = False,
        letter_id: str = "",
        proposed: bool = True,
    ) -> None:
        """One field instance; a missed or spurious item's fields are all wrong (``unmatched``)."""
        right = self.score(key).add(gold, machine, unmatched)
        self.bin(confidence, right)
        self.samples.append(Sample(letter_id, key, confidence, right, proposed))
        if not right:
            self.errors.append(
                {
                    "where": where,
                    "field": key,
                    "gold": gold,
                    "machine": machine,
                    "confidence": confidence,
                }
            )

    def bin(self, confidence: float, right: bool) -> None:
        for b in self.bins:
            if b.low <= confidence < b.high:
                b.n += 1
                b.confidence_sum += confidence
                b.correct += right
                break

    @property
    def overall_accuracy(self) -> float | None:
        n = sum(f.n for f in self.fields.values())
        return sum(f.correct for f in self.fields.values()) / n if n else None

    @property
    def overall_list(self) -> FieldScore:
        total = FieldScore("lists", "list")
        for f in self.fields.values():
            if f.kind == "list":
                total.n += f.n
                total.correct += f.correct
                total.tp += f.tp
                total.fp += f.fp
                total.fn += f.fn
        return total

    @property
    def ece(self) -> float | None:
        """Expected calibration error: |accuracy - confidence| averaged over bins by weight."""
        n = sum(b.n for b in self.bins)
        if not n:
            return None
        return sum(b.n * abs((b.accuracy or 0) - (b.mean_confidence or 0)) for b in self.bins) / n

    def to_dict(self) -> dict[str, Any]:
        lists = self.overall_list
        return {
            "letters": self.letters,
            "items": {
                "gold": self.items_gold,
                "machine": self.items_machine,
                "matched": self.items_matched,
            },
            "overall": {
                "accuracy": self.overall_accuracy,
                "list_precision": lists.precision,
                "list_recall": lists.recall,
                "list_f1": lists.f1,
            },
            "fields": [f.to_dict() for f in self.fields.values()],
            "calibration": [
                {**asdict(b), "mean_confidence": b.mean_confidence, "accuracy": b.accuracy}
                for b in self.bins
            ],
            "ece": self.ece,
            "errors": self.errors,
        }


def _new_evaluation() -> Evaluation:
    ev = Evaluation(
        bins=[CalibrationBin(lo, hi) for lo, hi in itertools.pairwise(CALIBRATION_BINS)]
    )
    for key in LETTER_FIELDS:
        ev.score(key)
    for name in ITEM_FIELDS:
        ev.score(f"items.{name}")
    return ev


def evaluate(
    pairs: Iterable[tuple[GoldRecord, Proposal]],
    name_of: dict[str, str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> Evaluation:
    """Score each proposal against its gold record (field keys in ``skip`` left out)."""
    ev = _new_evaluation()
    for key in skip:
        ev.fields.pop(key, None)
    names = name_of or {}
    for gold, proposal in pairs:
        ev.letters += 1
        where = names.get(gold.letter_id, gold.letter_id[:12])
        g = flatten(gold)
        m = {p: proposal.get(p) for p in proposal.paths()}
        for key in LETTER_FIELDS:
            if key in skip:
                continue
            got = m.get(key)
            ev.record(
                key,
                g[key],
                got.value if got else None,
                got.confidence if got else 0.0,
                where,
                letter_id=gold.letter_id,
                proposed=got is not None,
            )
        n_gold, n_machine = len(gold.items), proposal.n_items
        ev.items_gold += n_gold
        ev.items_machine += n_machine
        values = {p: f.value for p, f in m.items()}
        for gi, mi in align_items(_requests(g, n_gold), _requests(values, n_machine)):
            if gi is not None and mi is not None:
                ev.items_matched += 1
            for name in ITEM_FIELDS:
                if f"items.{name}" in skip:
                    continue
                gold_value = g[item_path(gi, name)] if gi is not None else _absent(name)
                got = m.get(item_path(mi, name)) if mi is not None else None
                value = got.value if got is not None else _absent(name)
                confidence = got.confidence if got is not None else 0.0
                label = f"{where} item {_index(gi)}/{_index(mi)}"
                ev.record(
                    f"items.{name}",
                    gold_value,
                    value,
                    confidence,
                    label,
                    unmatched=gi is None or mi is None,
                    letter_id=gold.letter_id,
                    proposed=got is not None,
                )
    return ev


@dataclass
class Flagging:
    """How confidences serve as flags over some samples: their calibration table and ECE, the
    share of the machine's fields flagged and the share of its errors among them."""

    evaluation: Evaluation
    folds: int = 0  # letters left out in turn (`held_out`); 0 for confidences as they are
    fields: int = 0  # fields the machine proposed (a missed item's are not on screen)
    flagged: int = 0
    errors: int = 0
    errors_flagged: int = 0

    @property
    def ece(self) -> float | None:
        return self.evaluation.ece

    @property
    def flag_share(self) -> float | None:
        """The share of the machine's fields flagged for a look."""
        return self.flagged / self.fields if self.fields else None

    @property
    def flag_recall(self) -> float | None:
        """The share of the machine's errors that are among the flagged fields."""
        return self.errors_flagged / self.errors if self.errors else None

    def add(self, sample: Sample) -> None:
        self.evaluation.bin(sample.confidence, sample.right)
        flagged = sample.proposed and sample.confidence < FLAG_BELOW
        self.fields += sample.proposed
        self.flagged += flagged
        self.errors += not sample.right
        self.errors_flagged += flagged and not sample.right

    def to_dict(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "fields": self.fields,
            "ece": self.ece,
            "flag_below": FLAG_BELOW,
            "flag_share": self.flag_share,
            "flag_recall": self.flag_recall,
            "errors": self.errors,
            "errors_flagged": self.errors_flagged,
        }


def flagging(samples: Iterable[Sample]) -> Flagging:
    """``samples`` at the confidences they were proposed with."""
    result = Flagging(_new_evaluation())
    for s in samples:
        result.add(s)
    return result


def held_out(
    samples: Sequence[Sample], group_of: dict[str, str] | None = None, weight: float = PRIOR
) -> Flagging:
    """Leave one letter out: the calibration fitted on every other letter's ``samples`` (taken
    at the rules' own strengths), applied to that letter's.  ``group_of`` maps a letter id to
    its letter (a text copy and the PDF of one case are one letter: left out together)."""
    groups = group_of or {}
    by_group: dict[str, list[Sample]] = {}
    for s in samples:
        by_group.setdefault(groups.get(s.letter_id, s.letter_id), []).append(s)
    result = Flagging(_new_evaluation(), folds=len(by_group))
    for name, test in by_group.items():
        train = (
            (s.key, s.confidence, s.right) for g, ss in by_group.items() if g != name for s in ss
        )
        calibration = fit(train, weight)
        for s in test:
            confidence = calibration.confidence(s.key, s.confidence) if s.proposed else 0.0
            result.add(replace(s, confidence=confidence))
    return result


def _absent(name: str) -> list[str] | None:
    return [] if is_list_field(name) else None


def _index(i: int | None) -> str:
    return "-" if i is None else str(i)
