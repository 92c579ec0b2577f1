"""How the queue and annotate screens look, at a roomy and at the smallest usual terminal.

Textual and pytest-textual-snapshot are pinned in pyproject's test extra, so a changed snapshot
means the interface changed.  Update with ``pytest --snapshot-update`` after looking at the diff.
"""

from __future__ import annotations

import shutil

import pytest
from textual.widgets import Input, TextArea

from imrgold.cli.commands.annotate import bundled_letters, ingest_files
from imrgold.store import Store
from imrgold.tui.app import ImrGoldApp
from imrgold.tui.screens.annotate import AnnotateScreen
from imrgold.tui.screens.conventions import ConventionsScreen
from imrgold.tui.widgets.queue_table import QueueTable

SIZES = [(120, 40), (80, 24)]


class NoLexicon:
    def suggest(self, query, letter_text=None, limit=10):
        return []

    def learn(self, alias, name):
        pass

    def read_drugs(self, text):
        return [text], []

    def learn_from_items(self, items, letter_text=None):
        return []


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "db" / "imrgold.json"
    with Store.open(path, annotator="tester") as store:
        ingest_files(store, bundled_letters()[:3])
    return path


@pytest.fixture
def store(template_db, tmp_path, monkeypatch):
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    shutil.copytree(template_db.parent, tmp_path / "db")
    with Store.open(tmp_path / "db" / template_db.name, annotator="tester") as opened:
        yield opened


async def _store_order(pilot) -> None:
    """The queue by status (Order pressed three times): letters all new keep the store's order,
    so the annotate snapshots show the store's first letter (the cursor stays on its letter
    when the order changes: Home goes to the first row)."""
    await pilot.press("o", "o", "o")
    assert pilot.app.screen.sort_key == "status"
    await _steady(pilot)
    await pilot.press("home")


async def _steady(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_screen(snap_compare, store, size):
    async def run_before(pilot) -> None:
        await _steady(pilot)
        assert len(pilot.app.screen.query_one(QueueTable).letter_ids) == 3

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_annotate_screen(snap_compare, store, size):
    async def run_before(pilot) -> None:
        await _steady(pilot)
        await _store_order(pilot)
        await pilot.press("enter")
        await _steady(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AnnotateScreen)
        # A field with a span below the first screenful shows the scroll-to and the mark.
        target = next(r for r in screen.rows if r.path == "items.0.request")
        screen.focus_field(target.key)
        await _steady(pilot)

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_choice_field_and_its_list(snap_compare, store, size):
    """A decision in the one-line box with its keys on the border, then its list opened."""

    async def run_before(pilot) -> None:
        await _steady(pilot)
        await _store_order(pilot)
        await pilot.press("enter")
        await _steady(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AnnotateScreen)
        screen.focus_field("items.0.decision")
        await _steady(pilot)
        await pilot.press("space")
        await _steady(pilot)

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_find_in_the_letter(snap_compare, store, size):
    """The letter reflowed, a search's hits underlined, the second selected, the bar below."""

    async def run_before(pilot) -> None:
        await _steady(pilot)
        await _store_order(pilot)
        await pilot.press("enter")
        await _steady(pilot)
        assert isinstance(pilot.app.screen, AnnotateScreen)
        await pilot.press("ctrl+f", *"reviewer", "enter", "enter")
        await _steady(pilot)

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_conventions_panel(snap_compare, store, size):
    """F4 on an item's drugs: the gold conventions open at the items' section."""

    async def run_before(pilot) -> None:
        await _steady(pilot)
        await _store_order(pilot)
        await pilot.press("enter")
        await _steady(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, AnnotateScreen)
        assert screen.focus_field("items.0.drugs")
        await pilot.press("f4")
        await _steady(pilot)
        assert isinstance(pilot.app.screen, ConventionsScreen)
        assert pilot.app.screen.heading.startswith("Items")

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    assert snap_compare(app, terminal_size=size, run_before=run_before)
