"""`imrgold merge` edge cases, `imrgold stats` and the agreement table."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core.extract import extract
from imrgold.core.models import ProposedField
from imrgold.core.reading import read_letter
from imrgold.store.engine import Engine
from imrgold.store.qa.adjudication import AdjudicationSession, finish_adjudication
from imrgold.store.qa.merge import merge
from imrgold.store.qa.stats import active_hours
from imrgold.store.store import Store
from tests.store_helpers import isolate

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, "IMRGOLD_ANNOTATOR")


def _letters(n: int):
    out = []
    for path in sorted(LETTERS.glob("*.txt"))[:n]:
        letter = read_letter(path)
        out.append((letter, extract(letter.text, letter.letter_id)))
    return out


def _store(path: Path, annotator: str, letters, changes=None) -> None:
    """``annotator`` marks each letter gold, with ``changes[index]`` ({path: value}) applied."""
    with Store.open(path, annotator=annotator) as store:
        for index, (letter, proposal) in enumerate(letters):
            store.add_letter(letter)
            store.put_proposal(proposal)
            fields = dict(proposal.fields)
            for field_path, value in (changes or {}).get(index, {}).items():
                fields[field_path] = ProposedField(value=value, source="human", confirmed=True)
            store.mark_gold(proposal.model_copy(update={"fields": fields}))


def test_merge_twice_adds_nothing_the_second_time(tmp_path, capsys):
    letters = _letters(2)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    other = "expedited" if letters[0][1].get("priority").value != "expedited" else "standard"
    _store(a, "alice", letters[:1])
    _store(b, "bob", letters, {0: {"priority": other}})
    assert main(["merge", str(b), "--db", str(a), "--annotator", "alice"]) == 0
    first = capsys.readouterr().out
    assert "2 gold version(s) added" in first
    assert main(["merge", str(b), "--db", str(a), "--annotator", "alice"]) == 0
    second = capsys.readouterr().out
    assert "0 gold version(s) added, 2 already present" in second
    with Store.open(a, read_only=True) as store:
        assert store.status(letters[0][0].letter_id) == "adjudication"
        assert store.status(letters[1][0].letter_id) == "gold"


def test_same_name_in_both_stores_keeps_both_versions(tmp_path, capsys):
    letters = _letters(1)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _store(a, "sam", letters, {0: {"patient.age": 41}})
    _store(b, "sam", letters, {0: {"patient.age": 42}})
    assert main(["merge", str(b), "--db", str(a), "--name", "laptop"]) == 0
    assert "kept as 'sam@laptop'" in capsys.readouterr().out
    with Store.open(a, read_only=True) as store:
        versions = store.gold_versions(letters[0][0].letter_id)
        assert {v.patient.age for v in versions.values()} == {41, 42}
        assert set(versions) == {"sam", "sam@laptop"}
        assert store.status(letters[0][0].letter_id) == "adjudication"


def test_merge_brings_a_final_record_and_agreeing_versions_stay_settled(tmp_path):
    letters = _letters(1)
    lid = letters[0][0].letter_id
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _store(a, "alice", letters)
    _store(b, "bob", letters)
    with Store.open(b, annotator="carol") as store:
        store.set_final(lid, store.get_gold(lid, annotator="bob"), "carol")
        store.set_status(lid, "reviewed", "reviewed by carol")
    with Store.open(a, annotator="alice") as target, Store.open(b, read_only=True) as other:
        report = merge(target, other, source="b")
        assert report.finals_added == 1 and report.agreed == [lid]
        assert target.status(lid) == "reviewed"
        assert target.final_annotator(lid) == "carol"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["merge", "{tmp}/missing.json"], "no store at"),
        (["merge", "{tmp}/a.json"], "into itself"),
    ],
)
def test_merge_user_errors(tmp_path, capsys, argv, message):
    _store(tmp_path / "a.json", "alice", _letters(1))
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main([*argv, "--db", str(tmp_path / "a.json")]) == 2
    assert message in capsys.readouterr().err


def test_active_hours_counts_gaps_and_breaks():
    t0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    minutes = [0, 10, 20, 120, 125]  # a 100-minute pause is a break
    times = [t0 + dt.timedelta(minutes=m) for m in minutes]
    # work: 10 + 10 + 5 minutes, plus one minute for each of the two sessions
    assert active_hours(times, idle_minutes=30) == pytest.approx(27 / 60)
    assert active_hours([], 30) == 0.0


def test_stats_counts_rates_and_machine_accuracy(tmp_path, capsys):
    letters = _letters(3)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    machine_priority = letters[0][1].get("priority").value
    other = "expedited" if machine_priority != "expedited" else "standard"
    _store(a, "alice", letters[:2], {0: {"priority": other}})
    _store(b, "bob", letters[2:])
    assert main(["merge", str(b), "--db", str(a), "--annotator", "alice"]) == 0
    capsys.readouterr()
    assert main(["stats", "--db", str(a), "--json", "--period", "day"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["by_status"] == {"gold": 3}
    # The merge's status change names alice for bob's letter too: she ran it.
    assert stats["by_status_annotator"] == {"gold": {"alice": 3}}
    assert stats["by_annotator"]["alice"]["gold"] == 2
    assert stats["by_annotator"]["bob"]["gold"] == 1
    rates = stats["letters_per_hour"]
    assert rates["alice"]["letters"] == 2 and rates["alice"]["per_hour"] > 0
    # bob's version was merged in, not made here: no rate for him
    assert rates["bob"]["letters"] == 0 and rates["bob"]["per_hour"] is None
    [day] = stats["machine_accuracy"].values()
    assert day["priority"]["total"] == 3 and day["priority"]["correct"] == 2
    assert day["case_number"]["accuracy"] == 1.0
    assert main(["stats", "--db", str(a)]) == 0
    table = capsys.readouterr().out
    assert "letters by status" in table and "alice" in table and "67% (3)" in table


def test_agreement_table_and_empty_store(tmp_path, capsys):
    letters = _letters(2)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _store(a, "alice", letters)
    _store(b, "bob", letters, {1: {"patient.sex": "female"}})
    assert main(["agreement", "--db", str(a), "--machine", "none"]) == 0
    assert "nothing to compare" in capsys.readouterr().out
    assert main(["merge", str(b), "--db", str(a), "--annotator", "alice"]) == 0
    capsys.readouterr()
    assert main(["agreement", "--db", str(a)]) == 0
    out = capsys.readouterr().out
    assert "alice vs bob (2 letter(s))" in out and "items.decision" in out
    assert "machine vs gold" in out


def test_merging_again_after_adjudication_leaves_it_settled_and_repairs_a_cut_merge(tmp_path):
    letters = _letters(2)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _store(a, "alice", letters, {0: {"patient.age": 41}, 1: {"patient.age": 41}})
    _store(b, "bob", letters, {0: {"patient.age": 42}, 1: {"patient.age": 42}})
    first, second = (letter.letter_id for letter, _ in letters)
    with Store.open(a, annotator="alice") as target, Store.open(b, read_only=True) as other:
        merge(target, other, source="b")
        session = AdjudicationSession.start(first, target.gold_versions(first))
        session.choose_all("bob")
        finish_adjudication(target, session, "carol")
        # A merge cut short after storing bob's version but before the status change:
        target.set_status(second, "gold")
        report = merge(target, other, source="b")
        assert report.versions_added == 0
        assert target.status(first) == "reviewed" and target.get_gold(first).patient.age == 42
        assert report.to_adjudication == [second]
        assert target.status(second) == "adjudication"


def test_three_annotators_get_krippendorff_alpha(tmp_path, capsys):
    letters = _letters(3)
    sexes = {
        "ann": ["male", "female", "male"],
        "ben": ["male", "female", "male"],
        "cy": ["female", "female", "male"],
    }
    paths = {name: tmp_path / f"{name}.json" for name in sexes}
    for name, values in sexes.items():
        _store(paths[name], name, letters, {i: {"patient.sex": v} for i, v in enumerate(values)})
    for other in ("ben", "cy"):
        argv = ["merge", str(paths[other]), "--db", str(paths["ann"]), "--annotator", "ann"]
        assert main(argv) == 0
    capsys.readouterr()
    assert main(["agreement", "--db", str(paths["ann"]), "--json", "--machine", "none"]) == 0
    report = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert set(report) == {"ann vs ben", "ann vs cy", "ben vs cy", "all annotators"}
    sex = {f["field"]: f for f in report["all annotators"]["fields"]}["patient.sex"]
    # units (m,m,f), (f,f,f), (m,m,m): o_mm = 4, o_ff = 3, o_mf = o_fm = 1; n_m = 5, n_f = 4,
    # n = 9; alpha = 1 - (n - 1) * 2 / (2 * 5 * 4) = 0.6
    assert sex["alpha"] == pytest.approx(0.6)
    assert sex["n"] == 3 and sex["exact"] == pytest.approx(2 / 3)
    ann_cy = {f["field"]: f for f in report["ann vs cy"]["fields"]}
    # po = 2/3; ann m2 f1, cy m1 f2; pe = (2 + 2)/9 = 4/9; kappa = (6/9 - 4/9) / (5/9) = 0.4
    assert ann_cy["patient.sex"]["kappa"] == pytest.approx(0.4)


def test_a_merged_version_keeps_its_author_and_time(tmp_path):
    letters = _letters(1)
    lid = letters[0][0].letter_id
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    _store(a, "alice", letters)
    made = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    with Store.open(b, annotator="someone-else") as other:
        other.add_letter(letters[0][0], letters[0][1])
        record = letters[0][1].to_record()
        other_priority = "expedited" if record.priority != "expedited" else "standard"
        other.put_gold(record.model_copy(update={"priority": other_priority}), "bob", at=made)
        assert other.gold_times(lid) == {"bob": made}
    with Store.open(a, annotator="alice") as target, Store.open(b, read_only=True) as other:
        merge(target, other, source="b")
        assert target.annotator == "alice"
        assert target.gold_times(lid)["bob"] == made
        assert target.gold_times(lid)["alice"] > made
        gold = [e for e in target.history_entries(lid) if e["track"] == "bob"]
        assert gold and {e["annotator"] for e in gold} == {"bob"}
        assert {e["at"] for e in gold} == {made.isoformat()}


class _Killed(BaseException):
    """A merge dying mid-way, as SIGKILL would end it: no exception handler runs after it."""


def test_a_merge_killed_at_any_point_is_completed_by_running_it_again(tmp_path):
    """Die after each of the merge's operations in turn; re-running the merge always brings
    every letter with its proposal and every gold version (operations are journaled one by one,
    so what a death leaves is what those operations wrote)."""
    letters = _letters(4)
    other = tmp_path / "other.json"
    _store(other, "bob", letters)
    with Store.open(other, read_only=True) as source:
        total = len(source.summaries())
    target_fresh = tmp_path / "fresh.json"
    with Store.open(target_fresh, annotator="alice") as target, \
            Store.open(other, read_only=True) as source:  # fmt: skip
        merge(target, source)
    ops = Engine.commit
    n_ops = 0

    def counting(self, op):
        nonlocal n_ops
        n_ops += 1
        return ops(self, op)

    Engine.commit = counting
    try:
        with Store.open(tmp_path / "count.json", annotator="alice") as target, \
                Store.open(other, read_only=True) as source:  # fmt: skip
            merge(target, source)
    finally:
        Engine.commit = ops
    assert n_ops >= 2 * total
    for kill_after in range(n_ops):
        db = tmp_path / f"killed-{kill_after}.json"
        done = 0

        def dying(self, op, kill_after=kill_after):
            nonlocal done
            if done == kill_after:
                raise _Killed
            done += 1
            return ops(self, op)

        target = Store.open(db, annotator="alice")
        source = Store.open(other, read_only=True)
        Engine.commit = dying
        try:
            with pytest.raises(_Killed):
                merge(target, source)
        finally:
            Engine.commit = ops
            target.engine.release()  # the process is gone: no checkpoint, only the journal
            source.close()
        with Store.open(db, annotator="alice") as target, \
                Store.open(other, read_only=True) as source:  # fmt: skip
            merge(target, source)
        with Store.open(db, read_only=True) as merged, \
                Store.open(target_fresh, read_only=True) as fresh:  # fmt: skip
            assert merged.letter_ids() == fresh.letter_ids(), kill_after
            for lid in fresh.letter_ids():
                assert merged.get_proposal(lid) == fresh.get_proposal(lid), (kill_after, lid)
                assert merged.gold_versions(lid) == fresh.gold_versions(lid), (kill_after, lid)
                assert merged.status(lid) == fresh.status(lid), (kill_after, lid)
