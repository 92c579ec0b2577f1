"""`imrgold review`: the QA pass by someone else, driven with the Pilot, and its sample mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core.extract import extract
from imrgold.core.reading import read_letter
from imrgold.store import qa
from imrgold.store.store import Store
from imrgold.tui.review_app import ReviewApp, plan
from tests.store_helpers import isolate

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, "IMRGOLD_ANNOTATOR")


def _store(path: Path, n: int, annotator: str = "alice") -> list[str]:
    """A store where ``annotator`` marked the first ``n`` letters gold as the machine read them."""
    ids = []
    with Store.open(path, annotator=annotator) as store:
        for letter_path in sorted(LETTERS.glob("*.txt"))[:n]:
            letter = read_letter(letter_path)
            proposal = extract(letter.text, letter.letter_id)
            store.add_letter(letter)
            store.put_proposal(proposal)
            store.mark_gold(proposal)
            ids.append(letter.letter_id)
    return ids


async def test_confirm_everything_makes_the_record_reviewed(tmp_path):
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        tasks = plan(store, "carol", adjudicate=False)
        assert [(t.kind, t.letter_id, t.annotator) for t in tasks] == [("review", lid, "alice")]
        app = ReviewApp(store, "carol", tasks)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            session = app.screen.session
            await pilot.press("y", "y")  # the first two fields, one by one
            assert list(session.verdicts) == session.paths[:2]
            await pilot.press("ctrl+s")  # not everything reviewed: refused
            await pilot.pause()
            assert app.screen.session is session
            await pilot.press("Y", "ctrl+s")
            await pilot.pause()
        assert app.outcomes[0][2] == "reviewed"
        assert store.status(lid) == "reviewed"
        assert store.final_annotator(lid) == "carol"
        assert store.get_gold(lid) == store.get_gold(lid, annotator="alice")
        assert any(c.annotator == "carol" for c in store.history(lid))


async def test_a_correction_sends_both_versions_to_adjudication(tmp_path):
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        original = store.get_gold(lid, annotator="alice")
        new_priority = "expedited" if original.priority != "expedited" else "standard"
        app = ReviewApp(store, "carol", plan(store, "carol", adjudicate=False))
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            session = app.screen.session
            row = session.paths.index("priority")
            for _ in range(row):
                await pilot.press("down")
            await pilot.press("e", "ctrl+a", "ctrl+k", *new_priority, "enter")
            await pilot.pause()
            assert session.verdicts["priority"] == "corrected"
            await pilot.press("Y", "ctrl+s")
            await pilot.pause()
        assert app.outcomes[0][2] == "adjudication"
        assert store.status(lid) == "adjudication"
        versions = store.gold_versions(lid)
        assert set(versions) == {"alice", "carol"}
        assert versions["carol"].priority == new_priority
        assert versions["alice"] == original
        assert "priority" in store.summary(lid).comment

        # The adjudication queue shows exactly that difference; dana sides with alice.
        tasks = plan(store, "dana", review=False)
        app = ReviewApp(store, "dana", tasks)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            assert [r.path for r in app.screen.session.rows] == ["priority"]
            assert app.screen.session.annotators == ["alice", "carol"]
            await pilot.press("a", "ctrl+s")
            await pilot.pause()
        assert store.status(lid) == "reviewed"
        assert store.get_gold(lid) == original
        assert store.final_annotator(lid) == "dana"


async def test_a_bad_correction_is_refused_in_place(tmp_path):
    path = tmp_path / "s.json"
    _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol", adjudicate=False))
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            session = app.screen.session
            for _ in range(session.paths.index("reviewer.licensure")):
                await pilot.press("down")
            await pilot.press("e", "ctrl+a", "ctrl+k", *"Florida", "enter")
            await pilot.pause()
            assert "reviewer.licensure" not in session.verdicts
            await pilot.press("escape")
            await pilot.press("y")
            assert session.verdicts["reviewer.licensure"] == "confirmed"


def test_own_records_are_not_offered(tmp_path):
    path = tmp_path / "s.json"
    ids = _store(path, 2)
    with Store.open(path, annotator="alice") as store:
        assert plan(store, "alice") == []
        assert [t.letter_id for t in plan(store, "bob")] == ids


async def test_skipping_leaves_the_letter_as_it_was(tmp_path):
    path = tmp_path / "s.json"
    ids = _store(path, 2)
    with Store.open(path, annotator="bob") as store:
        app = ReviewApp(store, "bob", plan(store, "bob"))
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press("Y", "ctrl+s")
            await pilot.pause()
            assert "Done" in str(app.screen.query_one("#review-done").render())
        assert [o[2] for o in app.outcomes] == ["skipped", "reviewed"]
        assert [store.status(i) for i in ids] == ["gold", "reviewed"]


def test_sample_is_reproducible_and_a_share(tmp_path):
    ids = [f"{i:064x}" for i in range(50)]
    first = qa.sample_ids(ids, 0.2, 7)
    assert len(first) == 10 and first == qa.sample_ids(list(reversed(ids)), 0.2, 7)[::-1]
    assert first == sorted(first)  # queue order kept
    assert any(qa.sample_ids(ids, 0.2, seed) != first for seed in range(8, 12))
    assert qa.sample_ids(ids[:3], 0.1, 1) and qa.sample_ids(ids, None, 1) == ids
    # A letter added later leaves most of the sample as it was.
    grown = qa.sample_ids([*ids, "f" * 64], 0.2, 7)
    assert len(set(grown) & set(first)) >= len(first) - 1


def test_review_list_with_sample_and_seed(tmp_path, capsys):
    path = tmp_path / "s.json"
    _store(path, 6)
    argv = [
        "review",
        "--db",
        str(path),
        "--annotator",
        "carol",
        "--list",
        "--sample",
        "0.5",
        "--seed",
        "3",
        "--no-adjudicate",
    ]
    assert main(argv) == 0
    first = capsys.readouterr().out.splitlines()
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == first
    assert len(first) == 3 and all(line.startswith("review\t") for line in first)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seed", "3"], "--seed"),
        ([], "--annotator"),  # no name, not on a terminal
    ],
)
def test_review_user_errors(tmp_path, capsys, argv, message):
    path = tmp_path / "s.json"
    _store(path, 1)
    assert main(["review", "--db", str(path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_review_sample_out_of_range(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["review", "--db", str(tmp_path / "s.json"), "--sample", "1.5"])
    assert "between 0" in capsys.readouterr().err


async def test_flag_with_a_comment(tmp_path):
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol"))
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            await pilot.press("f", "enter")  # an empty comment is refused
            await pilot.pause()
            assert store.status(lid) == "gold"
            await pilot.press(*"item 3 missing", "enter")
            await pilot.pause()
        assert app.outcomes[0][2] == "flagged"
        assert store.status(lid) == "flagged"
        assert store.summary(lid).comment == "carol: item 3 missing"


async def test_adjudicator_writes_a_value_neither_version_has(tmp_path):
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        record = store.get_gold(lid, annotator="alice")
        age = record.patient.age or 40
        patient = record.patient.model_copy(update={"age": age + 1})
        store.put_gold(record.model_copy(update={"patient": patient}), "bob")
        store.set_status(lid, "adjudication")
        app = ReviewApp(store, "carol", plan(store, "carol", review=False))
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            session = app.screen.session
            assert [r.path for r in session.rows] == ["patient.age"]
            await pilot.press("e", "ctrl+a", "ctrl+k", *"abc", "enter")  # not a number
            await pilot.pause()
            assert session.pending() == [0]
            await pilot.press("ctrl+a", "ctrl+k", *str(age + 3), "enter", "ctrl+s")
            await pilot.pause()
        assert store.get_gold(lid).patient.age == age + 3
        assert store.get_gold(lid).patient.sex == record.patient.sex
        assert store.status(lid) == "reviewed"


async def test_the_table_says_which_values_the_annotator_typed(tmp_path):
    path = tmp_path / "s.json"
    letter = read_letter(sorted(LETTERS.glob("*.txt"))[0])
    proposal = extract(letter.text, letter.letter_id)
    fields = dict(proposal.fields)
    fields["priority"] = fields["priority"].model_copy(update={"source": "human"})
    with Store.open(path, annotator="alice") as store:
        store.add_letter(letter)
        store.put_proposal(proposal)
        store.mark_gold(proposal.model_copy(update={"fields": fields}))
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol"))
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            table = app.screen.query_one("#review-fields")
            assert table.get_cell("priority", "by") == "typed"
            assert table.get_cell("case_number", "by") == "machine"


async def test_values_with_brackets_show_as_written_and_never_break_the_screen(tmp_path):
    """A request holding "[sic]" or "[/]" is letter text, not markup."""
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="alice") as store:
        record = store.get_gold(lid)
        odd = "Norco 10/325 [sic] #60 [/] [otc]"
        items = [record.items[0].model_copy(update={"request": odd}), *record.items[1:]]
        store.put_gold(record.model_copy(update={"items": items}), "alice")
    with Store.open(path, annotator="carol") as store:
        tasks = plan(store, "carol", adjudicate=False)
        app = ReviewApp(store, "carol", tasks)
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.pause()
            session = app.screen.session
            app.screen._show("items.0.request")
            await pilot.pause()
            detail = str(app.screen.query_one("#review-detail").render())
            assert odd in detail
            assert session.values["items.0.request"] == odd
