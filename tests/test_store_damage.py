"""A damaged store says what is wrong and where the last good backup is; doctor repairs it."""

import json
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.store import Store, StoreDamaged
from imrgold.store.doctor import check
from tests.store_helpers import corrected, fixture_letters, proposal_for


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("IMRGOLD_DB", raising=False)
    path = tmp_path / "imrgold.json"
    letters = fixture_letters()[:4]
    with Store.open(path, annotator="ann") as store:
        for letter in letters:
            store.add_letter(letter, proposal_for(letter))
        for letter in letters[:3]:
            store.mark_gold(corrected(store.get_proposal(letter.letter_id), "patient.age", 51))
        store.set_meta("setting", [1, 2])
    with Store.open(path, annotator="ann") as store:  # a second open takes a backup of that
        store.save_draft(corrected(store.get_proposal(letters[3].letter_id), "patient.age", 9))
    return path


def _gold(db):
    with Store.open(db, read_only=True) as store:
        return {r.letter_id: r for r in store.gold_records()}


def _open_error(db) -> str:
    with pytest.raises(StoreDamaged) as caught:
        Store.open(db)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.backup and caught.value.backup in message
    assert json.loads(Path(caught.value.backup).read_text())["meta"]  # the backup named is good
    assert "doctor" in message
    return message


def test_truncated_catalog_names_backup_and_doctor_repairs_it(db, capsys):
    gold = _gold(db)
    raw = db.read_bytes()
    db.write_bytes(raw[: len(raw) // 2])
    assert "truncated" in _open_error(db)
    assert main(["doctor", "--db", str(db)]) == 1
    assert "problem:" in capsys.readouterr().out
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert "repaired:" in capsys.readouterr().out
    assert _gold(db) == gold
    with Store.open(db, read_only=True) as store:
        assert len(store.summaries()) == 4
        assert store.meta("setting") == [1, 2]
        assert {s.status for s in store.summaries()} == {"gold", "in_progress"}
    assert check(db).healthy


def test_hand_edited_catalog(db):
    data = json.loads(db.read_text())
    row = next(iter(data["letters"].values()))
    row["status"] = "finished"
    db.write_text(json.dumps(data))
    message = _open_error(db)
    assert "status" in message and "letter row" in message
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    with Store.open(db, read_only=True) as store:
        assert store.status(row["letter_id"]) in ("gold", "in_progress")


def test_stray_character_in_catalog(db):
    text = db.read_text()
    db.write_text(text[:40] + "#" + text[40:])
    assert "not valid JSON at line 1" in _open_error(db)


def test_damaged_record_keeps_gold_through_repair(db):
    gold = _gold(db)
    lid = next(iter(gold))
    record = db.with_name("imrgold.d") / "records" / lid[:2] / f"{lid}.json"
    record.write_bytes(record.read_bytes()[:100])
    with Store.open(db, read_only=True) as store, pytest.raises(StoreDamaged) as caught:
        store.get_draft(lid)
    assert str(record) in str(caught.value) and "backup" in str(caught.value)
    report = check(db)
    assert [p.path for p in report.problems] == [str(record)]
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert _gold(db) == gold
    assert list(record.parent.glob(f"{lid}.json.damaged-*"))  # kept, not deleted


def test_damaged_gold_shard_is_rebuilt_from_records(db):
    gold = _gold(db)
    shard = next((db.with_name("imrgold.d") / "gold").glob("*.json"))
    shard.write_text("{}}")
    with pytest.raises(StoreDamaged):
        _gold(db)
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert _gold(db) == gold


def test_torn_journal_tail_is_dropped_but_altered_line_is_damage(db):
    letter = fixture_letters()[0]
    with Store.open(db, annotator="ann") as store:
        store.set_status(letter.letter_id, "flagged", "odd date")
        store.engine.journal.append({"seq": 999, "letter": letter.letter_id})
        store.engine.release()
    journal = db.with_name("imrgold.d") / "journal"
    journal.write_bytes(journal.read_bytes()[:-7])  # the last line torn mid-write
    with Store.open(db) as store:
        assert store.status(letter.letter_id) == "flagged"
        store.set_status(letter.letter_id, "in_review")
        store.set_status(letter.letter_id, "flagged", "again")
        store.engine.release()
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"in_review", b"in_reviev")
    journal.write_bytes(b"".join(lines))
    assert "line 2 altered" in _open_error(db)
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    with Store.open(db, read_only=True) as store:
        assert store.summary(letter.letter_id).comment == "again"


def test_healthy_store_checks_clean(db, capsys):
    assert main(["doctor", "--db", str(db)]) == 0
    assert "healthy" in capsys.readouterr().out


def test_catalog_copied_back_from_backup_is_caught_and_repaired(db):
    gold = _gold(db)
    backup = _open_backup(db)
    with Store.open(db, annotator="ann") as store:  # work after that backup was taken
        letter = fixture_letters()[3]
        gold[letter.letter_id] = store.mark_gold(store.get_proposal(letter.letter_id))
    db.write_bytes(backup.read_bytes())
    with pytest.raises(StoreDamaged, match="older than its journal"):
        Store.open(db)
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert _gold(db) == gold


def test_missing_catalog_is_rebuilt(db):
    gold = _gold(db)
    db.unlink()
    with pytest.raises(StoreDamaged, match="missing"):
        Store.open(db)
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert _gold(db) == gold
    with Store.open(db, read_only=True) as store:
        assert store.meta("setting") == [1, 2]  # from the last backup


def _open_backup(db):
    with Store.open(db):
        pass
    return sorted((db.with_name("imrgold.d") / "backups").glob("*/imrgold.json"))[-1]


def test_hand_edited_record_is_a_one_line_error(db):
    letter = fixture_letters()[3]
    lid = letter.letter_id
    record = db.with_name("imrgold.d") / "records" / lid[:2] / f"{lid}.json"
    data = json.loads(record.read_text())
    draft = next(iter(data["drafts"].values()))
    next(iter(draft["proposal"]["fields"].values()))["confidence"] = 7
    record.write_text(json.dumps(data))
    with Store.open(db, read_only=True) as store, pytest.raises(StoreDamaged) as caught:
        store.get_draft(lid, "ann")
    message = str(caught.value)
    assert "\n" not in message and str(record) in message and "confidence" in message
    assert "last good backup" in message


def test_lost_record_files_keep_their_gold(db):
    import shutil

    gold = _gold(db)
    shutil.rmtree(db.with_name("imrgold.d") / "records")
    assert not check(db).healthy
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert _gold(db) == gold
    with Store.open(db, read_only=True) as store:
        assert {store.status(lid) for lid in gold} == {"gold"}
        assert len(store) == 4  # the letter without gold is kept too


def test_doctor_while_the_store_is_open(db, capsys):
    with Store.open(db, annotator="busy"):
        assert main(["doctor", "--db", str(db)]) == 0
        assert "note:" in capsys.readouterr().out
        assert main(["doctor", "--repair", "--db", str(db)]) == 2
        assert "being written by" in capsys.readouterr().err


def test_leftover_temporary_files_are_noted_and_removed(db, capsys):
    stray = db.with_name("imrgold.d") / "gold" / ".ab.json.12345.tmp"
    stray.write_text("{half")
    stray.chmod(0o600)  # as atomic_write creates them
    assert main(["doctor", "--db", str(db)]) == 0
    assert "temporary file" in capsys.readouterr().out
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert not stray.exists()
