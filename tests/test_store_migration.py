"""Opening a schema-1 store (one plain TinyDB file) migrates it, after writing a backup."""

import pytest
from tinydb import TinyDB

from imrgold.core.models import GoldRecord
from imrgold.store import SCHEMA_VERSION, Store, StoreError
from tests.store_helpers import corrected, fixture_letters, proposal_for


def _legacy_store(path, letters):
    """A store as the first version wrote it: TinyDB's default JSONStorage, three tables."""
    db = TinyDB(path)
    db.table("letters").insert_multiple(x.model_dump(mode="json") for x in letters)
    db.table("proposals").insert_multiple(proposal_for(x).model_dump(mode="json") for x in letters)
    gold = corrected(proposal_for(letters[0]), "patient.age", 63).to_record()
    db.table("gold").insert({**gold.model_dump(mode="json"), "annotator": "ann"})
    db.close()
    return gold


def test_old_store_is_backed_up_then_migrated(tmp_path):
    db = tmp_path / "imrgold.json"
    letters = fixture_letters()[:3]
    gold = _legacy_store(db, letters)
    legacy_bytes = db.read_bytes()
    with pytest.raises(StoreError, match="open it once for writing"):
        Store.open(db, read_only=True)
    with Store.open(db, annotator="ann") as store:
        assert store.meta("anything") is None
        assert {s.letter_id for s in store.summaries()} == {x.letter_id for x in letters}
        assert store.get_letter(letters[1].letter_id) == letters[1]
        assert store.get_proposal(letters[2].letter_id) == proposal_for(letters[2])
        assert store.get_gold(gold.letter_id, "ann") == gold
        assert store.status(gold.letter_id) == "gold"
        assert store.status(letters[1].letter_id) == "new"
        # The migrated store is a normal one: it takes new work.
        store.save_draft(corrected(store.get_proposal(letters[1].letter_id), "patient.age", 5))
    backups = list((tmp_path / "imrgold.d" / "backups").glob("*-schema1/imrgold.json"))
    assert len(backups) == 1 and backups[0].read_bytes() == legacy_bytes
    with Store.open(db, read_only=True) as store:
        assert store.status(letters[1].letter_id) == "in_progress"
        raw = store.engine.catalog.table("meta").get(doc_id=1)
        assert raw["schema_version"] == SCHEMA_VERSION and raw["migrated_from"] == 1


def test_interrupted_migration_starts_over(tmp_path, monkeypatch):
    db = tmp_path / "imrgold.json"
    letters = fixture_letters()[:3]
    gold = _legacy_store(db, letters)
    calls = {"n": 0}
    real = Store.put_gold

    def crash_on_gold(self, record: GoldRecord, annotator: str, at=None):
        calls["n"] += 1
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "put_gold", crash_on_gold)
    with pytest.raises(KeyboardInterrupt):
        Store.open(db)
    monkeypatch.setattr(Store, "put_gold", real)
    assert calls["n"] == 1
    with Store.open(db, annotator="ann") as store:
        assert len(store) == 3 and store.get_gold(gold.letter_id) == gold


def test_newer_store_is_refused(tmp_path):
    db = tmp_path / "imrgold.json"
    with Store.open(db):
        pass
    data = db.read_text().replace(f'"schema_version":{SCHEMA_VERSION}', '"schema_version":99')
    db.write_text(data)
    with pytest.raises(StoreError, match="newer imrgold"):
        Store.open(db)


def test_doctor_migrates_an_old_store_instead_of_rebuilding_it(tmp_path, capsys):
    from imrgold.cli.main import main

    db = tmp_path / "imrgold.json"
    gold = _legacy_store(db, fixture_letters()[:2])
    assert main(["doctor", "--db", str(db)]) == 1
    assert "schema 1" in capsys.readouterr().out
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    with Store.open(db, read_only=True) as store:
        assert len(store) == 2 and store.get_gold(gold.letter_id, "ann") == gold
