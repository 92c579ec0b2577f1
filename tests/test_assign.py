"""Team work without a server: `imrgold assign` splits a store into one store per annotator,
each annotates in theirs, `imrgold merge` brings them back, `imrgold agreement` reports on the
overlap and the disagreements are adjudicated, driven as the team drives it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from imrgold.cli.commands.annotate import bundled_letters
from imrgold.cli.identity import remember
from imrgold.cli.main import main
from imrgold.core.models import item_path
from imrgold.store.assign import assignee
from imrgold.store.qa.merge import IMPORTED_KEY
from imrgold.store.store import Store
from imrgold.tui.app import ImrGoldApp
from imrgold.tui.review_app import ReviewApp, plan
from imrgold.tui.widgets.queue_table import QueueTable
from tests.store_helpers import corrected, isolate
from tests.test_tui import go_to, make_app, settle, type_value

TEAM = ["ann1", "ann2", "ann3"]
N_LETTERS = 9


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, "IMRGOLD_ANNOTATOR")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The bundled letters ingested once, as a user does (extraction is the slow part)."""
    source = tmp_path_factory.mktemp("template") / "lead.json"
    letters = [str(p) for p in bundled_letters()[:N_LETTERS]]
    assert main(["ingest", *letters, "--db", str(source)]) == 0
    return source


@pytest.fixture
def source(template, tmp_path):
    import shutil

    shutil.copy2(template, tmp_path / template.name)
    shutil.copytree(template.with_suffix(".d"), tmp_path / template.with_suffix(".d").name)
    return tmp_path / template.name


def _assign(source: Path, out: Path, *extra: str) -> int:
    argv = ["assign", "--db", str(source), "--to", ",".join(TEAM), "--out", str(out)]
    return main([*argv, "--annotator", "lead", *extra])


def _letters(path: Path) -> set[str]:
    with Store.open(path, read_only=True) as store:
        return set(store.letter_ids())


async def _gold_in_the_interface(path: Path, changes: dict[str, str | None]) -> None:
    """ann1 at the keyboard: each letter opened from the queue, a field typed over (or none),
    Ctrl+G and yes at the gate."""
    with Store.open(path, annotator="ann1") as store:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            for lid, case_number in changes.items():
                await settle(pilot)
                table = app.screen.query_one(QueueTable)
                table.move_cursor(row=table.letter_ids.index(lid))
                await pilot.press("enter")
                await settle(pilot)
                screen = app.screen
                assert screen.letter_id == lid
                if case_number is not None:
                    await go_to(pilot, screen, "case_number")
                    await type_value(pilot, case_number)
                await pilot.press("ctrl+g", "y")
                await settle(pilot)
                assert store.status(lid) == "gold"
                await pilot.press("escape")
        assert store.get_gold(next(iter(changes))).case_number == "CM99-0000001"


async def test_assign_annotate_merge_agreement_adjudicate(source, tmp_path, capsys, monkeypatch):
    team = tmp_path / "team"
    assert _assign(source, team, "--overlap", "0.34", "--seed", "11") == 0
    out = capsys.readouterr().out
    assert f"assigned {N_LETTERS} letter(s)" in out and "3 given to two" in out
    stores = {name: team / f"{name}.json" for name in TEAM}
    for name, path in stores.items():
        assert f"  {name}: {path}, 4 letter(s), 2 shared" in out
    letters = {name: _letters(path) for name, path in stores.items()}
    assert set().union(*letters.values()) == _letters(source)
    shared = {
        (a, b): (letters[a] & letters[b]).pop() for a, b in [("ann1", "ann2"), ("ann1", "ann3")]
    }
    shared["ann2", "ann3"] = (letters["ann2"] & letters["ann3"]).pop()

    # Each store says whose it is, and `imrgold annotate` works as that annotator, even on an
    # account that remembers another name.
    assert {name: assignee(path) for name, path in stores.items()} == {n: n for n in TEAM}
    remember("lead")
    opened = []
    monkeypatch.setattr(ImrGoldApp, "run", lambda app: opened.append(app.store.annotator))
    assert main(["annotate", "--db", str(stores["ann2"])]) == 0
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "zoe")  # a name given outright still wins
    assert main(["annotate", "--db", str(stores["ann2"])]) == 0
    monkeypatch.delenv("IMRGOLD_ANNOTATOR")
    assert opened == ["ann2", "zoe"]

    # ann1 in the interface: the letter shared with ann2 gets another case number, the one
    # shared with ann3 is taken as the machine read it.
    await _gold_in_the_interface(
        stores["ann1"], {shared["ann1", "ann2"]: "CM99-0000001", shared["ann1", "ann3"]: None}
    )
    # ann2 and ann3 through the store: ann2 takes the machine's reading of both shared letters;
    # ann3 agrees with ann1 but overturns the first item of the letter shared with ann2.
    for name in ("ann2", "ann3"):
        with Store.open(stores[name], annotator=name) as store:
            for lid in sorted(letters[name]):
                proposal = store.get_proposal(lid)
                if name == "ann3" and lid == shared["ann2", "ann3"]:
                    proposal = corrected(proposal, item_path(0, "decision"), "overturned")
                    assert store.get_proposal(lid).get(item_path(0, "decision")).value != (
                        "overturned"
                    )
                store.mark_gold(proposal)

    # -- merge the three back into the lead's store --------------------------------------------
    for path in stores.values():
        assert main(["merge", str(path), "--db", str(source), "--annotator", "lead"]) == 0
    merged = capsys.readouterr().out
    assert merged.count("merged ann") == 3
    with Store.open(source, read_only=True) as store:
        for (a, b), lid in shared.items():
            assert set(store.gold_versions(lid)) == {a, b}
        status = {pair: store.status(lid) for pair, lid in shared.items()}
        assert store.gold_versions(shared["ann1", "ann2"])["ann1"].case_number == "CM99-0000001"
        # Letters given to one annotator (ann1 left two of hers undone) are single versions.
        done = [lid for lid in store.letter_ids() if store.gold_versions(lid)]
        assert len(done) == N_LETTERS - 2
    assert status == {
        ("ann1", "ann2"): "adjudication",
        ("ann1", "ann3"): "gold",
        ("ann2", "ann3"): "adjudication",
    }

    # -- agreement on the overlap: one letter for each pair --------------------------------------
    assert main(["agreement", "--db", str(source), "--json", "--machine", "none"]) == 0
    report = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    for a, b in shared:
        assert report[f"{a} vs {b}"]["letters"] == 1
    fields = {name: {f["field"]: f for f in report[name]["fields"]} for name in report}
    assert fields["ann1 vs ann2"]["case_number"]["exact"] == 0.0
    assert fields["ann1 vs ann3"]["case_number"]["exact"] == 1.0
    assert fields["ann2 vs ann3"]["items.decision"]["exact"] < 1.0
    assert main(["agreement", "--db", str(source), "--machine", "none"]) == 0
    assert "ann1 vs ann2 (1 letter(s))" in capsys.readouterr().out

    # -- adjudication in the interface ----------------------------------------------------------
    with Store.open(source, annotator="carol") as store:
        tasks = plan(store, "carol", review=False)
        assert {t.letter_id for t in tasks} == {shared["ann1", "ann2"], shared["ann2", "ann3"]}
        app = ReviewApp(store, "carol", tasks)
        async with app.run_test(size=(160, 50)) as pilot:
            for _ in tasks:
                await settle(pilot)
                session = app.screen.session
                paths = [r.path for r in session.rows]
                if session.letter_id == shared["ann1", "ann2"]:
                    assert paths == ["case_number"]
                else:
                    assert paths == [item_path(0, "decision")]
                await pilot.press("1")  # the first annotator's value (ann1, resp. ann2)
                await pilot.press("ctrl+s")
                await settle(pilot)
        assert [o[2] for o in app.outcomes] == ["reviewed (adjudicated)"] * 2
        final = store.get_gold(shared["ann1", "ann2"])
        assert final.case_number == "CM99-0000001"
        assert store.final_annotator(shared["ann2", "ann3"]) == "carol"
        assert store.get_gold(shared["ann2", "ann3"]).items[0].decision != "overturned"


def test_files_are_private(source, tmp_path, capsys):
    team = tmp_path / "team"
    team.mkdir(mode=0o755)
    os.chmod(team, 0o755)  # an empty folder made beforehand, readable by others
    assert _assign(source, team, "--overlap", "0.2", "--seed", "1") == 0
    walked = [team, *team.rglob("*")]
    assert len(walked) > 10
    for path in walked:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    # Nothing else left beside the team: the stores were built aside and moved in whole.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_the_same_seed_gives_the_same_stores(source, tmp_path, capsys):
    for out in ("a", "b"):
        assert _assign(source, tmp_path / out, "--overlap", "0.3", "--seed", "5") == 0
    for name in TEAM:
        first, again = (_letters(tmp_path / out / f"{name}.json") for out in ("a", "b"))
        assert first == again
    assert _assign(source, tmp_path / "c", "--overlap", "0.3") == 0
    said = capsys.readouterr().out
    assert "seed " in said and "shared by ann1 and ann2: " in said


def test_letters_are_copied_as_they_stand_and_the_status_filter_chooses(source, tmp_path, capsys):
    with Store.open(source, annotator="lead") as store:
        ids = store.letter_ids()
        drafted, flagged, gold = ids[0], ids[1], ids[2]
        store.save_draft(corrected(store.get_proposal(drafted), "case_number", "CM11-1111111"))
        store.mark_gold(store.get_proposal(flagged))
        store.set_status(flagged, "flagged", "ask about the second item")
        store.mark_gold(store.get_proposal(gold))
    argv = ["--to", "ann1", "--status", "in_progress", "--status", "flagged", "--seed", "3"]
    assert main(["assign", "--db", str(source), "--out", str(tmp_path / "t"), *argv]) == 0
    path = tmp_path / "t" / "ann1.json"
    with Store.open(path, read_only=True) as store:
        assert set(store.letter_ids()) == {drafted, flagged}
        assert store.status(drafted) == "in_progress"
        assert store.get_draft(drafted, "lead").get("case_number").value == "CM11-1111111"
        assert store.get_proposal(drafted) is not None and store.get_letter(drafted).text
        assert store.summary(flagged).comment == "ask about the second item"
        assert store.status(flagged) == "flagged"
        assert set(store.gold_versions(flagged)) == {"lead"}
        # Not work done in this store: stats leaves it out of letters per hour.
        assert store.meta(IMPORTED_KEY) == [[flagged, "lead"]]
    # Back unchanged: nothing new, nothing to adjudicate.
    assert main(["merge", str(path), "--db", str(source), "--annotator", "lead"]) == 0
    out = capsys.readouterr().out
    assert "0 gold version(s) added, 1 already present" in out
    assert "0 letter(s) with differing" in out


def test_fewer_letters_than_annotators_is_said(source, tmp_path, capsys):
    with Store.open(source, annotator="lead") as store:
        store.mark_gold(store.get_proposal(store.letter_ids()[0]))
    out = tmp_path / "t"
    assert _assign(source, out, "--status", "gold", "--seed", "2") == 0
    said = capsys.readouterr().out
    assert "note: fewer letters (1) than annotators (3)" in said and "get(s) an empty store" in said
    assert sorted(len(_letters(out / f"{n}.json")) for n in TEAM) == [0, 0, 1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "", "--out", "{tmp}/t"], "--to names no annotators"),
        (["--to", ",", "--out", "{tmp}/t"], "--to names no annotators"),
        (["--to", "ann1,,ann2", "--out", "{tmp}/t"], "has an empty name"),
        (["--to", "ann1,ann2,Ann1", "--out", "{tmp}/t"], "more than once: Ann1, ann1"),
        (["--to", "ann1,a/b", "--out", "{tmp}/t"], "annotator name 'a/b' must be"),
        (["--to", "ann1,ann2", "--overlap", "1.5", "--out", "{tmp}/t"], "overlap 1.5 is outside"),
        (["--to", "ann1,ann2", "--overlap", "-0.2", "--out", "{tmp}/t"], "outside 0-1"),
        (["--to", "ann1", "--overlap", "0.2", "--out", "{tmp}/t"], "at least two"),
        (["--to", "ann1,ann2", "--out", "{tmp}/full"], "{tmp}/full is not empty"),
        (["--to", "ann1,ann2", "--out", "{tmp}/file"], "{tmp}/file exists and is not a folder"),
        (["--to", "a,b", "--status", "done", "--out", "{tmp}/t"], "unknown status 'done'"),
        (["--to", "a,b", "--status", "reviewed", "--out", "{tmp}/t"], "no letters with status"),
        (["--to", "a,b", "--db", "{tmp}/none.json", "--out", "{tmp}/t"], "no store at"),
    ],
)
def test_bad_input_gets_one_line(source, tmp_path, capsys, argv, message):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    (tmp_path / "file").write_text("mine")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code = main(["assign", "--db", str(source), *argv])
    assert code != 0
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("imrgold assign: error: ")
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert not (tmp_path / "t").exists()
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_a_failure_midway_leaves_nothing(source, tmp_path, capsys, monkeypatch):
    import imrgold.store.assign as assign_store

    real = assign_store.Standing.write
    calls = []

    def fail_on_the_third(*args):
        calls.append(args)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*args)

    monkeypatch.setattr(assign_store.Standing, "write", fail_on_the_third)
    assert _assign(source, tmp_path / "team", "--overlap", "0.2", "--seed", "1") == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "No space left on device" in err
    assert len(calls) == 3
    assert not (tmp_path / "team").exists()
    assert not any(p.name.startswith(".team") for p in tmp_path.iterdir())
