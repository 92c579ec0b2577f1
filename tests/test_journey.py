"""One letter's whole journey, as a user makes it: ingest the bundled letters into a fresh store
with the command line, correct a field in the interface with the keyboard, mark it gold, export
JSON Lines, and find the correction beside the machine's untouched proposals."""

from __future__ import annotations

from pathlib import Path

from imrgold.cli.common import bundled_letters_dir
from imrgold.cli.main import main
from imrgold.core.models import GoldRecord, flatten
from imrgold.store import Store
from imrgold.tui.app import ImrGoldApp
from imrgold.tui.screens.annotate import AnnotateScreen


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_ingest_correct_save_export(tmp_path, monkeypatch, capsys):
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "ana")
    db = tmp_path / "store" / "imrgold.json"
    letters = sorted(bundled_letters_dir().iterdir())

    assert main(["ingest", "--db", str(db), str(bundled_letters_dir())]) == 0
    assert "20" in capsys.readouterr().out

    with Store.open(db, annotator="ana") as store:
        assert len(store.summaries()) == len(letters)
        app = ImrGoldApp(store, store_label="journey")
        async with app.run_test(size=(120, 40)) as pilot:
            await _settle(pilot)
            await pilot.press("enter")  # the first letter of the queue
            await _settle(pilot)
            screen = app.screen
            assert isinstance(screen, AnnotateScreen)
            letter_id = screen.letter_id
            machine = store.get_proposal(letter_id).to_record()
            # Walk to the decision date with the keyboard and correct it.
            for _ in range(10):
                if screen.current == "decision_date":
                    break
                await pilot.press("tab")
            assert screen.current == "decision_date"
            await pilot.press("ctrl+u", *"2014-11-07", "enter")
            await pilot.press("ctrl+s")
            await _settle(pilot)
            await pilot.press("ctrl+g")  # mark gold, open the next letter
            await _settle(pilot)
            # The gate asks about the fields left unchecked: yes, the rest is right.
            await pilot.press("y")
            await _settle(pilot)
            assert store.status(letter_id) == "gold"

    out = tmp_path / "gold.jsonl"
    assert main(["export", "--db", str(db), "--format", "jsonl", "--out", str(out)]) == 0
    records = [GoldRecord.model_validate_json(line) for line in out.read_text().splitlines()]
    exported = {r.letter_id: r for r in records}[letter_id]

    assert exported.decision_date.isoformat() == "2014-11-07"
    assert machine.decision_date is None or machine.decision_date.isoformat() != "2014-11-07"
    got, proposed = flatten(exported), flatten(machine)
    untouched = {p for p in proposed if p != "decision_date"}
    assert {p: got[p] for p in untouched} == {p: proposed[p] for p in untouched}
    assert Path(db).stat().st_mode & 0o077 == 0  # health information: owner only
