"""The annotation interface driven as an annotator drives it: keys only, real letters, a real
store in tmp_path."""

from __future__ import annotations

import itertools
import re
import shutil
from functools import partial

import pytest
from rich.console import Console

from imrgold.cli.commands.annotate import bundled_letters, ingest_files
from imrgold.core import icd10
from imrgold.core.lexicon import Candidate
from imrgold.core.models import Span
from imrgold.store import Store
from imrgold.tui.app import ImrGoldApp
from imrgold.tui.screens.annotate import AnnotateScreen
from imrgold.tui.screens.choice_menu import ChoiceMenu
from imrgold.tui.screens.comment import CommentScreen
from imrgold.tui.screens.confirm import ConfirmScreen
from imrgold.tui.screens.help import HelpScreen, bindings_table, ours
from imrgold.tui.screens.queue import QueueScreen
from imrgold.tui.widgets.field_editor import FieldEditor
from imrgold.tui.widgets.field_table import FieldTable
from imrgold.tui.widgets.key_footer import KeyFooter
from imrgold.tui.widgets.letter_view import LetterView
from imrgold.tui.widgets.queue_table import QueueTable
from imrgold.tui.widgets.status_line import StatusLine
from imrgold.tui.widgets.suggestions import Suggestions

N_LETTERS = 4


class FakeLexicon:
    """Answers from a fixed table, so these tests are about the interface, not the ranking."""

    PRODUCTS = {
        "norco": ["acetaminophen", "hydrocodone"],
        "naproxen": ["naproxen"],
        "theramine": [],
    }

    def __init__(self) -> None:
        self.learned: list[tuple[str, str]] = []

    def suggest(self, query, letter_text=None, limit=10):
        q = query.lower()
        return [
            Candidate(
                name=n.title(),
                score=90.0,
                generics=g,
                origin="supplement",
                source=None if g else "Medical food (GOLD_CONVENTIONS.md: drugs [])",
            )
            for n, g in self.PRODUCTS.items()
            if n.startswith(q)
        ][:limit]

    def learn(self, alias, name):
        self.learned.append((alias, name))

    def read_drugs(self, text):
        q = text.lower().strip()
        if q in self.PRODUCTS:
            return list(self.PRODUCTS[q]), []
        generics = {g for gs in self.PRODUCTS.values() for g in gs}
        return ([q], []) if q in generics else ([], q.split())

    def learn_from_items(self, items, letter_text=None):
        return []


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("IMRGOLD_DB", str(tmp_path / "env-db" / "imrgold.json"))
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "tester")
    return tmp_path


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """Ingested once (extraction is the slow part); each test works on its own copy."""
    path = tmp_path_factory.mktemp("template") / "db" / "imrgold.json"
    with Store.open(path, annotator="tester") as store:
        ingest_files(store, bundled_letters()[:N_LETTERS])
    return path


@pytest.fixture
def db(env, template_db):
    shutil.copytree(template_db.parent, env / "db")
    return env / "db" / template_db.name


@pytest.fixture
def store(db):
    with Store.open(db, annotator="tester") as opened:
        yield opened


def make_app(store, **kw) -> ImrGoldApp:
    kw.setdefault("lexicon", FakeLexicon())
    return ImrGoldApp(store, store_label="test store", **kw)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_letter(pilot, row: int = 0, *, queue_row: int | None = None) -> AnnotateScreen:
    """Open the store's ``row``-th letter (the queue is in its own order: most doubt first),
    or the queue's ``queue_row``-th."""
    await settle(pilot)
    table = pilot.app.screen.query_one(QueueTable)
    if queue_row is None:
        queue_row = table.letter_ids.index(pilot.app.store.letter_ids()[row])
    table.move_cursor(row=queue_row)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AnnotateScreen)
    return screen


async def go_to(pilot, screen: AnnotateScreen, key: str) -> None:
    """Walking there key by key is tested once; elsewhere jump, to keep the suite quick."""
    assert screen.focus_field(key)
    await pilot.pause()
    # A list walked element by element (drugs) is reached at its first element.
    assert screen.current in (key, f"{key}#0")


async def type_value(pilot, text: str) -> None:
    await pilot.press("ctrl+u", *text) if text else await pilot.press("ctrl+u")


async def suggestions_for(pilot, screen: AnnotateScreen, typed: str) -> Suggestions:
    """Type into the first item's drugs and wait for the suggestions."""
    await go_to(pilot, screen, "items.0.drugs")
    await type_value(pilot, typed)
    await settle(pilot)
    return screen.query_one(Suggestions)


def with_machine_rows(screen: AnnotateScreen):
    return [r for r in screen.rows if r.spans and r.state == "machine" and r.path != "diagnoses"]


# -- queue --------------------------------------------------------------------------------


async def test_queue_lists_every_letter_with_progress_filter_and_search(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        table = screen.query_one(QueueTable)
        summaries = store.summaries()
        assert sorted(table.letter_ids) == sorted(s.letter_id for s in summaries)
        assert str(screen.query_one("#progress-label").render()) == f"0 of {N_LETTERS} gold"

        target = summaries[-1]
        await pilot.press("slash", *target.name[:-4])
        await settle(pilot)
        assert table.letter_ids == [target.letter_id]
        await pilot.press("escape")
        await settle(pilot)
        assert len(table.letter_ids) == N_LETTERS

        store.set_status(summaries[0].letter_id, "flagged", "odd layout")
        await pilot.press("f5")  # reload (Ctrl+R is Flag, in a letter)
        await settle(pilot)
        for _ in ("new", "in_progress", "gold", "in_review", "flagged"):
            await pilot.press("s")
        await settle(pilot)
        assert table.letter_ids == [summaries[0].letter_id]
        await pilot.press("slash", *"odd")
        await settle(pilot)
        assert table.letter_ids == [summaries[0].letter_id]


async def test_enter_opens_the_letter_and_escape_returns(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot, 1)
        lid = screen.letter_id
        assert lid == store.summaries()[1].letter_id
        assert screen.letter.text == store.get_letter(lid).text
        assert screen.draft.proposal == store.get_proposal(lid)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


# -- fields and the letter ---------------------------------------------------------------


async def test_focusing_a_field_marks_its_span_and_scrolls_it_into_view(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        view = screen.query_one(LetterView)
        # The last proposed value with a span is far down the letter: it must scroll there.
        row = with_machine_rows(screen)[-1]
        await go_to(pilot, screen, row.key)
        await pilot.pause()
        assert view.marked == row.spans[0]
        y = view.wrapped_document.location_to_offset(view.location(row.spans[0].start)).y
        top = view.scroll_offset.y
        assert top <= y < top + view.scrollable_content_region.height
        await pilot.press("f2")  # into the letter: the cursor starts at the field's value
        assert view.cursor_location == view.location(row.spans[0].start)


def _marked_lines(view: LetterView) -> set[int]:
    """Visible lines drawn with the focused field's mark, as the screen shows them."""
    mark = view.style_of("mark").bgcolor
    found = set()
    for y in range(view.scrollable_content_region.height):
        strip = view.render_line(y)
        if any(seg.style and seg.style.bgcolor == mark for seg in strip):
            found.add(view.scroll_offset.y + y)
    return found


async def test_the_mark_moves_with_the_field_and_leaves_nothing_behind(store):
    """Only the lines whose mark changes are drawn again: the one left must lose it."""
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        view = screen.query_one(LetterView)
        rows = [r for r in with_machine_rows(screen) if len(r.spans) == 1][:6]
        for before, after in itertools.pairwise(rows):
            await go_to(pilot, screen, before.key)
            await pilot.pause()
            line = view.wrapped_document.location_to_offset(view.location(before.spans[0].start)).y
            assert line in _marked_lines(view)
            await go_to(pilot, screen, after.key)
            await pilot.pause()
            target = view.wrapped_document.location_to_offset(view.location(after.spans[0].start))
            marked = _marked_lines(view)
            assert target.y in marked
            same = view.location(before.spans[0].start)[0] == view.location(after.spans[0].start)[0]
            assert same or line not in marked


async def test_edit_keeps_a_draft_at_once_and_reopening_restores_it(db):
    with Store.open(db, annotator="tester") as store:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_letter(pilot)
            lid = screen.letter_id
            await go_to(pilot, screen, "decision_date")
            await type_value(pilot, "2020-02-29")
            await pilot.press("enter")
            await settle(pilot)
            assert screen.current != "decision_date"
            draft = store.get_draft(lid)
            assert draft.get("decision_date").value == "2020-02-29"
            assert draft.get("decision_date").state == "corrected"
            assert store.status(lid) == "in_progress"
            assert store.get_gold(lid) is None
            # Typed but not entered when the annotator quits: kept all the same.
            await go_to(pilot, screen, "case_number")
            await type_value(pilot, "CM00-0000042")
            await pilot.press("ctrl+q")
        assert store.get_draft(lid).get("case_number").value == "CM00-0000042"
    with Store.open(db, annotator="tester") as store:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_letter(pilot)
            assert screen.draft.proposal.get("decision_date").value == "2020-02-29"
            assert "draft restored" in str(screen.query_one("#status-line").render())


async def test_invalid_value_is_refused_with_a_message(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        before = screen.draft.proposal.get("patient.age")
        await go_to(pilot, screen, "patient.age")
        await type_value(pilot, "forty")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.current == "patient.age"
        assert "whole number" in str(screen.query_one("#editor-label").render())
        assert screen.draft.proposal.get("patient.age") == before


async def test_walking_the_fields_with_up_and_down(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        keys = [r.key for r in screen.rows]
        choice = next(i for i, r in enumerate(screen.rows) if r.path == "priority")
        for expected in keys[1 : choice + 2]:  # through a choice field and out of it
            await pilot.press("down")
            assert screen.current == expected
        await pilot.press("up")
        assert screen.current == keys[choice]


async def test_next_prev_field_and_next_low_confidence(store):
    lid = store.summaries()[0].letter_id
    proposal = store.get_proposal(lid)
    fields = dict(proposal.fields)
    fields["reviewer.licensure"] = proposal.get("reviewer.licensure").model_copy(
        update={"confidence": 0.2}
    )
    store.put_proposal(proposal.model_copy(update={"fields": fields}))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        keys = [r.key for r in screen.rows]
        assert screen.current == keys[0]
        await pilot.press("tab", "tab")
        assert screen.current == keys[2]
        await pilot.press("shift+tab")
        assert screen.current == keys[1]
        await pilot.press("ctrl+l")
        assert screen.current == "reviewer.licensure" or screen._row(screen.current).low
        low = [r.key for r in screen.rows if r.low]
        assert screen.current == low[0] if low[0] != keys[0] else low[1]


async def test_confirm_field_confirm_all_undo_redo(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        lid = screen.letter_id
        first = screen.current
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert screen.draft.proposal.get(first).state == "confirmed"
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert all(screen.draft.proposal.get(p).confirmed for p in screen.draft.proposal.paths())
        assert store.get_draft(lid).get(screen.draft.proposal.paths()[-1]).confirmed
        await pilot.press("ctrl+z")
        await settle(pilot)
        paths = screen.draft.proposal.paths()
        assert not all(screen.draft.proposal.get(p).confirmed for p in paths)
        assert screen.draft.proposal.get(first).confirmed
        await pilot.press("ctrl+z")
        assert not screen.draft.proposal.get(first).confirmed
        await pilot.press("ctrl+y", "ctrl+y")
        await settle(pilot)
        assert all(screen.draft.proposal.get(p).confirmed for p in paths)
        assert all(store.get_draft(lid).get(p).confirmed for p in paths)


async def test_decision_is_a_choice(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.decision")
        old = screen.draft.proposal.get("items.0.decision").value
        other = "overturned" if old != "overturned" else "upheld"
        await pilot.press("space")  # opens the choices
        await pilot.pause()
        await pilot.press(*other[:2])  # type to search
        await pilot.press("enter")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.decision").value == other
        assert store.get_draft(screen.letter_id).get("items.0.decision").value == other


async def test_enter_on_a_choice_field_confirms_it_and_moves_on(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.decision")
        before = screen.draft.proposal.get("items.0.decision")
        await pilot.press("enter")
        await settle(pilot)
        after = screen.draft.proposal.get("items.0.decision")
        assert after.value == before.value and after.confirmed and after.source == "machine"
        assert screen.current == "items.0.category"
        assert not isinstance(app.screen, ChoiceMenu)


@pytest.mark.parametrize("burst", [10, 25, 100])
async def test_a_burst_of_enters_confirms_each_row_passed_and_changes_no_value(store, burst):
    """Enters sent all at once, faster than the screen moves on: each confirms the row it
    lands on and moves one row; no row gets another row's text."""
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        keys = [r.key for r in screen.rows]
        start = keys[1]
        await go_to(pilot, screen, start)
        before = {p: f.value for p, f in screen.draft.proposal.fields.items()}
        for _ in range(burst):
            app.post_message(events.Key("enter", "\r"))
        await settle(pilot)
        after = screen.draft.proposal.fields
        assert {p: f.value for p, f in after.items()} == before
        walked = keys[1 : 1 + burst] if burst < len(keys) - 1 else keys[1:]
        for key in walked:
            path = key.partition("#")[0]
            assert after[path].confirmed, key
        if 1 + burst < len(keys):
            assert screen.current == keys[1 + burst]


async def test_add_remove_and_reorder_items_and_diagnoses(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        n = screen.draft.proposal.n_items
        request0 = screen.draft.proposal.get("items.0.request").value
        await pilot.press("alt+i")
        await settle(pilot)
        assert screen.draft.proposal.n_items == n + 1 and screen.current == "items.1.request"
        await type_value(pilot, "Physical therapy x6")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.draft.proposal.get("items.1.request").value == "Physical therapy x6"
        await go_to(pilot, screen, "items.1.request")
        await pilot.press("alt+up")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.request").value == "Physical therapy x6"
        assert screen.draft.proposal.get("items.1.request").value == request0
        await pilot.press("alt+down", "alt+up")
        await settle(pilot)
        assert screen.current == "items.0.request"
        assert screen.draft.proposal.get("items.0.request").value == "Physical therapy x6"
        await pilot.press("alt+x")
        await settle(pilot)
        assert screen.draft.proposal.n_items == n
        assert screen.draft.proposal.get("items.0.request").value == request0

        diagnoses = list(screen.draft.proposal.get("diagnoses").value)
        await pilot.press("alt+d")
        await settle(pilot)
        await type_value(pilot, "lumbar strain")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.draft.proposal.get("diagnoses").value == [*diagnoses, "lumbar strain"]
        await go_to(pilot, screen, f"diagnoses#{len(diagnoses)}")
        if diagnoses:
            await pilot.press("alt+up")
            await settle(pilot)
            assert screen.draft.proposal.get("diagnoses").value[-2] == "lumbar strain"
        await pilot.press("alt+x")
        await settle(pilot)
        assert screen.draft.proposal.get("diagnoses").value == diagnoses
        assert store.get_draft(screen.letter_id).get("diagnoses").value == diagnoses


async def test_find_in_letter_and_take_text_with_its_span(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        text = screen.letter.text
        word = next(w for w in text.split() if w.isalpha() and len(w) > 6)
        start = text.lower().find(word.lower())
        await go_to(pilot, screen, "items.0.frequency")
        await pilot.press("ctrl+f", *word, "enter")
        await pilot.press("ctrl+t")
        await settle(pilot)
        field = screen.draft.proposal.get("items.0.frequency")
        assert field.value == text[start : start + len(word)]
        assert field.spans == [Span(start=start, end=start + len(word))]
        assert field.state == "corrected"
        assert not screen.query_one("#find").display


async def test_cursor_selection_in_the_letter_fills_the_field(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        free_text = ("case_number", "request", "rationale")
        row = next(r for r in with_machine_rows(screen) if r.path.endswith(free_text))
        await go_to(pilot, screen, row.key)
        await pilot.press("f2")  # the cursor sits at the start of the field's span
        assert app.focused is screen.query_one(LetterView)
        await pilot.press(*["shift+right"] * 3)
        await pilot.press("enter")  # in the letter, Enter takes the selection as Ctrl+T does
        await settle(pilot)
        assert app.focused is not screen.query_one(LetterView)
        await pilot.press("f2", "slash")
        assert app.focused is screen.query_one("#find")
        start = row.spans[0].start
        field = screen.draft.proposal.get(row.path)
        assert field.spans == [Span(start=start, end=start + 3)]


async def test_drug_suggestions_appear_as_you_type_and_a_key_accepts(store):
    lexicon = FakeLexicon()
    app = make_app(store, lexicon=lexicon)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        suggestions = await suggestions_for(pilot, screen, "nor")
        assert suggestions.shown and [c.name for c in suggestions.candidates] == ["Norco"]
        await pilot.press("enter")  # takes the highlighted candidate
        await settle(pilot)
        assert screen.query_one(FieldEditor).text == "acetaminophen; hydrocodone"
        assert not suggestions.shown
        assert lexicon.learned == [("nor", "Norco")]
        await pilot.press("enter")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.drugs").value == ["acetaminophen", "hydrocodone"]


async def test_a_medical_food_adds_no_drug_and_the_status_line_says_so(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        suggestions = await suggestions_for(pilot, screen, "naproxen; thera")
        assert [c.name for c in suggestions.candidates] == ["Theramine"]
        await pilot.press("enter")
        await settle(pilot)
        assert screen.query_one(FieldEditor).text == "naproxen"
        status = str(screen.query_one("#status-line").render())
        assert "Theramine is a medical food: nothing added to drugs" in status
        await pilot.press("enter")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.drugs").value == ["naproxen"]


@pytest.fixture(scope="module")
def lexicon_cache(tmp_path_factory):
    return tmp_path_factory.getbasetemp() / "lexicon-cache"


async def test_drugs_corrected_then_marked_gold_teach_the_lexicon(store, lexicon_cache, tmp_path):
    from imrgold.core.lexicon import Lexicon

    lexicon = Lexicon(
        cache_dir=lexicon_cache,
        user_supplement=tmp_path / "drug_supplement.json",
        learned=tmp_path / "learned_drugs.json",
    )
    misspelt = "Cyclopean"

    app = make_app(store, lexicon=lexicon)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        before = (await suggestions_for(pilot, screen, misspelt)).candidates[0]
        assert (before.name, before.origin) != (misspelt, "learned")
        await type_value(pilot, "cyclobenzaprine")
        await go_to(pilot, screen, "items.0.request")
        await type_value(pilot, f"{misspelt} 5% PLO gel 120 g")
        await go_to(pilot, screen, "case_number")
        assert screen.draft.proposal.get("items.0.drugs").value == ["cyclobenzaprine"]
        assert screen.draft.proposal.get("items.0.request").value == f"{misspelt} 5% PLO gel 120 g"
        await pilot.press("ctrl+g", "y")  # gold, though fields are left unchecked
        await settle(pilot)
        assert screen.letter_id != store.gold_records()[0].letter_id  # the next letter is open
        after = (await suggestions_for(pilot, screen, misspelt)).candidates[0]
        assert (after.name, after.generics, after.origin) == (
            misspelt,
            ["cyclobenzaprine"],
            "learned",
        )


async def test_real_lexicon_suggests_generics_for_a_brand(store):
    app = ImrGoldApp(store, store_label="test store")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        candidates = (await suggestions_for(pilot, screen, "Fexmid")).candidates
        assert any("cyclobenzaprine" in c.generics for c in candidates[:3])


# -- the letter as a whole ---------------------------------------------------------------


async def test_mark_gold_stores_the_record_and_opens_the_next(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        lid = screen.letter_id
        await go_to(pilot, screen, "case_number")
        await type_value(pilot, "CM99-0000001")
        await pilot.press("ctrl+g")
        await settle(pilot)
        # The gate asks about the unchecked fields, in place; Enter (pressed on at speed) is no,
        # and keys meant for the field are not typed into it meanwhile.
        status = screen.query_one(StatusLine)
        # The focus stays in the field (moving it to the line and back restyled the pane).
        editor_box = app.focused
        assert status.asking and editor_box is not status
        assert "unchecked" in str(status.render())
        await pilot.press("x", "Y", "1")
        assert status.asking and screen.query_one(FieldEditor).text == "CM99-0000001"
        await pilot.press("enter")
        await settle(pilot)
        assert store.get_gold(lid) is None and screen.letter_id == lid
        assert not status.asking and app.focused is editor_box
        await pilot.press("ctrl+g", "y")
        await settle(pilot)
        gold = store.get_gold(lid)
        assert gold is not None and gold.case_number == "CM99-0000001"
        assert store.status(lid) == "gold"
        assert screen.letter_id != lid and screen.letter.letter_id == screen.letter_id
        # Said on the next letter's status line, once (no toast over the letter being drawn).
        name = store.summary(lid).name
        assert f"{name} marked gold" in str(status.render())
        await go_to(pilot, screen, "priority")
        await pilot.press("enter")
        await settle(pilot)
        assert "marked gold" not in str(status.render())
        await pilot.press("escape")
        await settle(pilot)
        label = str(app.screen.query_one("#progress-label").render())
        assert label == f"1 of {N_LETTERS} gold"


async def test_next_prev_letter_and_skip_past_gold(store):
    ids = [s.letter_id for s in store.summaries()]
    gold_one = ids[1]
    store.mark_gold(store.get_proposal(gold_one))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot, queue_row=0)
        order = list(screen.order)
        assert screen.letter_id == order[0]
        await pilot.press("alt+right")
        await settle(pilot)
        assert screen.letter.letter_id == order[1]
        await pilot.press("alt+left")
        await settle(pilot)
        assert screen.letter.letter_id == order[0]
        await pilot.press("ctrl+n")
        await settle(pilot)
        needing = [i for i in order[1:] if store.status(i) in ("new", "in_progress")]
        assert screen.letter.letter_id == needing[0]


async def test_save_key_writes_the_draft(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.route")
        await type_value(pilot, "topical")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.get_draft(screen.letter_id).get("items.0.route").value == "topical"


async def test_flag_with_a_comment(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, CommentScreen)
        await pilot.press(*"two letters in one [sic]", "enter")
        await settle(pilot)
        summary = store.summary(screen.letter_id)
        assert summary.status == "flagged" and summary.comment == "two letters in one [sic]"
        # Reopened later, the letter says why it was flagged.
        flagged = screen.letter_id
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.letter_id == flagged
        status = str(app.screen.query_one("#status-line").render())
        assert "flagged: two letters in one [sic]" in status


async def test_help_screen_and_command_palette_list_the_bindings(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True)
        console.print(bindings_table(screen))
        shown = console.export_text()
        assert "Escape closes this help" in str(app.screen.query("Static").last().render())
        descriptions = {b.binding.description for b in screen.active_bindings.values() if ours(b)}
        for description in ("Gold+next", "Undo", "Take", "Add item", "Flag"):
            assert description in descriptions
        for description in descriptions - {""}:
            assert description in shown, description
        await pilot.press("escape")
        assert app.screen is screen
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"Gold+next", "Confirm all", "Low-conf", "Skip"} <= titles


async def test_palette_command_runs_the_action(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        command = next(c for c in app.get_system_commands(screen) if c.title == "Confirm all")
        await command.callback()
        await settle(pilot)
        assert all(screen.draft.proposal.get(p).confirmed for p in screen.draft.proposal.paths())


# -- an empty store ----------------------------------------------------------------------


async def test_empty_store_offers_the_bundled_letters(env):
    with Store.open(env / "empty" / "imrgold.json", annotator="tester") as store:
        offer = bundled_letters()[:2]
        app = make_app(store, offer=offer, ingest=partial(ingest_files, store))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await settle(pilot)
            assert len(app.screen.query_one(QueueTable).letter_ids) == 2
        assert len(store.letter_ids()) == 2


def test_cli_fills_a_fresh_default_store_and_refuses_a_held_one(env, monkeypatch):
    from imrgold.cli.main import main
    from imrgold.store.paths import default_db_path

    monkeypatch.delenv("IMRGOLD_DB")
    ran = []
    monkeypatch.setattr(ImrGoldApp, "run", lambda self: ran.append(self))
    assert main(["annotate"]) == 0
    with Store.open(default_db_path(), read_only=True) as store:
        assert len(store.letter_ids()) == len(bundled_letters())
    assert ran and ran[0].store_label.endswith("tester")

    held = env / "held" / "imrgold.json"
    with Store.open(held, annotator="someone"):
        assert main(["annotate", "--db", str(held)]) == 2
        assert main(["annotate", "--db", str(held), "--read-only"]) == 0
    assert ran[-1].read_only


async def test_gold_is_refused_while_the_record_is_invalid(store):
    lid = store.summaries()[0].letter_id
    proposal = store.get_proposal(lid)
    fields = dict(proposal.fields)
    fields["patient.age"] = proposal.get("patient.age").model_copy(update={"value": 200})
    store.put_proposal(proposal.model_copy(update={"fields": fields}))
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert store.get_gold(lid) is None and store.status(lid) != "gold"
        assert screen.letter_id == lid
        assert any("patient.age" in n.message for n in app._notifications)


async def test_suggestion_keys_move_and_dismiss(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        suggestions = await suggestions_for(pilot, screen, "n")
        assert [c.name for c in suggestions.candidates] == ["Norco", "Naproxen"]
        assert suggestions.chosen() is None  # a tie: nothing for a fast Enter to take
        await pilot.press("down", "down")  # moves in the list, not to the next field
        assert screen.current == "items.0.drugs#0"
        await pilot.press("enter")
        assert screen.query_one(FieldEditor).text == "naproxen"
        await pilot.press(*"; n")
        await settle(pilot)
        assert suggestions.shown
        await pilot.press("escape")  # hides the list, stays on the letter
        assert not suggestions.shown and isinstance(app.screen, AnnotateScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.drugs").value == ["n", "naproxen"]


async def test_queue_cursor_keys(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(QueueTable)
        await pilot.press("end")
        assert table.cursor_row == N_LETTERS - 1
        await pilot.press("home", "down")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        assert table.cursor_row == N_LETTERS - 1
        await pilot.press("pageup", "up")
        assert table.cursor_row == 0


async def test_gold_is_refused_for_an_item_without_a_decision_and_the_cursor_goes_there(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        lid = screen.letter_id
        await pilot.press("alt+i")  # a blank item at the end
        await settle(pilot)
        blank = screen.draft.proposal.n_items - 1
        await go_to(pilot, screen, f"items.{blank}.request")
        await type_value(pilot, "Norco 10/325 #60")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert store.get_gold(lid) is None and not screen.query_one(StatusLine).asking
        assert screen.current == f"items.{blank}.decision"
        assert any(f"item {blank + 1} has no decision" in n.message for n in app._notifications)


@pytest.mark.parametrize("as_sent", ["alt key", "esc then key"])
async def test_alt_keys_act_and_type_nothing_however_the_terminal_sends_them(store, as_sent):
    """tmux and xterm send Alt+I as ESC followed by i, which Textual reads as a printable
    "alt+i": the field being typed in must not get the letter."""
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.strength")
        await type_value(pilot, "5%")
        n_items = screen.draft.proposal.n_items
        if as_sent == "alt key":
            await pilot.press("alt+i")
        else:
            app.post_message(events.Key("alt+i", "i"))  # what the parser makes of ESC i
        await settle(pilot)
        assert screen.draft.proposal.n_items == n_items + 1
        assert screen.draft.proposal.get("items.0.strength").value == "5%"


async def test_a_multi_line_paste_comes_in_whole_with_its_breaks_folded(store):
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.rationale")
        await type_value(pilot, "")
        app.screen.focused.post_message(
            events.Paste("The request is not\nmedically necessary.\r\nSee MTUS.")
        )
        await pilot.press("enter")
        await settle(pilot)
        value = screen.draft.proposal.get("items.0.rationale").value
        assert value == "The request is not medically necessary. See MTUS."


async def test_gold_on_the_last_letter_opens_the_first_that_still_needs_work(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot, queue_row=N_LETTERS - 1)  # the queue's last
        last = screen.letter_id
        first = screen.order[0]
        await pilot.press("ctrl+g", "y")
        await settle(pilot)
        assert store.status(last) == "gold"
        assert isinstance(app.screen, AnnotateScreen) and screen.letter_id == first


async def test_escape_returns_to_the_queue_on_the_letter_last_open(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot, row=0)
        await pilot.press("alt+right")  # next letter
        await settle(pilot)
        second = screen.letter_id
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one(QueueTable)
        assert table.current_id() == second


async def test_the_gold_count_keeps_reviewed_letters(store):
    """A letter that went through review is still gold: the count never goes back."""
    lid = store.summaries()[0].letter_id
    store.mark_gold(store.get_proposal(lid))
    store.set_status(lid, "reviewed")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        label = str(app.screen.query_one("#progress-label").render())
        assert label == f"1 of {N_LETTERS} gold"


# -- ICD-10-CM suggestions -------------------------------------------------------------------


async def _diagnosis_row(pilot, screen: AnnotateScreen) -> tuple[str, int]:
    """The first diagnosis of the letter (one is added when it has none)."""
    found = [r for r in screen.rows if r.path == "diagnoses"]
    if not found:
        await pilot.press("alt+d")
        await settle(pilot)
        found = [r for r in screen.rows if r.path == "diagnoses"]
    assert found and found[0].index is not None
    return found[0].key, found[0].index


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_diagnosis_typed_gets_icd10_codes_and_enter_takes_a_clear_lead(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        screen = await open_letter(pilot)
        key, index = await _diagnosis_row(pilot, screen)
        await go_to(pilot, screen, key)
        before = screen.draft.proposal.model_copy(deep=True)
        await type_value(pilot, "lumbar strain")
        await settle(pilot)
        suggestions = screen.query_one(Suggestions)
        assert suggestions.shown and suggestions.region.height > 0
        assert suggestions.candidates[0].code == "S39.012A"
        shown = str(suggestions.get_option_at_index(0).prompt)
        assert "S39.012A" in shown and "lower back" in shown
        await pilot.press("enter")
        await settle(pilot)
        proposal = screen.draft.proposal
        assert proposal.get("diagnoses").value[index] == "lumbar strain"
        assert proposal.get("diagnosis_codes").value[index] == "S39.012A"
        assert screen.current != key  # moved on, as Enter does
        assert "S39.012A" in str(screen.query_one("#status-line").render())
        await pilot.press("ctrl+z")  # text and code were one step
        await settle(pilot)
        assert screen.draft.proposal.get("diagnoses") == before.get("diagnoses")
        assert screen.draft.proposal.get("diagnosis_codes") == before.get("diagnosis_codes")


async def test_a_diagnosis_with_no_clear_code_keeps_its_code_unless_one_is_picked(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        key, index = await _diagnosis_row(pilot, screen)
        await go_to(pilot, screen, key)
        code_before = screen.draft.proposal.get("diagnosis_codes").value[index]
        await type_value(pilot, "lumbar")  # several codes score alike
        await settle(pilot)
        suggestions = screen.query_one(Suggestions)
        assert suggestions.shown and suggestions.chosen() is None
        await pilot.press("enter")  # a fast Enter keeps the words and takes no code
        await settle(pilot)
        proposal = screen.draft.proposal
        assert proposal.get("diagnoses").value[index] == "lumbar"
        assert proposal.get("diagnosis_codes").value[index] == code_before
        await go_to(pilot, screen, key)
        await pilot.press("ctrl+u", *"lumbar")
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # the second candidate, picked
        await settle(pilot)
        second = suggestions.candidates[1].code if suggestions.candidates else None
        codes = screen.draft.proposal.get("diagnosis_codes").value
        assert codes[index] == icd10.suggest("lumbar", limit=8)[1].code
        assert second is None  # the list is gone once a candidate is taken


def _cursor_in_view(screen: AnnotateScreen) -> bool:
    table = screen.query_one(FieldTable)
    top = table.scroll_offset.y
    return top <= table.cursor_row < top + table.page_size() and table.current_key() == (
        screen.current
    )


async def test_the_field_list_pages_jumps_and_keeps_the_edited_row_in_view_at_80x24(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        keys = [r.key for r in screen.rows]
        await pilot.press("ctrl+end")
        assert screen.current == keys[-1] and _cursor_in_view(screen)
        await pilot.press("ctrl+home")
        assert screen.current == keys[0] and _cursor_in_view(screen)
        for key, sign in (("pagedown", 1), ("pagedown", 1), ("pageup", -1)):
            # A page is what the list shows now (a drugs field's suggestion room shortens it).
            at, page = keys.index(screen.current), screen.query_one(FieldTable).page_size()
            await pilot.press(key)
            assert screen.current == keys[max(0, min(at + sign * page, len(keys) - 1))]
            assert _cursor_in_view(screen) and page > 1
        # Items: ctrl+down / alt+n to the next request, ctrl+up / alt+p back.
        requests = [r.key for r in screen.rows if r.path.endswith(".request")]
        await pilot.press("ctrl+home", "ctrl+down")
        assert screen.current == requests[0]
        await pilot.press("alt+n")
        expected = requests[1] if len(requests) > 1 else requests[0]
        assert screen.current == expected and _cursor_in_view(screen)
        await pilot.press("down", "down", "ctrl+up")
        assert screen.current == expected
        # A drugs field makes room for suggestions below the list: the row stays in view.
        drugs = next(r.key for r in reversed(screen.rows) if r.path.endswith(".drugs"))
        await go_to(pilot, screen, drugs)
        await settle(pilot)
        assert _cursor_in_view(screen)


async def test_home_and_end_stay_in_a_text_field(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.request")
        await pilot.press("ctrl+u", *"abc", "home", "x")
        assert screen.current == "items.0.request"
        assert screen.query_one(FieldEditor).text == "xabc"


async def test_drugs_typed_by_hand_are_read_through_the_lexicon_or_marked(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.drugs")
        await pilot.press("ctrl+u", *"Norco; gabapentn; theramine", "escape", "enter")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.drugs").value == [
            "acetaminophen",
            "gabapentn",
            "hydrocodone",
        ]
        status = str(screen.query_one("#status-line").render())
        assert "not in the lexicon, kept as typed: gabapentn" in status
        assert "no drug ingredient: theramine" in status
        # Back on that drug's own row, the mark is still there.
        await go_to(pilot, screen, "items.0.drugs#1")
        assert screen.query_one(FieldEditor).text == "gabapentn"
        label = str(screen.query_one("#editor-label").render())
        assert "not in the lexicon: gabapentn" in label


def test_resolving_typed_drugs_is_one_rule():
    from imrgold.tui.fields import resolve_drugs

    table = {"norco": (["acetaminophen", "hydrocodone"], []), "theramine": ([], [])}

    def read(text):
        return table.get(text, ([], text.split()))

    resolved = resolve_drugs(["norco", "foo bar", "theramine"], read)
    assert resolved.drugs == ["acetaminophen", "foo bar", "hydrocodone"]
    assert resolved.unknown == ["foo bar"] and resolved.no_ingredient == ["theramine"]


async def test_a_gold_letter_edited_shows_gold_edited_until_gold_again_or_edits_dropped(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        lid = screen.letter_id
        store.mark_gold(screen.draft.proposal)
        gold = store.get_gold(lid)
        await pilot.press("escape")
        screen = await open_letter(pilot)
        assert screen.letter_id == lid
        title = screen.query_one("#title-bar")
        assert "gold ·" in str(title.render()) and "edited" not in str(title.render())
        await go_to(pilot, screen, "patient.age")
        await pilot.press("ctrl+u", *"77", "enter")
        await settle(pilot)
        assert "gold, edited" in str(title.render())
        assert store.get_gold(lid) == gold  # exported as it was
        footer = str(screen.query_one(KeyFooter).render())
        assert "Drop edits" in footer
        await pilot.press("escape")
        await settle(pilot)
        queue = app.screen.query_one(QueueTable)
        assert any("gold, edited" in str(queue.line(i, 100)) for i in range(N_LETTERS))
        screen = await open_letter(pilot)
        await pilot.press("alt+z")
        await settle(pilot)
        assert screen.query_one(StatusLine).asking
        await pilot.press("y")
        await settle(pilot)
        assert screen.draft.proposal.get("patient.age").value == gold.patient.age
        assert "edited" not in str(screen.query_one("#title-bar").render())
        assert not store.summary(lid).edited


async def test_enter_on_one_diagnosis_confirms_that_one_only(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        for _ in range(2 - len([r for r in screen.rows if r.path == "diagnoses"])):
            await pilot.press("alt+d")  # make sure there are two
            await settle(pilot)
        draft = screen.draft
        field = draft.proposal.get("diagnoses")
        draft.proposal.fields["diagnoses"] = field.model_copy(
            update={"source": "machine", "confirmed": False, "elements": [], "confidence": 0.5}
        )
        screen._render_all()
        first, second = [r.key for r in screen.rows if r.path == "diagnoses"][:2]
        await go_to(pilot, screen, first)
        await pilot.press("enter")
        await settle(pilot)
        rows = {r.key: r for r in screen.rows}
        assert rows[first].state == "confirmed"
        assert rows[second].state == "machine" and rows[second].low
        await go_to(pilot, screen, second)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert {r.key: r for r in screen.rows}[second].state == "confirmed"
        assert screen.draft.proposal.get("diagnoses").confirmed


async def test_request_and_rationale_are_edited_in_a_wrapped_box_that_walks_like_a_field(store):
    from textual import events

    from imrgold.tui.widgets.field_editor import RowTextArea

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.rationale")
        area = screen.query_one(RowTextArea)
        assert area.display and app.focused is area
        assert area.wrapped_document.height > 1  # a rationale wraps over several lines
        await pilot.press("ctrl+u", *"Not supported. ")
        area.post_message(events.Paste("See MTUS\nchronic pain\r\nguidelines."))
        await pilot.press("enter")
        await settle(pilot)
        value = screen.draft.proposal.get("items.0.rationale").value
        assert value == "Not supported. See MTUS chronic pain guidelines."
        assert screen.current != "items.0.rationale"
        # Up on the first wrapped line leaves for the field above; Down on the last, below.
        keys = [r.key for r in screen.rows]
        await go_to(pilot, screen, "items.0.request")
        area.move_cursor((0, 0))
        await pilot.press("up")
        assert screen.current == keys[keys.index("items.0.request") - 1]
        await go_to(pilot, screen, "items.0.request")
        await pilot.press("down")  # the cursor starts at the end: the last line
        assert screen.current == keys[keys.index("items.0.request") + 1]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_one_key_picks_a_choice_and_moves_on(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.decision")
        # A burst: o on the decision, then the category's row gets t, sex stays as it was.
        await pilot.press("o", "t")
        await settle(pilot)
        proposal = screen.draft.proposal
        assert proposal.get("items.0.decision").value == "overturned"
        assert proposal.get("items.0.category").value == "therapy"
        assert proposal.get("items.0.decision").state == "corrected"
        assert screen.current not in ("items.0.decision", "items.0.category")
        await go_to(pilot, screen, "items.0.decision")
        await pilot.press("x")  # no choice starts with x: nothing changes
        await settle(pilot)
        assert screen.current == "items.0.decision"
        assert screen.draft.proposal.get("items.0.decision").value == "overturned"


async def test_each_drug_is_a_row_confirmed_added_and_removed_on_its_own(store):
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.drugs")
        assert screen.current == "items.0.drugs#0"
        first = screen.query_one(FieldEditor).text
        # Alt+D on a drug adds a drug (as tmux sends it: ESC d, parsed as a printable alt+d),
        # typed as a brand.
        app.post_message(events.Key("alt+d", "d"))
        await settle(pilot)
        assert screen.current == "items.0.drugs#1"
        await pilot.press(*"norco", "escape", "enter")  # no suggestion taken: read as typed
        await settle(pilot)
        drugs = sorted({first, "acetaminophen", "hydrocodone"})
        assert screen.draft.proposal.get("items.0.drugs").value == drugs
        rows = [r for r in screen.rows if r.path == "items.0.drugs"]
        assert [r.text for r in rows] == drugs
        # The machine's drug is still unchecked while the typed ones count as corrected.
        states = {r.text: r.state for r in rows}
        assert states[first] == "machine"
        assert {states["acetaminophen"], states["hydrocodone"]} == {"corrected"}
        # Enter on the machine's drug confirms that drug only, then moves on.
        await go_to(pilot, screen, f"items.0.drugs#{drugs.index(first)}")
        await pilot.press("enter")
        await settle(pilot)
        assert {r.text: r.state for r in screen.rows if r.path == "items.0.drugs"}[first] == (
            "confirmed"
        )
        assert screen.draft.proposal.get("items.0.drugs").confirmed
        # Alt+X removes the drug under the cursor; the cursor stays at that place in the list.
        await go_to(pilot, screen, "items.0.drugs#0")
        await pilot.press("alt+x")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.drugs").value == drugs[1:]
        assert screen.current == "items.0.drugs#0"
        await pilot.press("alt+up")  # drugs keep their order
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.drugs").value == drugs[1:]
        assert "alphabetical" in str(screen.query_one("#status-line").render())


async def test_choice_keys_in_a_burst_each_go_to_their_own_row(store):
    """Keys sent all at once, as a fast typist or a paste of keystrokes does: the second key
    belongs to the row the first one moved to, even when it is read before the move."""
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.decision")
        for key in ("o", "t"):
            app.post_message(events.Key(key, key))
        await settle(pilot)
        proposal = screen.draft.proposal
        assert proposal.get("items.0.decision").value == "overturned"
        assert proposal.get("items.0.category").value == "therapy"
        assert screen.current not in ("items.0.decision", "items.0.category")


async def test_a_choice_field_steps_clears_and_lists_from_the_keyboard(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.category")
        editor = screen.query_one(FieldEditor)
        start = editor.text
        await pilot.press("right")  # the next choice, kept in the box until Enter
        assert editor.text != start and screen.current == "items.0.category"
        await pilot.press("left")
        assert editor.text == start
        await pilot.press("backspace")  # cleared: no category
        assert editor.text == ""
        await pilot.press("enter")
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.category").value is None
        await go_to(pilot, screen, "items.0.category")
        await pilot.press("ctrl+o")  # the list
        await settle(pilot)
        assert isinstance(app.screen, ChoiceMenu)
        await pilot.press(*"imag", "enter")
        await settle(pilot)
        assert app.screen is screen and screen.current == "items.0.category"
        assert screen.draft.proposal.get("items.0.category").value == "imaging"
        await pilot.press("space", "escape")  # opened and left: nothing changes
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.category").value == "imaging"
        await pilot.press("end")  # Home/End in a choice field move in the field list
        assert screen.current == screen.rows[-1].key
        await go_to(pilot, screen, "case_number")
        await pilot.press("ctrl+o")  # in a text field Ctrl+O confirms
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceMenu)
        assert screen.draft.proposal.get("case_number").state == "confirmed"


@pytest.mark.parametrize("move", ["down", "tab", "enter"])
async def test_typing_right_after_a_move_goes_to_the_row_moved_to(store, move):
    """A key that moves on, then typing, all sent at once (a terminal delivers them so): the
    typing lands in the next row, never appended to the row being left."""
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        await go_to(pilot, screen, "items.0.amount")
        await type_value(pilot, "60")
        await settle(pilot)
        following = screen.rows[[r.key for r in screen.rows].index("items.0.amount") + 1].key
        for key, character in [(move, None), ("ctrl+u", None), *[(c, c) for c in "abc"]]:
            app.post_message(events.Key(key, character))
        await settle(pilot)
        assert screen.draft.proposal.get("items.0.amount").value == "60"
        assert screen.current == following
        assert screen.query_one(FieldEditor).text == "abc"


async def test_the_letter_pane_widens_narrows_and_either_pane_shows_alone(store):
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        letter, fields_pane = screen.query_one("#letter-pane"), screen.query_one("#fields-pane")
        before = letter.size.width
        await pilot.press("alt+w")
        app.post_message(events.Key("alt+w", "w"))  # what Textual reads from ESC w (tmux)
        await settle(pilot)
        assert letter.size.width > before + 10
        assert screen.query_one(FieldEditor).text == screen._row(screen.current).text  # no "w"
        for _ in range(3):
            await pilot.press("alt+shift+w")
        app.post_message(events.Key("alt+shift+w", "W"))  # ESC W
        await settle(pilot)
        assert letter.size.width < before
        await pilot.press("f3")  # the letter alone, with the keyboard
        await settle(pilot)
        assert not fields_pane.display and letter.size.width >= 118
        assert isinstance(app.focused, LetterView)
        await pilot.press("f3")  # the fields alone
        await settle(pilot)
        assert not letter.display and fields_pane.size.width >= 118
        await pilot.press("f3")  # side by side again
        await settle(pilot)
        assert letter.display and fields_pane.display


async def _open_named(pilot, prefix: str) -> AnnotateScreen:
    await settle(pilot)
    names = [s.name for s in pilot.app.screen.query_one(QueueTable).summaries]
    row = next(i for i, n in enumerate(names) if n.startswith(prefix))
    return await open_letter(pilot, queue_row=row)


def _shown_at(view: LetterView, offset: int, length: int) -> str:
    row, column = view.location(offset)
    return view.document.get_line(row)[column : column + length]


async def test_the_letter_shows_clean_and_alt_r_shows_it_raw_with_marks_in_place(store):
    """A copy with markup: `<b>`, `###` and `**` hidden, the value marked on its own text."""
    from textual import events

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_named(pilot, "003_")
        view = screen.query_one(LetterView)
        text = screen.letter.text
        assert "<b>" in text and "<b>" not in view.text and "###" not in view.text
        row = next(r for r in with_machine_rows(screen) if r.path == "case_number")
        await go_to(pilot, screen, row.key)
        span = row.spans[0]
        assert _shown_at(view, span.start, span.end - span.start) == text[span.start : span.end]
        assert view.marked == span
        await pilot.press("alt+r")
        await settle(pilot)
        assert "<b>Case Number:</b>" in view.text and view.marked == span
        assert _shown_at(view, span.start, span.end - span.start) == text[span.start : span.end]
        app.post_message(events.Key("alt+r", "r"))  # ESC r, as tmux sends it
        await settle(pilot)
        assert "<b>" not in view.text
        assert screen.query_one(FieldEditor).text == row.text  # no "r" typed into the field


async def test_find_steps_through_every_hit_both_ways_and_takes_the_exact_span(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_named(pilot, "000_")  # double spaced: a phrase across a line break
        view, status = screen.query_one(LetterView), screen.query_one(StatusLine)
        text = screen.letter.text
        assert "has no \n\naffiliation" in text
        await go_to(pilot, screen, "items.0.frequency")
        await pilot.press("ctrl+f", *"NO AFFILIATION", "enter")
        await settle(pilot)
        assert "hit 1 of 1" in str(status.render())
        span = view.selected_span()
        assert span is not None and text[span.start : span.end] == "no \n\naffiliation"
        hits = len(re.findall("the", view.text, re.I))
        await pilot.press("ctrl+u", *"the", "enter")  # from the selection on
        await settle(pilot)
        first = int(re.search(r"hit (\d+) of", str(status.render())).group(1))
        assert first > 1 and f"hit {first} of {hits}" in str(status.render())
        await pilot.press("enter", "down", "up", "down")  # keys in a burst
        await settle(pilot)
        assert f"hit {first + 2} of {hits}" in str(status.render())
        await pilot.press(*["up"] * (first + 2))  # before the first: round to the last
        await settle(pilot)
        assert f"hit {hits} of {hits}" in str(status.render())
        await pilot.press("escape", "f2", "n")  # in the letter, n: the next hit
        await settle(pilot)
        assert "hit 1 of" in str(status.render())
        await pilot.press("N")
        await settle(pilot)
        assert f"hit {hits} of" in str(status.render())
        span = view.selected_span()
        assert span is not None and text[span.start : span.end].lower() == "the"
        await pilot.press("ctrl+t")
        await settle(pilot)
        field = screen.draft.proposal.get("items.0.frequency")
        assert field.spans == [span] and field.value.lower() == "the"


async def test_the_next_letter_is_read_ahead_and_any_change_since_makes_it_read_again(store):
    app = make_app(store)
    loads: list[str] = []
    real = app.load_for_annotation

    def counting(letter_id: str):
        loads.append(letter_id)
        return real(letter_id)

    app.load_for_annotation = counting  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        following = screen.order[screen.index + 1]
        assert loads.count(following) == 1  # read while this letter is shown
        await pilot.press("alt+right")
        await settle(pilot)
        assert screen.letter.letter_id == following and loads.count(following) == 1
        # Its draft changes behind the prepared copy (a save landing late): read again.
        await pilot.press("alt+left")
        await settle(pilot)
        assert loads.count(following) == 2
        changed = store.get_proposal(following).model_copy(deep=True)
        changed.get("case_number").value = "CM99-0000042"
        app.save_draft(changed)
        await pilot.press("alt+right")
        await settle(pilot)
        assert screen.letter.letter_id == following and loads.count(following) == 3
        assert screen.draft.proposal.get("case_number").value == "CM99-0000042"


async def test_a_store_from_before_calibration_shows_calibrated_confidences(store):
    """Its proposals hold the rules' raw strengths, all under the flag: read, they are mapped."""
    from imrgold.core.calibration import FLAG_BELOW
    from imrgold.core.extract import extract

    for summary in store.summaries():
        letter = store.get_letter(summary.letter_id)
        store.put_proposal(extract(letter.text, letter.letter_id, calibrated=False))
    raw = store.get_proposal(store.summaries()[0].letter_id)
    assert not raw.calibrated and sum(f.confidence < FLAG_BELOW for f in raw.fields.values()) > 10
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_letter(pilot)
        assert screen.draft.proposal.calibrated
        assert sum(r.low for r in screen.rows) < 0.1 * len(screen.rows)


async def test_a_gold_mark_still_waiting_is_written_on_quit_and_read_back_before(store):
    """Gold is written once the next letter is drawn; until then it is held, read back if
    the letter is opened again, and written by quit whatever the timing."""
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        lid = screen.letter_id
        await pilot.press("ctrl+b")  # confirm every field: no gate question
        await settle(pilot)
        proposal = screen.draft.proposal
        app._gold_pending[lid] = proposal  # as mark_gold leaves it before the next frame
        assert app.load_for_annotation(lid)[1] == proposal
        await pilot.press("ctrl+q")
    assert store.get_gold(lid) is not None and not app._gold_pending


async def test_the_gold_question_is_answered_wherever_the_focus_was(store):
    """Asked from the letter (F2), the question still takes y; the focus never goes to it."""
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_letter(pilot)
        lid = screen.letter_id
        await pilot.press("f2", "ctrl+g")
        await settle(pilot)
        status = screen.query_one(StatusLine)
        assert status.asking and app.focused is not status
        await pilot.press("q", "w", "y")  # keys before the answer are held back, not typed
        await settle(pilot)
        gold = store.get_gold(lid)
        assert gold is not None and screen.letter.letter_id != lid
        assert "qw" not in gold.model_dump_json()
