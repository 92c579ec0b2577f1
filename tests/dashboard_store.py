"""A store with gold letters by two annotators on fixed days, for the dashboard's tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from imrgold.cli.commands.annotate import bundled_letters, ingest_files
from imrgold.core.models import GoldRecord
from imrgold.store import Store

GOLD = Path(__file__).resolve().parent.parent / "fixtures" / "gold"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def bundled_gold(letter_id: str) -> GoldRecord:
    for path in sorted(GOLD.glob("*.json")):
        record = GoldRecord.model_validate_json(path.read_text(encoding="utf-8"))
        if record.letter_id == letter_id:
            return record
    raise LookupError(letter_id)


def flipped(record: GoldRecord) -> GoldRecord:
    """Another annotator's version: the first item's decision the other way, no patient age."""
    items = list(record.items)
    other = "overturned" if items[0].decision == "upheld" else "upheld"
    items[0] = items[0].model_copy(update={"decision": other})
    patient = record.patient.model_copy(update={"age": None})
    return record.model_copy(update={"items": items, "patient": patient})


def build_gold_store(path: Path, letters: int = 8) -> Path:
    """``letters`` bundled letters with their proposals; alice marks the first six gold over
    three days (with a day off between), bob the second and third on the third day, flipping a
    decision and dropping the age; the rest stay new.  Every time is fixed (``put_gold``'s
    ``at``), so the figures and the screen never depend on the clock."""
    with Store.open(path, annotator="alice") as store:
        ingest_files(store, bundled_letters()[:letters])
        ids = store.letter_ids()
        for n, lid in enumerate(ids[:6]):
            day = (0, 0, 1, 1, 3, 3)[n]
            at = START + dt.timedelta(days=day, minutes=7 * n)
            store.put_gold(bundled_gold(lid), "alice", at)
        for n, lid in enumerate(ids[1:3]):
            at = START + dt.timedelta(days=3, hours=2, minutes=5 * n)
            store.put_gold(flipped(bundled_gold(lid)), "bob", at)
    return path
