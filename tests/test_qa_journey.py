"""Two annotators, two stores, overlapping letters: merge, agreement against hand-computed
values, adjudication in the interface with the Pilot, and an export that loads back with pandas
holding every value as adjudicated."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from imrgold.cli.main import main
from imrgold.core.extract import extract
from imrgold.core.models import GoldRecord, Proposal, ProposedField, item_path
from imrgold.core.reading import read_letter
from imrgold.store.store import Store
from imrgold.tui.review_app import ReviewApp, plan
from tests.store_helpers import isolate
from tests.test_tui import settle

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"

# Letter-level labels of the four shared letters, chosen so kappa is easy to work by hand.
PRIORITY = {
    "alice": ["standard", "standard", "expedited", "standard"],
    "bob": ["standard", "expedited", "expedited", "standard"],
}
SEX = {"alice": ["male", "female", "male", None], "bob": ["male", "female", "female", None]}


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, "IMRGOLD_ANNOTATOR")


def _letters(n: int):
    chosen = []
    for path in sorted(p for p in LETTERS.iterdir() if p.suffix == ".txt"):
        letter = read_letter(path)
        proposal = extract(letter.text, letter.letter_id)
        # Letters with at least one item, so decisions have something to disagree on.
        if proposal.n_items:
            chosen.append((letter, proposal))
        if len(chosen) == n:
            return chosen
    raise AssertionError(f"fewer than {n} fixture letters with items")


def _with(proposal: Proposal, values: dict) -> Proposal:
    fields = dict(proposal.fields)
    for path, value in values.items():
        fields[path] = ProposedField(value=value, source="human", confidence=1.0, confirmed=True)
    return proposal.model_copy(update={"fields": fields})


def _annotate(path: Path, annotator: str, letters, values_for) -> dict[str, GoldRecord]:
    out = {}
    with Store.open(path, annotator=annotator) as store:
        for index, (letter, proposal) in letters:
            store.add_letter(letter)
            store.put_proposal(proposal)
            out[letter.letter_id] = store.mark_gold(_with(proposal, values_for(index, proposal)))
    return out


def _values(annotator: str):
    def values_for(index: int, proposal: Proposal) -> dict:
        values = {}
        for i in range(proposal.n_items):
            # Everyone upholds everything, except bob overturns the first item of shared letter 2.
            overturn = annotator == "bob" and index == 2 and i == 0
            values[item_path(i, "decision")] = "overturned" if overturn else "upheld"
        if index < 4:
            values["priority"] = PRIORITY[annotator][index]
            values["patient.sex"] = SEX[annotator][index]
        return values

    return values_for


def _plain(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


async def test_two_annotators_merge_agree_adjudicate_export(tmp_path, capsys):
    letters = _letters(6)
    # alice: shared letters 0-3 and letter 4; bob: shared letters 0-3 and letter 5.
    alice_path, bob_path = tmp_path / "alice.json", tmp_path / "bob.json"
    shared = list(enumerate(letters[:4]))
    alice = _annotate(alice_path, "alice", [*shared, (4, letters[4])], _values("alice"))
    bob = _annotate(bob_path, "bob", [*shared, (5, letters[5])], _values("bob"))
    ids = [letter.letter_id for letter, _ in letters]

    # -- merge -------------------------------------------------------------------------------
    assert main(["merge", str(bob_path), "--db", str(alice_path), "--annotator", "alice"]) == 0
    out = capsys.readouterr().out
    assert "1 letter(s) added" in out and "2 letter(s) with differing versions" in out
    with Store.open(alice_path, read_only=True) as store:
        statuses = {lid: store.status(lid) for lid in ids}
        assert set(store.gold_versions(ids[1])) == {"alice", "bob"}
        assert store.gold_versions(ids[1])["bob"] == bob[ids[1]]
    # Letter 0 and 3 agree; 1 differs in priority, 2 in sex and one decision.
    assert [statuses[i] for i in ids] == [
        "gold",
        "adjudication",
        "adjudication",
        "gold",
        "gold",
        "gold",
    ]

    # -- agreement, checked against values worked by hand ----------------------------------
    assert main(["agreement", "--db", str(alice_path), "--json", "--machine", "stored"]) == 0
    report = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    pair = {f["field"]: f for f in report["alice vs bob"]["fields"]}
    assert report["alice vs bob"]["letters"] == 4
    # priority: po = 3/4; alice std 3 exp 1, bob std 2 exp 2; pe = (6 + 2)/16 = 1/2;
    # kappa = (3/4 - 1/2) / (1 - 1/2) = 0.5
    assert pair["priority"]["kappa"] == pytest.approx(0.5)
    assert pair["priority"]["exact"] == pytest.approx(0.75)
    # sex: po = 3/4; alice m2 f1 none1, bob m1 f2 none1; pe = (2 + 2 + 1)/16 = 5/16;
    # kappa = (12/16 - 5/16) / (11/16) = 7/11
    assert pair["patient.sex"]["kappa"] == pytest.approx(7 / 11)
    # decisions: alice upholds all N items, bob overturns one: po = (N-1)/N, pe = (N-1)/N, so 0
    assert pair["items.decision"]["kappa"] == pytest.approx(0.0, abs=1e-12)
    n_items = sum(p.n_items for _, p in letters[:4])
    assert pair["items.decision"]["exact"] == pytest.approx((n_items - 1) / n_items)
    assert pair["case_number"]["exact"] == 1.0
    # Machine vs gold over the letters whose gold is settled (not awaiting adjudication).
    assert report["machine vs gold"]["letters"] == 4

    # -- adjudication in the interface ------------------------------------------------------
    with Store.open(alice_path, annotator="carol") as store:
        tasks = plan(store, "carol", review=False)
        assert [t.letter_id for t in tasks] == [ids[1], ids[2]]
        app = ReviewApp(store, "carol", tasks)
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert [r.path for r in screen.session.rows] == ["priority"]
            await pilot.press("ctrl+s")  # nothing chosen yet: refused
            await settle(pilot)
            assert app.screen is screen
            await pilot.press("2")  # bob's priority
            await pilot.press("ctrl+s")
            await settle(pilot)
            screen = app.screen
            assert screen.session.letter_id == ids[2]
            assert [r.path for r in screen.session.rows] == ["patient.sex", "items.0.decision"]
            await pilot.press("1")  # alice's sex
            await pilot.press("2")  # bob's decision
            await pilot.press("ctrl+s")
            await settle(pilot)
        assert [o[2] for o in app.outcomes] == ["reviewed (adjudicated)"] * 2
        assert store.status(ids[1]) == store.status(ids[2]) == "reviewed"
        assert store.final_annotator(ids[2]) == "carol"
        who = {c.annotator for c in store.history(ids[2])}
        assert {"alice", "bob", "carol"} <= who

    # -- export, loaded back with pandas ------------------------------------------------------
    target = tmp_path / "gold.jsonl"
    assert main(["export", "--db", str(alice_path), "--format", "jsonl", "--out", str(target)]) == 0
    frame = pd.read_json(target, lines=True, dtype=False)
    rows = {
        r["letter_id"]: {k: _plain(v) for k, v in r.items()}
        for r in frame.to_dict(orient="records")
    }
    assert set(rows) == set(ids)
    expected = {
        ids[0]: alice[ids[0]],
        ids[1]: alice[ids[1]].model_copy(update={"priority": bob[ids[1]].priority}),
        ids[2]: alice[ids[2]].model_copy(update={"items": bob[ids[2]].items}),
        ids[3]: alice[ids[3]],
        ids[4]: alice[ids[4]],
        ids[5]: bob[ids[5]],
    }
    assert expected[ids[1]].priority == "expedited"
    assert expected[ids[2]].patient.sex == "male"
    assert expected[ids[2]].items[0].decision == "overturned"
    for lid, record in expected.items():
        assert GoldRecord.model_validate(rows[lid]) == record, lid
