"""`imrgold review`: the QA pass by someone else, driven with the Pilot, and its sample mode."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from imrgold.cli.main import main
from imrgold.core.extract import extract
from imrgold.core.models import Proposal, flatten
from imrgold.core.reading import read_letter
from imrgold.store.errors import StoreError
from imrgold.store.qa.sampling import sample_ids
from imrgold.store.store import Store
from imrgold.tui import fields
from imrgold.tui.editing import Draft
from imrgold.tui.keymap import keymap_path
from imrgold.tui.review_app import ReviewApp, Task, plan
from imrgold.tui.review_rows import Provenance, provenance, voucher
from imrgold.tui.screens.adjudicate import AdjudicateScreen
from imrgold.tui.screens.help import HelpScreen, bindings_table
from imrgold.tui.screens.review import ReviewScreen
from imrgold.tui.screens.review_done import DoneScreen
from imrgold.tui.screens.review_wait import WaitScreen
from imrgold.tui.widgets.cell_table import MIN_FILL, Column, column_widths, fit
from imrgold.tui.widgets.key_footer import KeyFooter
from imrgold.tui.widgets.status_line import StatusLine
from tests.store_helpers import isolate
from tests.test_tui import settle

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
            await settle(pilot)
            session = app.screen.session
            await pilot.press("y", "y")  # the first two fields, one by one
            assert list(session.verdicts) == session.paths[:2]
            await pilot.press("ctrl+s")  # not everything reviewed: refused
            await settle(pilot)
            assert app.screen.session is session
            await pilot.press("Y", "ctrl+s")
            await settle(pilot)
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
            await settle(pilot)
            session = app.screen.session
            row = session.paths.index("priority")
            for _ in range(row):
                await pilot.press("down")
            await pilot.press("e", "ctrl+a", "ctrl+k", *new_priority, "enter")
            await settle(pilot)
            assert session.verdicts["priority"] == "corrected"
            await pilot.press("Y", "ctrl+s")
            await settle(pilot)
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
            await settle(pilot)
            assert [r.path for r in app.screen.session.rows] == ["priority"]
            assert app.screen.session.annotators == ["alice", "carol"]
            await pilot.press("a", "ctrl+s")
            await settle(pilot)
        assert store.status(lid) == "reviewed"
        assert store.get_gold(lid) == original
        assert store.final_annotator(lid) == "dana"


async def test_a_bad_correction_is_refused_in_place(tmp_path):
    path = tmp_path / "s.json"
    _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol", adjudicate=False))
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            session = app.screen.session
            for _ in range(session.paths.index("reviewer.licensure")):
                await pilot.press("down")
            await pilot.press("e", "ctrl+a", "ctrl+k", *"Florida", "enter")
            await settle(pilot)
            assert "reviewer.licensure" not in session.verdicts
            assert "two-letter state codes" in str(app.screen.query_one(StatusLine).render())
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
            await settle(pilot)
            await pilot.press("ctrl+n")
            await settle(pilot)
            await pilot.press("Y", "ctrl+s")
            await settle(pilot)
            assert "Done" in str(app.screen.query_one("#review-done").render())
        assert [o[2] for o in app.outcomes] == ["skipped", "reviewed"]
        assert [store.status(i) for i in ids] == ["gold", "reviewed"]


def test_sample_is_reproducible_and_a_share(tmp_path):
    ids = [f"{i:064x}" for i in range(50)]
    first = sample_ids(ids, 0.2, 7)
    assert len(first) == 10 and first == sample_ids(list(reversed(ids)), 0.2, 7)[::-1]
    assert first == sorted(first)  # queue order kept
    assert any(sample_ids(ids, 0.2, seed) != first for seed in range(8, 12))
    assert sample_ids(ids[:3], 0.1, 1) and sample_ids(ids, None, 1) == ids
    # A letter added later leaves most of the sample as it was.
    grown = sample_ids([*ids, "f" * 64], 0.2, 7)
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
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+r", "enter")  # an empty comment is refused
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen)
            assert "say what is wrong" in str(app.screen.query_one(StatusLine).render())
            await pilot.press("ctrl+r", *"item 3 [sic] missing", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DoneScreen)
        assert app.outcomes[0][2] == "flagged"
        assert store.status(lid) == "flagged"
        assert store.summary(lid).comment == "carol: item 3 [sic] missing"


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
            await settle(pilot)
            session = app.screen.session
            assert [r.path for r in session.rows] == ["patient.age"]
            await pilot.press("e", "ctrl+a", "ctrl+k", *"abc", "enter")  # not a number
            await settle(pilot)
            assert session.pending() == [0]
            await pilot.press("ctrl+a", "ctrl+k", *str(age + 3), "enter", "ctrl+s")
            await settle(pilot)
        assert store.get_gold(lid).patient.age == age + 3
        assert store.get_gold(lid).patient.sex == record.patient.sex
        assert store.status(lid) == "reviewed"


# -- the review table: who vouches for each value ---------------------------------------------


def _letter_with(n_diagnoses: int):
    """The first fixture letter whose machine reading has at least ``n_diagnoses`` diagnoses."""
    for letter_path in sorted(LETTERS.glob("*.txt")):
        letter = read_letter(letter_path)
        proposal = extract(letter.text, letter.letter_id)
        if len(proposal.get("diagnoses").value or []) >= n_diagnoses:
            return letter, proposal
    raise AssertionError("no fixture letter has that many diagnoses")


def _cell(screen, path: str, column: int) -> str:
    return screen.table.rows[screen.session.paths.index(path)][column].plain


async def test_the_by_column_names_the_machine_the_annotator_and_the_reviewer(tmp_path):
    """alice confirms the case number, writes the priority, checks one diagnosis of two and
    leaves the rest as the machine read them; carol then confirms one of the machine's."""
    letter, proposal = _letter_with(2)
    path = tmp_path / "s.json"
    draft = Draft(proposal)
    draft.confirm("case_number")
    priority = "expedited" if proposal.get("priority").value != "expedited" else "standard"
    draft.set_value("priority", priority)
    draft.confirm("diagnoses", 0)
    with Store.open(path, annotator="alice") as store:
        store.add_letter(letter)
        store.put_proposal(proposal)
        store.mark_gold(draft.proposal)
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol"))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            n = len(proposal.get("diagnoses").value)
            assert _cell(screen, "case_number", 3) == "alice"
            assert _cell(screen, "priority", 3) == "alice ✎"
            assert _cell(screen, "diagnoses", 3) == f"alice 1/{n}"
            assert _cell(screen, "date_of_injury", 3) == "machine"
            assert _cell(screen, "date_of_injury", 0).strip() == "·"
            # The line under the table says it in words.
            detail = str(screen.query_one("#review-detail").render())
            assert "case number" in detail and "confirmed by alice" in detail
            # Ctrl+L goes to the next value alice never checked; Enter confirms it.
            await pilot.press("ctrl+l")
            first_unchecked = screen.session.paths[screen.cursor]
            assert screen.origins[first_unchecked].state == "machine"
            await pilot.press("enter", "up")
            assert _cell(screen, first_unchecked, 3) == "carol"
            assert _cell(screen, first_unchecked, 0).strip() == "✓"
            detail = str(screen.query_one("#review-detail").render())
            assert "never checked by alice; confirmed by carol" in detail


async def test_a_version_without_its_own_draft_is_the_annotators(tmp_path):
    """A version put in whole (merged from another store): every value is its annotator's,
    confirmed where it is what the machine read, written where it is not."""
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="alice") as store:
        record = store.get_gold(lid)
        other = "expedited" if record.priority != "expedited" else "standard"
        store.put_gold(record.model_copy(update={"priority": other}), "bob")
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", [Task("review", lid, "bob")])
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert _cell(app.screen, "priority", 3) == "bob ✎"
            assert _cell(app.screen, "case_number", 3) == "bob"


async def test_empty_values_show_the_empty_marker(tmp_path):
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="alice") as store:
        record = store.get_gold(lid)
        store.put_gold(record.model_copy(update={"ur_denial_date": None}), "alice")
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert _cell(app.screen, "ur_denial_date", 2) == fields.EMPTY
            row = app.screen.session.paths.index("ur_denial_date")
            await pilot.press(*["down"] * row)
            assert str(app.screen.query_one("#review-detail").render()).splitlines()[-1] == "—"


# -- values from letters and people are text, never markup -------------------------------------

ODD = "Norco 10/325 [sic] #60 [/] [bold]x[/bold] [otc]"


async def test_brackets_in_a_request_show_as_written_in_review_and_adjudication(tmp_path):
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="alice") as store:
        record = store.get_gold(lid)
        items = [record.items[0].model_copy(update={"request": ODD}), *record.items[1:]]
        store.put_gold(record.model_copy(update={"items": items}), "alice")
        bob = [record.items[0].model_copy(update={"request": "[bold]Norco[/]"}), *record.items[1:]]
        store.put_gold(record.model_copy(update={"items": bob}), "bob [b]")
    with Store.open(path, annotator="carol") as store:
        tasks = [t for t in plan(store, "carol", adjudicate=False) if t.annotator == "alice"]
        app = ReviewApp(store, "carol", tasks)
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            screen = app.screen
            row = screen.session.paths.index("items.0.request")
            await pilot.press(*["down"] * row)
            assert ODD in str(screen.query_one("#review-detail").render())
            assert ODD in screen.table.line(row, 200).plain
            # A correction holding brackets is kept as typed, and shown as typed.
            await pilot.press("e", "ctrl+a", "ctrl+k", *"[bold]Norco[/] [sic]", "enter")
            assert screen.session.values["items.0.request"] == "[bold]Norco[/] [sic]"
            await pilot.press("up")  # Enter moved on to the next field
            assert "alice wrote: " + ODD in str(screen.query_one("#review-detail").render())

        store.set_status(lid, "adjudication")
        app = ReviewApp(store, "carol", plan(store, "carol", review=False))
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert screen.session.annotators == ["alice", "bob [b]"]
            assert "2 bob [b]" in str(screen.query_one("#title-bar").render())
            assert [r.path for r in screen.session.rows] == ["items.0.request"]
            assert ODD in str(screen.query_one("#version-0").render())
            assert "[bold]Norco[/]" in str(screen.query_one("#version-1").render())
            await pilot.press("2")
            assert "2 bob [b]" in screen.table.line(0, 200).plain
            await pilot.press("ctrl+g")
            await settle(pilot)
        assert store.get_gold(lid).items[0].request == "[bold]Norco[/]"


async def test_a_value_or_a_name_like_a_marker_is_shown_and_taken_as_written(tmp_path):
    """Adjudication's markers are no strings: an item whose request reads "<absent>" is shown as
    written, not as a missing item, and the version of an annotator named "(edited)" is taken
    like any other, not as a value the adjudicator wrote."""
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="alice") as store:
        record = store.get_gold(lid)
        odd = record.items[0].model_copy(update={"request": "<absent>"})
        store.put_gold(record.model_copy(update={"items": [*record.items, odd]}), "(edited)")
        store.set_status(lid, "adjudication")
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol", review=False))
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert screen.session.annotators == ["(edited)", "alice"]
            assert [r.path for r in screen.session.rows] == [f"items.{len(record.items)}"]
            assert "<absent>" in str(screen.query_one("#version-0").render())
            assert "no such item" in str(screen.query_one("#version-1").render())
            await pilot.press("1")
            assert "1 (edited)" in screen.table.line(0, 200).plain
            await pilot.press("ctrl+g")
            await settle(pilot)
        assert [i.request for i in store.get_gold(lid).items][-1] == "<absent>"


# -- keys: the annotate screen's conventions, in bursts, remappable -------------------------------


def _adjudication_store(path: Path, n: int) -> list[str]:
    """``n`` letters whose versions by alice and bob differ in priority and patient age."""
    ids = _store(path, n)
    with Store.open(path, annotator="bob") as store:
        for lid in ids:
            record = store.get_gold(lid, annotator="alice")
            other = "expedited" if record.priority != "expedited" else "standard"
            patient = record.patient.model_copy(update={"age": (record.patient.age or 40) + 1})
            store.put_gold(record.model_copy(update={"priority": other, "patient": patient}), "bob")
            store.set_status(lid, "adjudication")
    return ids


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_review_and_adjudication_in_bursts_of_keys(tmp_path, size):
    """Two reviews and two adjudications, every key of each letter typed at once, the next
    letter's keys straight after the last: nothing is lost, nothing lands on the wrong letter."""
    path = tmp_path / "s.json"
    ids = _adjudication_store(path, 2)
    _more = _store(tmp_path / "more.json", 4)[2:]
    with Store.open(path, annotator="dana") as store, Store.open(tmp_path / "more.json") as more:
        for lid in _more:
            store.add_letter(more.get_letter(lid), more.get_proposal(lid))
            store.put_gold(more.get_gold(lid), "alice")
    with Store.open(path, annotator="carol") as store:
        tasks = plan(store, "carol")
        assert [t.kind for t in tasks] == ["review", "review", "adjudicate", "adjudicate"]
        app = ReviewApp(store, "carol", tasks)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press(
                "y", "y", "ctrl+b", "ctrl+g",  # the first review: all confirmed
                "down", "down", "e", "ctrl+a", "ctrl+k", *"M.D.", "enter",  # not a valid value
                "escape", "ctrl+b", "ctrl+g",  # so confirmed after all
                "1", "2", "ctrl+g",  # alice's priority, bob's age
                "B", "ctrl+g",  # bob's for everything
            )  # fmt: skip
            await settle(pilot)
            assert isinstance(app.screen, DoneScreen)
        assert [o[2] for o in app.outcomes] == ["reviewed"] * 2 + ["reviewed (adjudicated)"] * 2
        first = store.get_gold(ids[0])
        alice, bob = (store.gold_versions(ids[0])[a] for a in ("alice", "bob"))
        assert (first.priority, first.patient.age) == (alice.priority, bob.patient.age)
        assert store.get_gold(ids[1]) == store.gold_versions(ids[1])["bob"]
        assert all(store.status(i) == "reviewed" for i in [*ids, *_more])


class StoreProxy:
    """The store as the app sees it, with a method or two changed by a test."""

    def __init__(self, store) -> None:
        self._store = store

    def __getattr__(self, name: str):
        return getattr(self._store, name)


class SlowStore(StoreProxy):
    """The store, with the reading of one letter held until the test lets it go."""

    def __init__(self, store, slow_id: str) -> None:
        super().__init__(store)
        self._slow_id = slow_id
        self.reading, self.release = threading.Event(), threading.Event()

    def get_letter(self, letter_id: str):
        if letter_id == self._slow_id:
            self.reading.set()
            assert self.release.wait(30)
        return self._store.get_letter(letter_id)


async def test_keys_typed_while_the_next_letter_opens_go_to_it(tmp_path):
    path = tmp_path / "s.json"
    ids = _adjudication_store(path, 2)
    with Store.open(path, annotator="carol") as store:
        slow = SlowStore(store, ids[1])
        app = ReviewApp(slow, "carol", plan(store, "carol", review=False))
        async with app.run_test(size=(80, 24)) as pilot:
            # The second letter is read once the first is shown: wait for that read to start.
            assert await asyncio.to_thread(slow.reading.wait, 30)
            await pilot.pause()
            assert isinstance(app.screen, AdjudicateScreen)
            await pilot.press("a", "a", "ctrl+g", "b", "b", "ctrl+g")
            assert isinstance(app.screen, WaitScreen)
            assert [k.key for k in app.screen.held] == ["b", "b", "ctrl+g"]
            # A dialog over the waiting screen (the palette, say): the letter waits for it.
            await app.push_screen(HelpScreen(app.screen))
            slow.release.set()
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, DoneScreen)
        assert store.get_gold(ids[0]) == store.gold_versions(ids[0])["alice"]
        assert store.get_gold(ids[1]) == store.gold_versions(ids[1])["bob"]


class RefusingStore(StoreProxy):
    """The store, refusing to write a final record (a full disk, say)."""

    def set_final(self, *args, **kwargs):
        raise StoreError("no space left on the device")


async def test_a_save_the_store_refuses_is_said_and_the_session_goes_on(tmp_path):
    path = tmp_path / "s.json"
    ids = _store(path, 2)
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(RefusingStore(store), "carol", plan(store, "carol"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+b", "ctrl+g")
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen)  # the second letter
            await pilot.press("ctrl+n")
            await settle(pilot)
            done = str(app.screen.query_one("#review-done").render())
            assert "not saved: no space left on the device" in done
        assert [o[2] for o in app.outcomes] == ["not saved: no space left on the device", "skipped"]
        assert [store.status(i) for i in ids] == ["gold", "gold"]


async def test_quitting_waits_for_the_letter_being_saved(tmp_path):
    """Ctrl+Q straight after Ctrl+G: the store is closed only once the letter is written."""
    path = tmp_path / "s.json"
    ids = _store(path, 2)
    quitting = threading.Event()

    class GatedStore(StoreProxy):
        def set_final(self, *args, **kwargs):
            assert quitting.wait(30)  # still writing when the reviewer quits
            return self._store.set_final(*args, **kwargs)

    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(GatedStore(store), "carol", plan(store, "carol"))
        quit_ = app.action_quit

        async def quit_and_say_so() -> None:
            quitting.set()
            await quit_()

        app.action_quit = quit_and_say_so  # type: ignore[method-assign]
        exit_ = app.exit
        at_exit = []

        def exit_noting_the_status(*args, **kwargs) -> None:
            at_exit.append(store.status(ids[0]))
            exit_(*args, **kwargs)

        app.exit = exit_noting_the_status  # type: ignore[method-assign]
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+b", "ctrl+g", "ctrl+q")
        assert at_exit[0] == "reviewed"
        assert app.outcomes == [("review", store.summary(ids[0]).name, "reviewed")]
        assert store.status(ids[0]) == "reviewed"


class ThreadWatch(StoreProxy):
    """The store, noting every call made on the thread that runs the event loop."""

    def __init__(self, store) -> None:
        super().__init__(store)
        self.on_loop: list[str] = []

    def __getattr__(self, name: str):
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if threading.current_thread() is threading.main_thread():
                self.on_loop.append(name)
            return attribute(*args, **kwargs)

        return call


async def test_the_store_is_read_and_written_in_workers_only(tmp_path):
    path = tmp_path / "s.json"
    ids = _store(path, 2)
    with Store.open(path, annotator="bob") as store:
        record = store.get_gold(ids[1], annotator="alice")
        store.put_gold(record.model_copy(update={"case_number": "CM99-99999"}), "bob")
        store.set_status(ids[1], "adjudication")
    with Store.open(path, annotator="carol") as store:
        tasks = plan(store, "carol")
        expected = [("review", ids[0]), ("adjudicate", ids[1])]
        assert [(t.kind, t.letter_id) for t in tasks] == expected
        watched = ThreadWatch(store)
        app = ReviewApp(watched, "carol", tasks)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+n", "2", "ctrl+g")
            await settle(pilot)
            assert isinstance(app.screen, DoneScreen)
        assert watched.on_loop == []
        assert [o[2] for o in app.outcomes] == ["skipped", "reviewed (adjudicated)"]
        assert store.get_gold(ids[1]).case_number == "CM99-99999"


async def test_review_keys_are_listed_remappable_and_in_the_footer(tmp_path, capsys):
    assert main(["keys", "--json"]) == 0
    listed = {json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()}
    assert {"review.confirm", "review.finish", "adjudicate.take_1", "qa.next_field"} <= listed
    keymap_path().parent.mkdir(parents=True, exist_ok=True)
    keymap_path().write_text('[keys]\n"review.finish" = "f9"\n')
    path = tmp_path / "s.json"
    [lid] = _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            footer = str(app.screen.query_one(KeyFooter).render())
            assert "f1 Help" in " ".join(footer.split()) and "Confirm" in footer
            assert "f9" in footer and "^g" not in footer
            await pilot.press("ctrl+b", "ctrl+g")  # the old key does nothing now
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen)
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.pause()
            assert "Reviewing a record" in str(app.screen.query_one("#help-workflow").render())
            console = Console(width=200, record=True)
            console.print(bindings_table(app.screen_stack[-2]))
            lines = console.export_text().splitlines()
            assert next(line for line in lines if "Done+next" in line).split()[0] == "f9"
            await pilot.press("escape", "f9")
            await settle(pilot)
            assert isinstance(app.screen, DoneScreen)
        assert store.status(lid) == "reviewed"


# -- the pure parts: provenance and column widths ----------------------------------------------


def test_provenance_reads_the_draft_kept_with_the_gold_record():
    _, proposal = _letter_with(2)
    draft = Draft(proposal)
    draft.confirm("case_number")
    draft.set_value(
        "priority", "expedited" if proposal.get("priority").value != "expedited" else "standard"
    )
    draft.confirm("diagnoses", 0)
    draft.confirm("decision_date")
    values = flatten(draft.proposal.to_record())
    values["decision_date"] = "1999-01-01"  # edited after the draft was kept
    found = provenance(values, draft.proposal, proposal)
    n = len(proposal.get("diagnoses").value)
    assert found["case_number"] == Provenance("confirmed")
    assert found["priority"] == Provenance("corrected")
    assert found["diagnoses"] == Provenance("confirmed", 1, n) and found["diagnoses"].partly
    assert found["date_of_injury"] == Provenance("machine")
    assert found["decision_date"] == Provenance("corrected")
    # No draft at all (a version put in whole): the machine's values confirmed, others written.
    whole = provenance(values, Proposal.from_record(draft.proposal.to_record()), proposal)
    assert whole["case_number"] == Provenance("confirmed")
    assert whole["priority"] == whole["decision_date"] == Provenance("corrected")
    assert provenance(values, None, None)["case_number"] == Provenance("corrected")
    assert voucher(found["diagnoses"], "alice", None, "carol") == (f"alice 1/{n}", "person")
    assert voucher(found["date_of_injury"], "alice", None, "carol") == ("machine", "machine")
    assert voucher(found["date_of_injury"], "alice", "corrected", "carol") == ("carol ✎", "person")


def test_sized_columns_are_never_cut_and_fill_columns_share_the_rest():
    columns = [Column("field", cap=16), Column("1 alice", fill=1), Column("2 bob", fill=1),
               Column("chosen")]  # fmt: skip
    rows = [[Text("patient age"), Text("x" * 50), Text("y" * 50), Text("✎ a-long-adjudicator")]]
    widths = column_widths(columns, rows, 60)
    assert widths[0] == len("patient age") and widths[3] == len("✎ a-long-adjudicator")
    assert widths[1] == widths[2] == (60 - 1 - 3 - widths[0] - widths[3]) // 2
    assert column_widths(columns, rows, 20)[1] == MIN_FILL  # too narrow: the table scrolls
    assert fit(Text("abcdef"), 4).plain == "abc…" and fit(Text("ab"), 4).plain == "ab  "


async def test_the_letter_reads_as_in_annotate_find_raw_and_width(tmp_path):
    """Review shares annotate's letter keys: find with its hits, the raw letter, the width."""
    from textual import events

    from imrgold.tui.widgets.letter_view import LetterView

    path = tmp_path / "s.json"
    _store(path, 1)
    with Store.open(path, annotator="carol") as store:
        app = ReviewApp(store, "carol", plan(store, "carol"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            view, status = screen.query_one(LetterView), screen.query_one(StatusLine)
            await pilot.press("ctrl+f", *"reviewer", "enter", "enter", "up")
            await settle(pilot)
            assert "hit 1 of" in str(status.render()) and "Ctrl+T" not in str(status.render())
            await pilot.press("escape")
            await settle(pilot)
            assert not screen.finding and not screen.query_one("#find").display
            app.post_message(events.Key("alt+r", "r"))  # ESC r, as tmux sends it
            await settle(pilot)
            assert not view.clean and "as ingested" in str(status.render())
            letter = screen.query_one("#letter-pane")
            before = letter.size.width
            await pilot.press("alt+w")
            await settle(pilot)
            assert letter.size.width > before
