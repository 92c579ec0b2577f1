"""The fast ways a pass over 10,000 letters scores and writes give what the simple ways give:
`pair_units` what `units` lists for two raters, `same_value`'s shortcut what normalising both
values gives, and the CSV export what `csv.DictWriter` over each item's dump wrote."""

from __future__ import annotations

import csv
import io
import itertools
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imrgold.core import export
from imrgold.core.agreement import FIELD_KEYS, flat_of, kind_of, pair_units, same_value, units
from imrgold.core.models import (
    ITEM_FIELDS,
    LETTER_FIELDS,
    GoldRecord,
    flatten,
    is_list_field,
    item_path,
    split_item_path,
)
from tests.store_helpers import fixture_letters, proposal_for

GOLD = Path(__file__).resolve().parent.parent / "fixtures" / "gold"


@cache
def gold_records() -> tuple[GoldRecord, ...]:
    return tuple(
        GoldRecord.model_validate_json(p.read_text(encoding="utf-8"))
        for p in sorted(GOLD.glob("*.json"))
    )


@cache
def machine_flats() -> dict[str, dict]:
    return {letter.letter_id: flat_of(proposal_for(letter)) for letter in fixture_letters()}


def simple(a: str, b: str, flat_a: dict, flat_b: dict) -> list[tuple]:
    """`pair_units` as `units` states it."""
    return [
        (key, unit.get(a), unit.get(b), a in unit and b in unit)
        for key, rows in units({a: flat_a, b: flat_b}).items()
        for unit in rows
    ]


def by_key(found) -> dict[str, list[tuple]]:
    """Units by field key, in order (each key's units are counted on their own)."""
    out: dict[str, list[tuple]] = {key: [] for key in FIELD_KEYS}
    for key, *rest in found:
        out[key].append(tuple(rest))
    return out


def check_pair(a: str, b: str, flat_a: dict, flat_b: dict) -> None:
    fast = list(pair_units(a, b, flat_a, flat_b))
    assert by_key(fast) == by_key(simple(a, b, flat_a, flat_b))
    # Each key's units in the order `units` lists them, and keys in `units`' order too.
    assert fast == simple(a, b, flat_a, flat_b)


REQUESTS = ["Tramadol 50mg #60", "MRI lumbar spine", "physical therapy x12", "tramadol 50 mg", ""]
values = st.one_of(
    st.none(),
    st.sampled_from(["upheld", "overturned", "x", " X ", "", "1"]),
    st.integers(-2, 3),
    st.floats(allow_nan=False, width=16),
    st.booleans(),
    st.lists(
        st.one_of(st.sampled_from(["a", "A ", "b"]), st.none(), st.integers(0, 2)), max_size=3
    ),
)


@st.composite
def flats(draw) -> dict:
    """A flat map as a record or a proposal gives it, or with paths left out and items
    whose requests are alike, so items are matched by position, by request, or not at all."""
    n = draw(st.integers(0, 3))
    paths = list(LETTER_FIELDS) + [item_path(i, name) for i in range(n) for name in ITEM_FIELDS]
    out = {}
    for path in paths:
        if draw(st.integers(0, 9)) == 0:
            continue  # absent: `units` gives the field's empty value
        split = split_item_path(path)
        if split and split[1] == "request":
            out[path] = draw(st.sampled_from(REQUESTS))
        else:
            out[path] = draw(values)
    return out


raters = st.lists(st.sampled_from(["gold", "machine", "alice", "bob", "a", "zed"]), min_size=2,
                  max_size=2, unique=True)  # fmt: skip


# Two maps of up to three items draw many values: some draws outgrow hypothesis's buffer.
@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(raters, flats(), flats())
def test_pair_units_equals_units_on_random_maps(names, flat_a, flat_b):
    a, b = names
    check_pair(a, b, flat_a, flat_b)
    check_pair(b, a, flat_b, flat_a)


def test_pair_units_equals_units_on_real_records_and_proposals():
    records = gold_records()
    machine = machine_flats()
    checked = 0
    for record in records:
        gold = flatten(record)
        if record.letter_id in machine:
            check_pair("gold", "machine", gold, machine[record.letter_id])
            checked += 1
        # A version with an item dropped, and one with the items reversed: matched by request.
        if record.items:
            fewer = flatten(record.model_copy(update={"items": record.items[1:]}))
            reversed_ = flatten(record.model_copy(update={"items": record.items[::-1]}))
            for other in (fewer, reversed_):
                check_pair("alice", "bob", gold, other)
                check_pair("bob", "alice", gold, other)
    for first, second in itertools.pairwise(records):
        check_pair("alice", "bob", flatten(first), flatten(second))
    assert checked >= 10


def normalised(a, b, kind) -> bool:
    """`same_value` without its shortcut."""
    from imrgold.core.agreement import _norm_text

    if kind == "text":
        return _norm_text(a) == _norm_text(b)
    if kind == "list":
        return [_norm_text(v) for v in a or []] == [_norm_text(v) for v in b or []]
    return a == b


@given(values, values, st.sampled_from(["text", "list", "value", "categorical"]))
def test_same_value_shortcut_changes_nothing(a, b, kind):
    if kind == "list" and not (a is None or isinstance(a, list)):
        a = [a]
    if kind == "list" and not (b is None or isinstance(b, list)):
        b = [b]
    assert same_value(a, b, kind) == normalised(a, b, kind)
    assert same_value(a, a, kind) == normalised(a, a, kind)


def test_same_value_on_every_real_field():
    for record in gold_records():
        gold = flatten(record)
        theirs = machine_flats().get(record.letter_id, {})
        for path, value in gold.items():
            key = path if split_item_path(path) is None else f"items.{split_item_path(path)[1]}"
            default = [] if is_list_field(path) else None
            other = theirs.get(path, default)
            assert same_value(value, other, kind_of(key)) == normalised(value, other, kind_of(key))


def dict_writer_csv(records) -> str:
    """The CSV export as it was written before: `csv.DictWriter`, each item's own dump."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(export.CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for record in records:
        flat = flatten(record)
        letter = {"letter_id": record.letter_id}
        for path, value in flat.items():
            if split_item_path(path) is None:
                letter[path.replace(".", "_")] = export._cell(value)
        if not record.items:
            writer.writerow({**letter, **dict.fromkeys(export.ITEM_COLUMNS)})
        for index, item in enumerate(record.items):
            dumped = item.model_dump(mode="json")
            row = {**letter, "item_index": index}
            row.update({f"item_{n}": export._cell(dumped[n]) for n in ITEM_FIELDS})
            writer.writerow(row)
    return out.getvalue()


def test_csv_export_is_what_dict_writer_wrote():
    records = list(gold_records())
    no_items = records[0].model_copy(update={"items": []})
    odd = records[1].model_copy(
        update={"case_number": 'CM16 "quoted", with a comma\nand a line', "items": records[1].items}
    )
    every = [*records, no_items, odd]
    assert export.csv_text(every) == dict_writer_csv(every)
    assert export.csv_text([]) == dict_writer_csv([])


cells = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from("ab ,\"\n\r\t;'\\é\u2028"), max_size=8),
    st.text(max_size=6),
    st.integers(),
    st.floats(),
    st.booleans(),
)


@given(st.lists(cells, min_size=2, max_size=6))
def test_a_csv_line_is_what_csv_writer_writes(row):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    assert export.csv_line(row) + "\n" == out.getvalue()
