"""How the review and adjudication screens look, at a roomy and at the smallest usual terminal.

Beside the annotate screen's snapshots (tests/test_tui_snapshots.py): the same title bar,
letter on the left, field list, status line and key footer.  Update with
``pytest --snapshot-update`` after looking at the diff.
"""

from __future__ import annotations

import pytest

from imrgold.core.extract import extract
from imrgold.store import Store
from imrgold.store.qa.adjudication import EDITED
from imrgold.tui.editing import Draft
from imrgold.tui.review_app import ReviewApp, plan
from imrgold.tui.screens.adjudicate import AdjudicateScreen
from imrgold.tui.screens.review import ReviewScreen
from tests.store_helpers import fixture_letters, isolate
from tests.test_tui import settle

SIZES = [(120, 40), (80, 24)]


@pytest.fixture
def store(tmp_path, monkeypatch):
    """One letter alice marked gold (the case number confirmed, the priority written, the
    first diagnosis checked, the rest as the machine read it), and one whose versions by
    alice and bob differ in three fields, waiting for adjudication."""
    isolate(monkeypatch, tmp_path, "IMRGOLD_ANNOTATOR")
    first, second = fixture_letters()[:2]
    with Store.open(tmp_path / "db" / "imrgold.json", annotator="alice") as opened:
        for letter in (first, second):
            proposal = extract(letter.text, letter.letter_id)
            opened.add_letter(letter, proposal)
            draft = Draft(proposal)
            draft.confirm("case_number")
            draft.set_value("priority", "expedited")
            draft.confirm("diagnoses", 0)
            opened.mark_gold(draft.proposal)
        record = opened.get_gold(second.letter_id)
        patient = record.patient.model_copy(update={"age": 51, "sex": None})
        items = [record.items[0].model_copy(update={"request": "Norco 10/325 [sic] #60"})]
        bob = record.model_copy(update={"patient": patient, "items": items + record.items[1:]})
        opened.put_gold(bob, "bob")
        opened.set_status(second.letter_id, "adjudication")
        yield opened


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_review_screen(snap_compare, store, size):
    """A few fields reviewed (one corrected), the cursor on the next one alice never checked."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen)
        await pilot.press("enter", "enter", "e", "ctrl+a", "ctrl+k", *"2011-07-15", "enter")
        await pilot.press("ctrl+l")
        await settle(pilot)

    app = ReviewApp(store, "carol", plan(store, "carol", adjudicate=False), keymap={})
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_adjudicate_screen(snap_compare, store, size):
    """Three differences: bob's taken for the first, the adjudicator's own value written for
    the second, the cursor on the third (a request holding "[sic]")."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AdjudicateScreen)
        assert len(screen.session.rows) == 3
        await pilot.press("2", "e", "ctrl+a", "ctrl+k", *"female", "enter")
        assert [r.choice for r in screen.session.rows] == ["bob", EDITED, None]
        await settle(pilot)

    app = ReviewApp(store, "carol", plan(store, "carol", review=False), keymap={})
    assert snap_compare(app, terminal_size=size, run_before=run_before)
