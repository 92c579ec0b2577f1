"""Agreement between annotators, and between the machine and gold, field by field.

Records are compared as flat ``{field path: value}`` maps (`core.models.flatten`), so a machine
proposal that would not validate as a record can still be scored.  Items are matched across
versions first (`align_items`); an item only one side has counts against exact match and F1 but
cannot enter a kappa, which needs a pair of labels.

Measures, per field (items' fields pooled as ``items.decision`` and so on):

- exact match: the share of units (letters, or matched items) where both values are equal;
- Cohen's kappa for the categorical fields, two raters (``None`` is a label of its own: "the
  letter does not say" is an answer annotators can disagree on);
- Krippendorff's alpha (nominal, the `krippendorff` package) for the categorical fields over all
  annotators when there are more than two;
- Gwet's AC1 for the categorical fields, for every comparison: IMR decisions are heavily skewed
  (most are upheld), and there kappa is small even at high agreement (kappa's paradox) while AC1
  is not;
- F1: for list fields micro-averaged over elements, for text fields the mean token F1.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from imrgold.core.alignment import Pairs
from imrgold.core.alignment import align_items as _align
from imrgold.core.models import (
    ITEM_FIELDS,
    LETTER_FIELDS,
    GoldRecord,
    Proposal,
    flat_values,
    flatten,
    is_list_field,
    item_path,
    n_items_of,
    split_item_path,
)

Flat = Mapping[str, Any]
Kind = Literal["categorical", "list", "text", "value"]

CATEGORICAL_FIELDS = frozenset({"priority", "patient.sex", "items.decision", "items.category"})
TEXT_FIELDS = frozenset(
    {
        f"items.{n}"
        for n in (
            "request",
            "strength",
            "form",
            "amount",
            "quantity",
            "route",
            "frequency",
            "rationale",
        )
    }
    | {"case_number"}
)
FIELD_KEYS: tuple[str, ...] = LETTER_FIELDS + tuple(f"items.{n}" for n in ITEM_FIELDS)
ITEM_MATCH_THRESHOLD = 60.0


def field_key(path: str) -> str:
    """``items.3.drugs`` -> ``items.drugs``; letter paths unchanged."""
    split = split_item_path(path)
    return f"items.{split[1]}" if split else path


@functools.lru_cache(maxsize=1024)
def kind_of(key: str) -> Kind:
    if key in CATEGORICAL_FIELDS:
        return "categorical"
    if is_list_field(key.replace("items.", "items.0.")):
        return "list"
    if key in TEXT_FIELDS:
        return "text"
    return "value"


def flat_of(source: GoldRecord | Proposal | Flat) -> dict[str, Any]:
    if isinstance(source, GoldRecord):
        return flatten(source)
    if isinstance(source, Proposal):
        return flat_values({p: f.value for p, f in source.fields.items()})
    return dict(source)


# ---------------------------------------------------------------------------------------------
# Coefficients


def _label(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, list) else value


def cohen_kappa(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    """Cohen's kappa of two raters' labels; None when undefined (no pairs, or chance agreement
    is certain because both raters used one and the same label throughout)."""
    a = Counter(_label(x) for x, _ in pairs)
    b = Counter(_label(y) for _, y in pairs)
    return _kappa(a, b, sum(_label(x) == _label(y) for x, y in pairs), len(pairs))


def _kappa(a: Counter[Hashable], b: Counter[Hashable], agreed: int, n: int) -> float | None:
    """Kappa from each rater's label counts and how many of the ``n`` pairs agree."""
    if n == 0:
        return None
    observed = agreed / n
    expected = sum(a[k] * b.get(k, 0) for k in a) / (n * n)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(units: Sequence[Mapping[str, Any]], raters: Sequence[str]) -> float | None:
    """Nominal Krippendorff's alpha; ``units`` map rater -> label (a missing rater is missing
    data, a ``None`` value is the label "not stated")."""
    import krippendorff
    import numpy as np

    codes: dict[Hashable, int] = {}
    matrix = np.full((len(raters), len(units)), np.nan)
    for j, unit in enumerate(units):
        for i, rater in enumerate(raters):
            if rater in unit:
                matrix[i, j] = codes.setdefault(_label(unit[rater]), len(codes))
    pairable = sum(int((~np.isnan(matrix[:, j])).sum() >= 2) for j in range(len(units)))
    if len(codes) < 2 or pairable == 0:
        return None
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def gwet_ac1(units: Sequence[Mapping[str, Any]]) -> float | None:
    """Gwet's AC1 (nominal) over ``units`` mapping rater -> label, any number of raters, missing
    ratings allowed (Gwet 2014, Handbook of Inter-Rater Reliability, ch. 4): observed agreement
    over the units two or more raters labelled, chance agreement from the labels' prevalence.
    None when undefined (no unit with two ratings, or a single label used throughout)."""
    ac1 = _Ac1()
    for unit in units:
        ac1.add(unit)
    return ac1.value()


@functools.lru_cache(maxsize=4096)
def _tally(labels: tuple[Hashable, ...]) -> tuple[Counter[Hashable], int, float]:
    """A unit's labels counted, their number, and the share of its rater pairs that agree.

    Cached: a field's units repeat a handful of label combinations thousands of times, and a
    Counter a unit was most of AC1's cost at 10,000 letters.  The callers only read them.
    """
    counts = Counter(labels)
    total = counts.total()
    agree = sum(n * (n - 1) for n in counts.values()) / (total * (total - 1)) if total >= 2 else 0.0
    return counts, total, agree


def _norm_text(value: Any) -> str:
    if value is None:
        return ""
    return _norm_str(value) if isinstance(value, str) else _norm_str(str(value))


# The same request, rationale or drug is normalised once per comparison it enters, and
# rationales are long: cached, agreement at 10,000 letters normalises each text once.
@functools.lru_cache(maxsize=8192)
def _norm_str(text: str) -> str:
    return " ".join(text.split()).lower()


def token_f1(a: Any, b: Any) -> float:
    """Token-overlap F1 of two strings (SQuAD style); two empty values agree."""
    if a == b and (a is None or type(a) is str):
        return 1.0  # the usual case: nothing to normalise
    na, nb = _norm_text(a), _norm_text(b)
    if na == nb:  # the usual case, and tokenising whole rationales is the slow part
        return 1.0
    ta, tb = re.findall(r"\w+", na), re.findall(r"\w+", nb)
    if not ta and not tb:
        return 1.0
    common = sum((Counter(ta) & Counter(tb)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(tb), common / len(ta)
    return 2 * precision * recall / (precision + recall)


def same_value(a: Any, b: Any, kind: Kind) -> bool:
    if a == b and (a is None or type(a) is str or (type(a) is list and _strings(a))):
        return True  # the usual case, and normalising would be the whole cost
    if kind == "text":
        return _norm_text(a) == _norm_text(b)
    if kind == "list":
        return [_norm_text(v) for v in a or []] == [_norm_text(v) for v in b or []]
    return a == b


def _strings(values: list[Any]) -> bool:
    # A plain loop: three times as fast as all() over a generator, on every list unit.
    for value in values:  # noqa: SIM110
        if type(value) is not str:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Item alignment


def align_items(a: Sequence[str], b: Sequence[str]) -> Pairs:
    """Match two annotators' items: by position when the counts agree (items are in letter
    order and one side may have corrected the request text), else by request similarity."""
    return _align(a, b, threshold=ITEM_MATCH_THRESHOLD, by_position_if_same_count=True)


def _requests(flat: Flat) -> list[str]:
    n = n_items_of(flat)
    return [flat.get(item_path(i, "request")) or "" for i in range(n)]


def units(versions: Mapping[str, Flat]) -> dict[str, list[dict[str, Any]]]:
    """Per field key, the units to compare: ``[{rater: value}]``.

    Items are aligned to the rater with most items (ties: first by name); a rater without a
    matching item is absent from that unit.
    """
    raters = sorted(versions)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in FIELD_KEYS}
    if not raters:
        return out
    for key in LETTER_FIELDS:
        out[key].append(
            {r: versions[r].get(key, [] if is_list_field(key) else None) for r in raters}
        )
    requests = {r: _requests(versions[r]) for r in raters}
    reference = max(raters, key=lambda r: (len(requests[r]), -raters.index(r)))
    slots: list[dict[str, int]] = [{reference: i} for i in range(len(requests[reference]))]
    for rater in raters:
        if rater == reference:
            continue
        for i, j in align_items(requests[reference], requests[rater]):
            if j is None:
                continue
            if i is None:
                slots.append({rater: j})
            else:
                slots[i][rater] = j
    for slot in slots:
        for name in ITEM_FIELDS:
            default: list[str] | None = [] if name in ("drugs", "guidelines") else None
            out[f"items.{name}"].append(
                {r: versions[r].get(item_path(j, name), default) for r, j in slot.items()}
            )
    return out


def pair_units(a: str, b: str, flat_a: Flat, flat_b: Flat) -> Iterator[tuple[str, Any, Any, bool]]:
    """`units` of two raters ``a`` and ``b``, one unit at a time: ``(field key, a's value, b's
    value, whether both have it)`` in the order `units` lists them (a rater absent from a unit
    gives None), without building a dict per unit (`pair_fields` gives them a field at a time)."""
    for key, rows in pair_fields(a, b, flat_a, flat_b):
        for value_a, value_b, paired in rows:
            yield key, value_a, value_b, paired


def pair_fields(
    a: str, b: str, flat_a: Flat, flat_b: Flat
) -> Iterator[tuple[str, list[tuple[Any, Any, bool]]]]:
    """`units` of two raters a field at a time, each field key with its units as ``(a's value,
    b's value, whether both have it)``: scoring every letter against gold at 10,000 letters
    spent most of its time on a dict a unit."""
    for key in LETTER_FIELDS:
        empty: list[str] | None = [] if is_list_field(key) else None
        yield key, [(flat_a.get(key, empty), flat_b.get(key, empty), True)]
    requests_a, requests_b = _requests(flat_a), _requests(flat_b)
    # The reference is the rater with most items, ties: first by name (as in `units`).
    if len(requests_a) > len(requests_b) or (len(requests_a) == len(requests_b) and a <= b):
        slots = _slots_against(requests_a, requests_b)
    else:
        slots = [(i, j) for j, i in _slots_against(requests_b, requests_a)]
    yield from _item_fields(flat_a, flat_b, slots)


def _slots_against(reference: list[str], other: list[str]) -> list[tuple[int | None, int | None]]:
    """``(reference's item, other's item)`` for each unit, as `units` aligns them: every item
    of the reference in order, then the other's items it has no match for."""
    slots: list[tuple[int | None, int | None]] = [(i, None) for i in range(len(reference))]
    for i, j in align_items(reference, other):
        if j is not None:
            if i is None:
                slots.append((None, j))
            else:
                slots[i] = (i, j)
    return slots


def _item_fields(
    flat_a: Flat, flat_b: Flat, slots: list[tuple[int | None, int | None]]
) -> Iterator[tuple[str, list[tuple[Any, Any, bool]]]]:
    prefixes = [
        (
            None if i is None else f"items.{i}.",
            None if j is None else f"items.{j}.",
            i is not None and j is not None,
        )
        for i, j in slots
    ]
    for name in ITEM_FIELDS:
        default: list[str] | None = [] if name in ("drugs", "guidelines") else None
        yield (
            f"items.{name}",
            [
                (
                    None if at_a is None else flat_a.get(at_a + name, default),
                    None if at_b is None else flat_b.get(at_b + name, default),
                    paired,
                )
                for at_a, at_b, paired in prefixes
            ],
        )


# ---------------------------------------------------------------------------------------------
# Reports


@dataclass
class FieldAgreement:
    field: str
    kind: Kind
    n: int = 0
    exact: float | None = None
    kappa: float | None = None
    alpha: float | None = None
    ac1: float | None = None
    f1: float | None = None


@dataclass
class Comparison:
    """One comparison: two raters (``a`` vs ``b``), or all raters (``b`` is None)."""

    name: str
    a: str
    b: str | None
    letters: int
    fields: list[FieldAgreement] = field(default_factory=list)

    def get(self, key: str) -> FieldAgreement:
        return next(f for f in self.fields if f.field == key)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Ac1:
    """Gwet's AC1 (`gwet_ac1`) gathered a unit at a time: only counts and sums are kept, in
    the order `gwet_ac1` adds them, so the figure is the same to the last bit."""

    def __init__(self) -> None:
        self.labels: set[Hashable] = set()
        self.units = 0
        self.agree: list[float] = []
        self.prevalence: dict[Hashable, float] = {}

    def add(self, unit: Mapping[str, Any]) -> None:
        if unit:
            self.add_labels(tuple(_label(v) for v in unit.values()))

    def add_labels(self, labels: tuple[Hashable, ...]) -> None:
        """`add` a unit given as its raters' labels (`_label` of each value), in order."""
        counts, total, agree = _tally(labels)
        self.units += 1
        for label in counts:
            self.labels.add(label)
            self.prevalence[label] = self.prevalence.get(label, 0) + counts[label] / total
        if total >= 2:
            self.agree.append(agree)

    def value(self) -> float | None:
        if len(self.labels) < 2 or not self.agree:
            return None
        observed = sum(self.agree) / len(self.agree)
        prevalence = {label: self.prevalence[label] / self.units for label in self.labels}
        chance = sum(p * (1 - p) for p in prevalence.values()) / (len(self.labels) - 1)
        return (observed - chance) / (1 - chance)


class _PairField:
    """One field of a two-rater comparison, gathered a unit at a time (memory stays flat
    however many letters): a unit only one side has (the other value None) is a disagreement
    for exact match and F1 and is left out of kappa."""

    def __init__(self, key: str) -> None:
        self.key, self.kind = key, kind_of(key)
        self.n = self.same = self.pairs = self.observed = 0
        self.a: Counter[Hashable] = Counter()
        self.b: Counter[Hashable] = Counter()
        self.ac1 = _Ac1()
        self.tp = self.fp = self.fn = 0
        self.f1_sum: float = 0

    def add_all(self, units: Iterable[tuple[Any, Any, bool]]) -> None:
        """Add each ``(a, b, paired)`` unit, in order (every sum taken in that order), with the
        counts held in locals: a field's units of a letter come together, and attribute
        lookups a unit were half the cost."""
        kind = self.kind
        n = pairs = same = observed = tp = fp = fn = 0
        f1_sum = self.f1_sum
        count_a, count_b, ac1 = self.a, self.b, self.ac1
        for a, b, paired in units:
            n += 1
            if paired:
                pairs += 1
                same += same_value(a, b, kind)
                if kind == "categorical":
                    la, lb = _label(a), _label(b)
                    count_a[la] += 1
                    count_b[lb] += 1
                    observed += la == lb
                    ac1.add_labels((la, lb))
                elif kind == "text":
                    f1_sum += token_f1(a, b)
            if kind == "list":
                sa = {_norm_text(v) for v in a or []}
                # Equal lists of strings (the usual case) normalise alike: once is enough.
                sb = (
                    sa
                    if a == b and type(a) is list and _strings(a)
                    else {_norm_text(v) for v in b or []}
                )
                tp, fp, fn = tp + len(sa & sb), fp + len(sb - sa), fn + len(sa - sb)
        self.n += n
        self.pairs += pairs
        self.same += same
        self.observed += observed
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + fp, self.fn + fn
        self.f1_sum = f1_sum

    def result(self) -> FieldAgreement:
        result = FieldAgreement(self.key, self.kind, self.n)
        if self.n == 0:
            return result
        result.exact = self.same / self.n
        if self.kind == "categorical":
            result.kappa = _kappa(self.a, self.b, self.observed, self.pairs)
            result.ac1 = self.ac1.value()
        elif self.kind == "list":
            total = self.tp + self.fp + self.fn
            result.f1 = 1.0 if total == 0 else 2 * self.tp / (2 * self.tp + self.fp + self.fn)
        elif self.kind == "text":
            result.f1 = self.f1_sum / self.n
        return result


class _Pair:
    """Rater ``a`` against rater ``b``, a letter at a time."""

    def __init__(self, a: str, b: str, name: str | None = None) -> None:
        self.a, self.b, self.name = a, b, name or f"{a} vs {b}"
        self.letters = 0
        self.fields = {key: _PairField(key) for key in FIELD_KEYS}

    def add(self, versions: Mapping[str, Flat]) -> None:
        a, b = self.a, self.b
        if a not in versions or b not in versions:
            return
        self.letters += 1
        fields = self.fields
        for key, rows in pair_fields(a, b, versions[a], versions[b]):
            fields[key].add_all(rows)

    def comparison(self) -> Comparison:
        fields = [self.fields[key].result() for key in FIELD_KEYS]
        return Comparison(self.name, self.a, self.b, self.letters, fields)


class _All:
    """Krippendorff's alpha (and AC1, exact match) over every rater, a letter at a time; only
    the categorical fields' labels are kept (alpha needs them all at once)."""

    def __init__(self, raters: Sequence[str]) -> None:
        self.raters = list(raters)
        self.used = 0
        self.n = dict.fromkeys(FIELD_KEYS, 0)
        self.full = dict.fromkeys(FIELD_KEYS, 0)
        self.same = dict.fromkeys(FIELD_KEYS, 0)
        self.rows: dict[str, list[dict[str, Any]]] = {
            k: [] for k in FIELD_KEYS if kind_of(k) == "categorical"
        }

    def add(self, versions: Mapping[str, Flat]) -> None:
        raters = self.raters
        present = {r: versions[r] for r in raters if r in versions}
        if len(present) < 2:
            return
        self.used += 1
        for key, rows in units(present).items():
            kind = kind_of(key)
            self.n[key] += len(rows)
            if key in self.rows:
                self.rows[key].extend(rows)
            for u in rows:
                if len(u) == len(raters):
                    self.full[key] += 1
                    self.same[key] += all(same_value(u[raters[0]], u[r], kind) for r in raters)

    def comparison(self) -> Comparison:
        fields = []
        for key in FIELD_KEYS:
            kind = kind_of(key)
            result = FieldAgreement(key, kind, self.n[key])
            if self.n[key]:
                if self.full[key]:
                    result.exact = self.same[key] / self.n[key]
                if kind == "categorical":
                    result.alpha = krippendorff_alpha(self.rows[key], self.raters)
                    result.ac1 = gwet_ac1(self.rows[key])
            fields.append(result)
        return Comparison("all annotators", ", ".join(self.raters), None, self.used, fields)


class AgreementBuilder:
    """`agreement_report` a letter at a time, for a store too large to hold: the raters are
    named first, then each letter's versions (and its gold and machine record) are added and
    dropped; only counts, and the categorical fields' labels, are kept."""

    def __init__(self, raters: Iterable[str]) -> None:
        self.raters = sorted(set(raters))
        self.pairs = [_Pair(a, b) for a, b in itertools.combinations(self.raters, 2)]
        self.together = _All(self.raters) if len(self.raters) > 2 else None
        self.machine = _Pair("gold", "machine", "machine vs gold")
        self.machine_letters = 0

    def add_letter(self, versions: Mapping[str, Flat]) -> None:
        for pair in self.pairs:
            pair.add(versions)
        if self.together is not None:
            self.together.add(versions)

    def add_machine(self, gold: Flat, machine: Flat) -> None:
        self.machine_letters += 1
        self.machine.add({"gold": gold, "machine": machine})

    def report(self, with_machine: bool | None = None) -> list[Comparison]:
        """The comparisons; machine vs gold when ``with_machine`` (default: when any letter
        had both)."""
        out = [c for p in self.pairs if (c := p.comparison()).letters]
        if self.together is not None:
            out.append(self.together.comparison())
        if self.machine_letters if with_machine is None else with_machine:
            out.append(self.machine.comparison())
        return out


def agreement_report(
    letters: Mapping[str, Mapping[str, Flat]],
    machine: Mapping[str, Flat] | None = None,
    gold: Mapping[str, Flat] | None = None,
) -> list[Comparison]:
    """Every annotator pair, all annotators together when more than two, and machine vs gold.

    ``letters`` maps letter id -> {annotator: flat record}; ``machine`` and ``gold`` map letter id
    -> flat record (gold being the final, adjudicated record).
    """
    builder = AgreementBuilder(r for versions in letters.values() for r in versions)
    for versions in letters.values():
        builder.add_letter(versions)
    if machine and gold:
        for lid in gold:
            if lid in machine:
                builder.add_machine(gold[lid], machine[lid])
    return builder.report(with_machine=bool(machine and gold))


def flat_versions(
    versions: Mapping[str, Mapping[str, GoldRecord | Proposal | Flat]],
) -> dict[str, dict[str, dict[str, Any]]]:
    return {lid: {r: flat_of(v) for r, v in by.items()} for lid, by in versions.items()}
