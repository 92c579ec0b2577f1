"""The garbage collector's full collections wait for the annotator's pauses (tui/heap.py)."""

from __future__ import annotations

import gc

import pytest

from imrgold.tui.heap import IDLE, RARE_FULL, HeapKeeper


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def full_collections():
    """How many generation-2 collections ran (the collector's own report)."""
    seen: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] == 2:
            seen.append(1)

    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)
    gc.unfreeze()


def test_no_collection_while_keys_come_one_after_the_pause(full_collections, thresholds):
    clock = Clock()
    keeper = HeapKeeper(clock)
    assert not keeper.collect_if_idle()  # nothing done yet: nothing to collect
    keeper.touched()
    clock.now += IDLE / 2
    assert not keeper.collect_if_idle()  # still typing
    keeper.touched()
    clock.now += IDLE - 0.01
    assert not keeper.collect_if_idle()
    assert full_collections == []
    clock.now += 0.02
    assert keeper.collect_if_idle()
    assert full_collections == [1]
    clock.now += 10 * IDLE
    assert not keeper.collect_if_idle()  # no work since: no second collection
    assert full_collections == [1]


def test_settle_makes_full_collections_rare_and_restore_puts_the_collector_back(thresholds):
    keeper = HeapKeeper(Clock())
    keeper.settle()
    assert gc.get_threshold() == (thresholds[0], thresholds[1], RARE_FULL)
    assert gc.get_freeze_count() > 0
    keeper.settle()  # settled again (the queue reloaded): the original settings are kept
    keeper.restore()
    assert gc.get_threshold() == thresholds


async def test_the_annotators_app_hears_every_key_and_gives_the_collector_back(
    tmp_path, monkeypatch, thresholds
):
    """Keys count as work (a key bubbling back to the app may be heard twice: harmless); while
    the app runs full collections are rare; after, the collector is as it was."""
    from imrgold.store import Store
    from imrgold.tui.app import ImrGoldApp

    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    heard: list[int] = []
    monkeypatch.setattr(HeapKeeper, "touched", lambda self: heard.append(1))
    with Store.open(tmp_path / "db" / "imrgold.json", annotator="tester") as store:
        app = ImrGoldApp(store, settle_heap=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert gc.get_threshold()[2] == RARE_FULL
            assert heard == []
            await pilot.press("down", "escape", "r", "up")
            assert len(heard) >= 4
    assert gc.get_threshold() == thresholds
