"""The dashboard screen: opened from the queue by its key, its charts at 120x40 and 80x24 on a
store with gold letters by two annotators, the empty state, and Escape back to the queue."""

from __future__ import annotations

import pytest
from textual.widgets import Sparkline

from imrgold.store import Store
from imrgold.tui.app import ImrGoldApp
from imrgold.tui.screens.dashboard import DashboardScreen
from imrgold.tui.screens.queue import QueueScreen
from imrgold.tui.widgets.bar_chart import BarChart
from tests import test_tui_snapshots
from tests.dashboard_store import build_gold_store
from tests.test_tui_snapshots import SIZES, NoLexicon, _steady

# A copy of the template store with settings under tmp_path, as the snapshots' fixture makes it,
# of this module's `template_db`: the gold store below, not the snapshots' three new letters.
store = test_tui_snapshots.store


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    return build_gold_store(tmp_path_factory.mktemp("dash") / "db" / "imrgold.json")


async def _open_dashboard(pilot) -> DashboardScreen:
    await _steady(pilot)
    assert isinstance(pilot.app.screen, QueueScreen)
    await pilot.press("d")
    await _steady(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_screen(snap_compare, store, size):
    async def run_before(pilot) -> None:
        screen = await _open_dashboard(pilot)
        assert screen.figures is not None and screen.figures.gold == 6

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_screen_scrolled_to_agreement_and_decisions(snap_compare, store, size):
    async def run_before(pilot) -> None:
        screen = await _open_dashboard(pilot)
        screen.query_one("#dashboard-body").scroll_end(animate=False)
        await _steady(pilot)

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_of_an_empty_store(snap_compare, tmp_path, monkeypatch, size):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))

    async def run_before(pilot) -> None:
        screen = await _open_dashboard(pilot)
        assert screen.figures is not None and screen.figures.empty
        assert screen.query_one("#dashboard-empty")

    with Store.open(tmp_path / "db" / "imrgold.json", annotator="tester") as empty:
        app = ImrGoldApp(empty, lexicon=NoLexicon(), store_label="empty store")
        assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_queue_key_opens_the_dashboard_and_escape_closes_it(store, size):
    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    async with app.run_test(size=size) as pilot:
        screen = await _open_dashboard(pilot)
        # Loaded in a worker: the body waited, then holds the charts of the store's figures.
        assert not screen.query_one("#dashboard-body").loading
        assert [s.data for s in screen.query(Sparkline)] == [[2, 2, 0, 2], [0, 0, 0, 2]]
        charts = {c.id: c for c in screen.query(BarChart)}
        assert set(charts) == {"dashboard-accuracy", "dashboard-agreement", "dashboard-decisions"}
        decision = next(
            b for b in charts["dashboard-agreement"].bars if b.label == "items.decision"
        )
        assert decision.note == "50% of 4"  # the first item of each letter flipped
        await pilot.press("escape")
        await _steady(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_a_store_that_cannot_be_read_says_so_in_the_screen(store, monkeypatch):
    from imrgold.store.errors import StoreDamaged

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")

    def damaged():
        raise StoreDamaged("gold/ab.json: not JSON")

    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(app, "load_dashboard", damaged)
        screen = await _open_dashboard(pilot)
        shown = str(screen.query_one("#dashboard-error").render())
        assert "gold/ab.json: not JSON" in shown
        assert screen.figures is None and not screen.query_one("#dashboard-body").loading
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_the_screen_shows_it_is_loading_until_the_worker_hands_the_figures(store):
    import threading

    app = ImrGoldApp(store, lexicon=NoLexicon(), store_label="test store")
    release = threading.Event()
    load = app.load_dashboard

    def slow():
        release.wait(timeout=30)
        return load()

    async with app.run_test(size=(80, 24)) as pilot:
        await _steady(pilot)
        app.load_dashboard = slow  # type: ignore[method-assign]
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        body = screen.query_one("#dashboard-body")
        assert body.loading and screen.figures is None and not screen.query(BarChart)
        release.set()
        await _steady(pilot)
        assert not body.loading and screen.figures is not None and screen.query(BarChart)
