import pytest

from imrgold.core import agreement
from imrgold.core.agreement import (
    agreement_report,
    align_items,
    cohen_kappa,
    flat_versions,
    krippendorff_alpha,
    token_f1,
)
from imrgold.core.models import DisputedItem, GoldRecord


def _rec(i, priority=None, sex=None, decisions=(), drugs=None, requests=None):
    items = [
        DisputedItem(
            request=(requests[k] if requests else f"Item {k} of letter {i}"),
            decision=d,
            drugs=(drugs[k] if drugs else []),
        )
        for k, d in enumerate(decisions)
    ]
    return GoldRecord(letter_id=f"{i:064x}", priority=priority, patient={"sex": sex}, items=items)


def test_cohen_kappa_hand_computed():
    # po = 4/5; marginals u: 3/5 vs 2/5, o: 2/5 vs 3/5; pe = .24 + .24 = .48; k = .32/.52 = 8/13.
    pairs = list(zip("uuoou", "uooou", strict=True))
    assert cohen_kappa(pairs) == pytest.approx(8 / 13)
    assert cohen_kappa([("u", "u"), ("o", "o")]) == pytest.approx(1.0)
    assert cohen_kappa([("u", "o"), ("o", "u")]) == pytest.approx(-1.0)
    assert cohen_kappa([("u", "u"), ("u", "u")]) is None  # chance agreement certain: undefined
    assert cohen_kappa([]) is None


def test_krippendorff_alpha_hand_computed():
    # Coincidences: o_uu=4, o_uo=o_ou=1, o_oo=6; n_u=5, n_o=7, n=12.
    # alpha = 1 - (n-1) * 2 / (2 * 5 * 7) = 1 - 22/70 = 48/70.
    units = [
        {"a": "u", "b": "u", "c": "u"},
        {"a": "u", "b": "u", "c": "o"},
        {"a": "o", "b": "o", "c": "o"},
        {"a": "o", "b": "o", "c": "o"},
    ]
    assert krippendorff_alpha(units, ["a", "b", "c"]) == pytest.approx(48 / 70)
    # A rater missing from a unit is missing data, not a disagreement.
    units[1] = {"a": "u", "b": "u"}
    assert krippendorff_alpha(units, ["a", "b", "c"]) == pytest.approx(1.0)


def test_token_f1():
    assert token_f1("apply thin layer", "Apply  thin layer") == 1.0
    # common 2 (thin, layer); p = 2/2, r = 2/3 -> 0.8
    assert token_f1("apply thin layer", "thin layer") == pytest.approx(0.8)
    assert token_f1(None, "") == 1.0 and token_f1("x", None) == 0.0


def test_align_items_by_position_then_by_request():
    assert align_items(["a", "b"], ["c", "d"]) == [(0, 0), (1, 1)]
    pairs = align_items(
        ["Norco 10/325 #90", "Physical therapy x8", "MRI lumbar spine"],
        ["MRI of the lumbar spine", "Norco 10/325mg #90"],
    )
    assert (0, 1) in pairs and (2, 0) in pairs and (1, None) in pairs


def test_two_annotator_report_hand_computed():
    alice = [
        _rec(1, "standard", "male", ["upheld"], [["baclofen", "lidocaine"]]),
        _rec(2, "standard", "female", ["upheld"], [["tramadol"]]),
        _rec(3, "expedited", "male", ["overturned"], [[]]),
        _rec(4, "standard", "female", ["overturned"], [[]]),
        _rec(5, None, None, ["upheld"], [["capsaicin"]]),
    ]
    bob = [
        _rec(1, "standard", "male", ["upheld"], [["baclofen"]]),
        _rec(2, "expedited", "female", ["overturned"], [["tramadol"]]),
        _rec(3, "expedited", "male", ["overturned"], [[]]),
        _rec(4, "standard", "female", ["overturned"], [[]]),
        _rec(5, None, None, ["upheld"], [["menthol"]]),
    ]
    letters = flat_versions(
        {a.letter_id: {"alice": a, "bob": b} for a, b in zip(alice, bob, strict=True)}
    )
    [pair] = agreement_report(letters)
    assert pair.name == "alice vs bob" and pair.letters == 5
    # priority: po = .8; a = {std 3, exp 1, None 1}, b = {std 2, exp 2, None 1};
    # pe = (6 + 2 + 1) / 25 = .36; kappa = .44 / .64 = .6875
    assert pair.get("priority").kappa == pytest.approx(0.6875)
    assert pair.get("priority").exact == pytest.approx(0.8)
    assert pair.get("items.decision").kappa == pytest.approx(8 / 13)
    assert pair.get("patient.sex").kappa == pytest.approx(1.0)
    # drugs: tp = baclofen, tramadol = 2; fn = lidocaine, capsaicin = 2; fp = menthol = 1
    # F1 = 2*2 / (2*2 + 1 + 2) = 4/7; exact = 3/5 (letters 2, 3, 4)
    assert pair.get("items.drugs").f1 == pytest.approx(4 / 7)
    assert pair.get("items.drugs").exact == pytest.approx(3 / 5)
    assert pair.get("items.request").f1 == pytest.approx(1.0)


def test_unmatched_items_count_against_exact_and_f1_but_not_kappa():
    a = _rec(
        1,
        decisions=["upheld", "upheld"],
        requests=["Norco #90", "MRI lumbar spine"],
        drugs=[["acetaminophen", "hydrocodone"], []],
    )
    b = _rec(
        1, decisions=["upheld"], requests=["Norco #90"], drugs=[["acetaminophen", "hydrocodone"]]
    )
    [pair] = agreement_report(flat_versions({a.letter_id: {"a": a, "b": b}}))
    decision = pair.get("items.decision")
    assert decision.n == 2 and decision.exact == pytest.approx(0.5)
    assert decision.kappa is None  # one pair, one label: undefined
    assert pair.get("items.request").f1 == pytest.approx(0.5)


def test_three_annotators_add_alpha_and_machine_vs_gold():
    decisions = {"a": "uuoo", "b": "uuoo", "c": "uooo"}
    names = {"u": "upheld", "o": "overturned"}
    letters = {
        f"{i:064x}": {r: _rec(i, decisions=[names[d[i]]]) for r, d in decisions.items()}
        for i in range(4)
    }
    flat = flat_versions(letters)
    machine = {lid: flat[lid]["c"] for lid in flat}
    gold = {lid: flat[lid]["a"] for lid in flat}
    report = agreement_report(flat, machine=machine, gold=gold)
    assert [c.name for c in report] == [
        "a vs b",
        "a vs c",
        "b vs c",
        "all annotators",
        "machine vs gold",
    ]
    everyone = report[3]
    # units u,u,u / u,u,o / o,o,o / o,o,o: the hand-computed 48/70 of the test above
    assert everyone.get("items.decision").alpha == pytest.approx(48 / 70)
    assert everyone.get("items.decision").exact == pytest.approx(3 / 4)
    # a vs c: po = 3/4, pe = (2*1 + 2*3)/16 = .5, kappa = .5
    assert report[1].get("items.decision").kappa == pytest.approx(0.5)
    assert report[4].get("items.decision").kappa == pytest.approx(0.5)


def test_kinds():
    assert agreement.kind_of("items.decision") == "categorical"
    assert agreement.kind_of("items.drugs") == "list"
    assert agreement.kind_of("reviewer.licensure") == "list"
    assert agreement.kind_of("items.rationale") == "text"
    assert agreement.kind_of("date_assigned") == "value"


def _irrcac_ac1(units, raters):
    import numpy as np
    import pandas as pd
    from irrCAC.raw import CAC

    frame = pd.DataFrame([{r: unit.get(r, np.nan) for r in raters} for unit in units])
    return CAC(frame).gwet()["est"]["coefficient_value"]


@pytest.mark.parametrize("seed", range(12))
def test_gwet_ac1_equals_irrcac_with_missing_ratings_and_skewed_labels(seed):
    import random

    from imrgold.core.agreement import gwet_ac1

    rng = random.Random(seed)
    raters = ["a", "b", "c", "d"][: rng.randint(2, 4)]
    labels = ["upheld", "overturned", "none"][: rng.randint(2, 3)]
    weights = [0.9, 0.08, 0.02][: len(labels)]  # IMR decisions are mostly upheld
    units = []
    for _ in range(rng.randint(5, 60)):
        unit = {r: rng.choices(labels, weights)[0] for r in raters if rng.random() > 0.2}
        units.append(unit)
    ours = gwet_ac1(units)
    if ours is None:  # a single label, or no unit rated twice: irrCAC has no value either
        return
    assert ours == pytest.approx(_irrcac_ac1(units, raters), abs=1e-5)  # irrCAC rounds to 5


def test_ac1_stays_high_where_kappa_collapses_on_skewed_decisions():
    """Kappa's paradox: 19 of 20 decisions upheld by both, one disagreement."""
    from imrgold.core.agreement import gwet_ac1

    pairs = [("upheld", "upheld")] * 19 + [("upheld", "overturned")]
    assert cohen_kappa(pairs) == pytest.approx(0.0)
    ac1 = gwet_ac1([{"a": a, "b": b} for a, b in pairs])
    oracle = _irrcac_ac1([{"a": a, "b": b} for a, b in pairs], ["a", "b"])
    assert ac1 == pytest.approx(oracle, abs=1e-5)
    assert ac1 > 0.9
    assert gwet_ac1([{"a": "upheld", "b": "upheld"}]) is None  # one label: undefined
    assert gwet_ac1([{"a": "upheld"}, {"b": "overturned"}]) is None  # nothing rated twice


def test_comparisons_carry_ac1_for_categorical_fields():
    from imrgold.core.agreement import agreement_report

    a = {"priority": "standard", "items.0.request": "x", "items.0.decision": "upheld"}
    b = {"priority": "standard", "items.0.request": "x", "items.0.decision": "overturned"}
    c = {"priority": "expedited", "items.0.request": "x", "items.0.decision": "upheld"}
    report = agreement_report({"L1": {"a": a, "b": b, "c": c}, "L2": {"a": b, "b": b, "c": b}})
    pair = next(r for r in report if r.name == "a vs b")
    assert pair.get("items.decision").ac1 is not None
    assert pair.get("items.request").ac1 is None  # text: F1, no chance-corrected coefficient
    everyone = next(r for r in report if r.b is None)
    assert everyone.get("priority").ac1 is not None
