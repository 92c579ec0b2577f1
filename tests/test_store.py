import datetime as dt
import os
import stat

import pytest

from imrgold.cli.main import main
from imrgold.core.models import LETTER_STATUSES
from imrgold.store import ReadOnlyStore, Store, StoreError, StoreLocked, UnknownLetter
from tests.store_helpers import corrected, fixture_letters, proposal_for


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "data" / "imrgold.json"


def _ingest(store, letters):
    for letter in letters:
        assert store.add_letter(letter) is True
        store.put_proposal(proposal_for(letter))


def test_letters_round_trip_and_queue(db):
    letters = fixture_letters()
    with Store.open(db, annotator="ann") as store:
        _ingest(store, letters)
        assert store.add_letter(letters[0]) is False
    with Store.open(db, read_only=True) as store:
        assert {s.letter_id for s in store.summaries()} == {x.letter_id for x in letters}
        first = letters[0]
        assert store.get_letter(first.letter_id) == first
        assert store.get_proposal(first.letter_id) == proposal_for(first)
        summary = store.summary(first.letter_id)
        assert summary.name == first.name and summary.status == "new"
        assert summary.case_number == proposal_for(first).get("case_number").value
        with pytest.raises(UnknownLetter):
            store.get_letter("0" * 64)


def test_draft_gold_history_and_restore(db):
    letter = fixture_letters()[0]
    with Store.open(db, annotator="ann") as store:
        _ingest(store, [letter])
        lid = letter.letter_id
        machine = store.get_proposal(lid)
        first = corrected(machine, "case_number", "CM99-0000001")
        store.save_draft(first)
        assert store.status(lid) == "in_progress"
        second = corrected(first, "patient.age", 77)
        store.save_draft(second)
        record = store.mark_gold(second)
    with Store.open(db, annotator="ann") as store:
        assert store.status(lid) == "gold"
        assert store.get_gold(lid) == record == store.get_gold(lid, "ann")
        assert record.case_number == "CM99-0000001" and record.patient.age == 77
        assert store.gold_versions(lid) == {"ann": record}
        assert store.gold_records(status="gold") == [record]
        changes = [(c.path, c.old, c.new) for c in store.history(lid)]
        assert ("case_number", machine.get("case_number").value, "CM99-0000001") in changes
        assert ("patient.age", machine.get("patient.age").value, 77) in changes
        assert ("status", "in_progress", "gold") in changes
        assert all(c.annotator == "ann" for c in store.history(lid))
        # Back to just after the first correction: the age is the machine's again.
        index = changes.index(("case_number", machine.get("case_number").value, "CM99-0000001"))
        track, restored = store.restore(lid, index)
        assert track == "ann"  # whose draft it came back as: the entry's
        assert restored.get("case_number").value == "CM99-0000001"
        assert restored.get("patient.age").value == machine.get("patient.age").value
        assert store.get_draft(lid) == restored
        assert store.history(lid)[-1].path == "patient.age"


def test_final_version_and_status(db):
    letter = fixture_letters()[1]
    lid = letter.letter_id
    with Store.open(db, annotator="a") as store:
        _ingest(store, [letter])
        gold_a = store.mark_gold(store.get_proposal(lid))
    with Store.open(db, annotator="b") as store:
        gold_b = store.mark_gold(corrected(store.get_proposal(lid), "patient.sex", "female"))
        assert set(store.gold_versions(lid)) == {"a", "b"}
        store.set_final(lid, gold_a, "judge")
        store.set_status(lid, "reviewed", "agreed with a")
        with pytest.raises(ValueError):
            store.set_status(lid, "done")
    with Store.open(db, read_only=True) as store:
        assert store.get_gold(lid) == gold_a
        assert store.get_gold(lid, "b") == gold_b
        assert store.status(lid) == "reviewed" and "reviewed" in LETTER_STATUSES
        assert store.summary(lid).comment == "agreed with a"
        assert store.gold_records(annotator="b") == [gold_b]
        assert store.gold_records(status="gold") == []
        with pytest.raises(ReadOnlyStore):
            store.set_status(lid, "flagged")


def test_meta_table(db):
    with Store.open(db) as store:
        assert store.meta("k") is None and store.meta("k", 3) == 3
        store.set_meta("k", {"a": [1, 2]})
        store.set_meta("k", {"a": [3]})
    with Store.open(db, read_only=True) as store:
        assert store.meta("k") == {"a": [3]}


def test_permissions(db):
    with Store.open(db) as store:
        _ingest(store, fixture_letters()[:1])
    for root, dirs, files in os.walk(db.parent):
        for name in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o700, name
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o600, name
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700


def test_second_writer_is_told_who_holds_the_store(db):
    with Store.open(db, annotator="ann") as first:
        with pytest.raises(StoreLocked) as caught:
            Store.open(db, annotator="bob")
        message = str(caught.value)
        assert str(os.getpid()) in message and "since" in message and "ann" in message
        assert caught.value.pid == os.getpid()
        _ingest(first, fixture_letters()[:1])
        with Store.open(db, read_only=True) as reader:
            assert len(reader.summaries()) == 1
    with Store.open(db, annotator="bob") as second:
        assert len(second) == 1


def test_reader_sees_saves_not_yet_checkpointed(db):
    letter = fixture_letters()[0]
    lid = letter.letter_id
    with Store.open(db, annotator="ann") as writer:
        writer.add_letter(letter, proposal_for(letter))
        writer.checkpoint()
        writer.save_draft(corrected(writer.get_proposal(lid), "patient.age", 33))
        writer.set_meta("k", 1)
        with Store.open(db, read_only=True) as reader:
            assert reader.get_draft(lid, "ann").get("patient.age").value == 33
            assert reader.status(lid) == "in_progress" and reader.meta("k") == 1


def test_restore_final_track_by_time(db):
    letter = fixture_letters()[3]
    lid = letter.letter_id
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter, proposal_for(letter))
        first = store.mark_gold(corrected(store.get_proposal(lid), "patient.age", 40))
        store.set_final(lid, first, "judge")
        second = first.model_copy(update={"case_number": "CM11-1111111"})
        store.set_final(lid, second, "judge")
        assert store.get_gold(lid) == second
        final_changes = [e for e in store.history_entries(lid) if e["kind"] == "final"]
        assert [e["path"] for e in final_changes] == ["case_number"]
        assert final_changes[0]["annotator"] == "judge"
        before = final_changes[0]["at"]
        # Just before the second final version: the first comes back as the final record.
        point = dt.datetime.fromisoformat(before) - dt.timedelta(microseconds=1)
        track, restored = store.restore(lid, point, annotator="final")
        assert track == "final"
        assert restored == first and store.get_gold(lid) == first
        assert store.gold_versions(lid) == {"ann": first}


def test_new_machine_proposal_is_history_too(db):
    letter = fixture_letters()[4]
    lid = letter.letter_id
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter, proposal_for(letter))
        assert store.history(lid) == []
        machine = proposal_for(letter)
        other = "standard" if machine.get("priority").value == "expedited" else "expedited"
        store.put_proposal(corrected(machine, "priority", other))
        [change] = store.history(lid)
        assert (change.path, change.new, change.source) == ("priority", other, "machine")


def test_a_failed_journal_write_leaves_no_torn_line(db, monkeypatch):
    letter = fixture_letters()[0]
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter, proposal_for(letter))
        real_write = os.write
        calls = {"n": 0}

        def disk_full(fd, data):
            calls["n"] += 1
            if calls["n"] == 1:
                real_write(fd, bytes(data)[:10])
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "write", disk_full)
        with pytest.raises(OSError):
            store.set_status(letter.letter_id, "flagged")
        monkeypatch.setattr(os, "write", real_write)
        store.set_meta("after", 1)
        store.engine.release()  # a crash now: the journal alone must reopen cleanly
    with Store.open(db, read_only=True) as store:
        assert store.meta("after") == 1 and store.status(letter.letter_id) == "new"


def test_a_folder_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store.open(tmp_path)


def test_backups_at_open_only_when_something_changed(db):
    with Store.open(db, annotator="ann") as store:
        _ingest(store, fixture_letters()[:2])
    for _ in range(3):
        Store.open(db).close()
    backups = sorted((db.parent / "imrgold.d" / "backups").iterdir())
    assert len(backups) == 2  # the empty store, then the one with two letters
    copy = backups[-1] / "imrgold.json"
    assert copy.read_bytes() == db.read_bytes() and copy.stat().st_ino != db.stat().st_ino


def test_reader_retries_when_a_checkpoint_lands_between_its_reads(db, monkeypatch):
    from imrgold.store.journal import Journal

    with Store.open(db, annotator="ann") as writer:
        _ingest(writer, fixture_letters()[:1])
        writer.checkpoint()
        writer.set_meta("k", 1)  # in the journal only
        real_read = Journal.read
        calls = {"n": 0}

        def read_after_a_checkpoint(self, *, repair=False):
            calls["n"] += 1
            if calls["n"] == 1:  # the reader has its catalog; the writer moves on
                writer.set_meta("k", 2)
                writer.checkpoint()
            return real_read(self, repair=repair)

        monkeypatch.setattr(Journal, "read", read_after_a_checkpoint)
        with Store.open(db, read_only=True) as reader:
            assert reader.meta("k") == 2 and len(reader) == 1
        assert calls["n"] == 2


def test_a_gold_letter_edited_since_is_gold_edited_until_gold_again_or_dropped(tmp_path):
    letter = fixture_letters()[0]
    with Store.open(tmp_path / "s.json", annotator="ann") as store:
        store.add_letter(letter, proposal_for(letter))
        lid = letter.letter_id
        gold = store.mark_gold(corrected(store.get_proposal(lid), "patient.age", 51))
        assert not store.summary(lid).edited
        store.save_draft(corrected(store.working_copy(lid), "patient.age", 52))
        summary = store.summary(lid)
        assert (summary.status, summary.edited) == ("gold", True)
        assert store.get_gold(lid) == gold  # the export keeps the gold record
        store.save_draft(corrected(store.working_copy(lid), "patient.age", 51))
        assert not store.summary(lid).edited  # back to what the gold record says
        store.save_draft(corrected(store.working_copy(lid), "patient.age", 53))
        restored = store.drop_edits(lid)
        assert restored.get("patient.age").value == 51
        assert store.working_copy(lid).get("patient.age").value == 51
        assert not store.summary(lid).edited
        store.save_draft(corrected(store.working_copy(lid), "patient.age", 54))
        store.mark_gold(store.working_copy(lid))
        assert not store.summary(lid).edited and store.get_gold(lid).patient.age == 54
    with Store.open(tmp_path / "s.json", read_only=True) as store:
        assert not store.summary(lid).edited
    assert main(["doctor", "--db", str(tmp_path / "s.json")]) == 0


def test_reading_every_letter_keeps_only_a_bounded_number_of_records(tmp_path, monkeypatch):
    """An export reads each letter's record once: a reader must not keep them all."""
    from imrgold.store import engine as engine_module

    letters = fixture_letters()[:8]
    with Store.open(tmp_path / "s.json", annotator="ann") as store:
        for letter in letters:
            store.add_letter(letter, proposal_for(letter))
    monkeypatch.setattr(engine_module, "CACHE_RECORDS", 3)
    with Store.open(tmp_path / "s.json", read_only=True) as store:
        for letter in letters:
            assert store.get_proposal(letter.letter_id) is not None
            assert store.engine.cached_records() <= 4
