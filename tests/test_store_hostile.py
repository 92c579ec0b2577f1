"""Hostile states of a store: nothing any file still holds is lost, no foreign file is written.

Each test builds the state an adversarial run found (issue: "Nothing lost, nothing leaked"),
then checks the one-line refusal, that every file is still there byte for byte, and that
`imrgold doctor --repair` gives back every letter and gold record.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.store import NotAStore, Store, StoreDamaged
from tests.store_helpers import corrected, fixture_letters, proposal_for


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    """A store of 6 letters, 4 of them gold, with no backups (they could all have rotated)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "ann")
    monkeypatch.delenv("IMRGOLD_DB", raising=False)
    path = tmp_path / "imrgold.json"
    letters = fixture_letters()[:6]
    with Store.open(path, annotator="ann") as store:
        for letter in letters:
            store.add_letter(letter, proposal_for(letter))
        for letter in letters[:4]:
            store.mark_gold(corrected(store.get_proposal(letter.letter_id), "patient.age", 51))
    shutil.rmtree(path.with_name("imrgold.d") / "backups")
    return path


def _files(db: Path) -> dict[str, bytes]:
    """Every file of the store but the lock, by path, with its bytes."""
    folder = db.with_name(db.stem + ".d")
    found = {
        str(p.relative_to(db.parent)): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    found.pop(str((folder / "lock").relative_to(db.parent)), None)
    return found


def _gold(db: Path) -> dict[str, object]:
    with Store.open(db, read_only=True) as store:
        return {r.letter_id: r for r in store.gold_records()}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


CATALOG_DAMAGE = {
    "no meta row": lambda data: {k: v for k, v in data.items() if k != "meta"},
    "a JSON list": lambda data: [1, 2, 3],
    "an empty object": lambda data: {},
    "meta row of another shape": lambda data: {**data, "meta": {"1": {"schema_version": "2"}}},
}


@pytest.mark.parametrize("damage", CATALOG_DAMAGE, ids=list(CATALOG_DAMAGE))
def test_a_catalog_without_its_schema_row_is_refused_and_repaired_without_loss(db, damage, capsys):
    gold = _gold(db)
    assert len(gold) == 4
    data = json.loads(db.read_text())
    db.write_text(json.dumps(CATALOG_DAMAGE[damage](data)))
    before = _files(db)

    # Every write-open refuses, in one line, and removes nothing.
    with pytest.raises(StoreDamaged) as caught:
        Store.open(db)
    assert "\n" not in str(caught.value) and "doctor --repair" in str(caught.value)
    assert main(["ingest", "--db", str(db), str(fixture_letters()[0].source_path)]) != 0
    _one_line(capsys)
    assert _files(db) == before

    # The repair doctor recommends keeps every letter and gold record the records hold.
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    capsys.readouterr()
    assert _gold(db) == gold
    with Store.open(db, read_only=True) as store:
        assert len(store.summaries()) == 6
        assert sum(s.status == "gold" for s in store.summaries()) == 4
        for letter in fixture_letters()[:6]:
            assert store.get_letter(letter.letter_id).text == letter.text
            assert store.get_proposal(letter.letter_id) is not None


FOREIGN = {
    "settings.json": b'{"theme": "dark", "font_size": 12}\n',
    "tinydb.json": b'{"_default": {"1": {"name": "x"}}}',
    "list.json": b"[1, 2, 3]",
    "package.json": b'{"name": "x", "dependencies": {"a": {"version": "1"}}}',
}


@pytest.mark.parametrize("name", FOREIGN, ids=list(FOREIGN))
def test_db_naming_a_foreign_file_is_refused_and_the_file_untouched(tmp_path, name, capsys):
    path = tmp_path / name
    path.write_bytes(FOREIGN[name])
    path.chmod(0o644)
    with pytest.raises(NotAStore):
        Store.open(path)
    letter = fixture_letters()[0].source_path
    for args in (
        ["ingest", "--db", str(path), str(letter)],
        ["doctor", "--repair", "--db", str(path)],
        ["export", "--db", str(path), "--out", str(tmp_path / "out.jsonl")],
        ["stats", "--db", str(path)],
    ):
        code = main(args)
        assert code != 0, args
        out = capsys.readouterr()
        assert "Traceback" not in out.err + out.out
        assert "not an imrgold store" in out.err + out.out, args
    assert path.read_bytes() == FOREIGN[name]
    assert (path.stat().st_mode & 0o777) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_an_interrupted_migration_moves_left_overs_aside_never_deletes(tmp_path):
    """A schema-1 store whose first migration died: its left-overs are kept in a backup."""
    letter = fixture_letters()[0]
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"letters": {"1": json.loads(letter.model_dump_json())}}))
    leftover = tmp_path / "old.d" / "records" / "ab" / "x.json"
    leftover.parent.mkdir(parents=True)
    leftover.write_text('{"state": {}}')
    with Store.open(path) as store:
        assert store.letter_ids() == [letter.letter_id]
    kept = list((tmp_path / "old.d" / "backups").glob("*-interrupted-migration/records/ab/x.json"))
    assert len(kept) == 1 and kept[0].read_text() == '{"state": {}}'


def test_the_store_folder_gone_is_an_error_not_an_empty_store(db, capsys):
    shutil.rmtree(db.with_name("imrgold.d"))
    for args in (
        ["ingest", "--db", str(db), str(fixture_letters()[0].source_path)],
        ["stats", "--db", str(db)],
    ):
        assert main(args) != 0
        assert "imrgold.d is missing" in _one_line(capsys)
    assert not db.with_name("imrgold.d").exists() or not any(
        db.with_name("imrgold.d").rglob("*.json")
    )


def test_doctor_on_a_store_from_a_newer_imrgold_says_so_and_changes_nothing(db, capsys):
    data = json.loads(db.read_text())
    data["meta"]["1"]["schema_version"] = 99
    db.write_text(json.dumps(data))
    before = db.read_bytes(), _files(db)
    assert main(["doctor", "--db", str(db)]) != 0
    out = capsys.readouterr().out
    assert "newer imrgold" in out and "migrates" not in out
    assert main(["doctor", "--repair", "--db", str(db)]) != 0
    out = capsys.readouterr().out
    assert "migrated" not in out
    assert (db.read_bytes(), _files(db)) == before


# -- links, devices and modes -------------------------------------------------------------------


def _export_args(db: Path, out: Path | str, *extra: str) -> list[str]:
    return ["export", "--db", str(db), "--out", str(out), *extra]


def test_export_never_writes_through_a_planted_link_and_is_private(db, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "gold.jsonl"
    out.symlink_to(victim)
    (tmp_path / "gold.jsonl.part").symlink_to(victim)  # where the old export wrote first
    old_umask = os.umask(0o022)
    try:
        assert main(_export_args(db, out)) == 0
    finally:
        os.umask(old_umask)
    capsys.readouterr()
    assert victim.read_text() == "precious"
    assert not out.is_symlink() and len(out.read_text().splitlines()) == 4
    assert (out.stat().st_mode & 0o777) == 0o600
    # An existing readable export is replaced by a private one.
    out.chmod(0o644)
    assert main(_export_args(db, out)) == 0
    assert (out.stat().st_mode & 0o777) == 0o600
    assert not list(tmp_path.glob(".gold.jsonl.*.tmp"))


def test_export_to_a_device_fifo_or_folder_is_refused_in_one_line(db, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    stdout_link = tmp_path / "stdout"
    stdout_link.symlink_to("/dev/null")
    for target in (fifo, folder, stdout_link, Path("/dev/null")):
        assert main(_export_args(db, target)) != 0, target
        line = _one_line(capsys)
        assert str(target) in line and ("device" in line or "folder" in line), line
    assert stdout_link.is_symlink() and Path("/dev/null").is_char_device()


def test_export_refuses_an_incomplete_data_set_unless_allowed(db, tmp_path, capsys):
    shards = sorted((db.with_name("imrgold.d") / "gold").glob("*.json"))
    victim = shards[0]
    victim.unlink()
    out = tmp_path / "gold.jsonl"
    assert main(_export_args(db, out)) != 0
    line = _one_line(capsys)
    assert "gold record is missing" in line and victim.name in line
    assert not out.exists()
    assert main(_export_args(db, out, "--allow-missing")) == 0
    err = capsys.readouterr().err
    assert "left out 1 letter(s) whose gold record is lost" in err
    assert len(out.read_text().splitlines()) == 3


@pytest.mark.parametrize("name", ["journal", "lock"])
def test_store_files_that_are_links_are_refused_not_followed(db, tmp_path, name, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = db.with_name("imrgold.d") / name
    target.unlink(missing_ok=True)
    target.symlink_to(victim)
    assert main(["ingest", "--db", str(db), str(fixture_letters()[0].source_path)]) != 0
    assert "symbolic link" in _one_line(capsys)
    assert victim.read_text() == "precious\n"


def test_deleting_the_lock_file_does_not_let_a_second_writer_in(db):
    from imrgold.store import StoreLocked

    with Store.open(db, annotator="first"):
        (db.with_name("imrgold.d") / "lock").unlink()
        with pytest.raises(StoreLocked):
            Store.open(db, annotator="second")


class _Planted:
    """Unpickling this runs ``touch``: what a crafted cache file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_lexicon_cache_is_refused_without_running_it(tmp_path, caplog):
    import pickle

    from imrgold.core.lexicon_build import cache_key, dictionary_path, load_tables

    marker = tmp_path / "pwned"
    cache = tmp_path / "cache"
    cache.mkdir()
    cached = cache / f"lexicon-{cache_key(dictionary_path(), None)}.pkl"
    cached.write_bytes(pickle.dumps(_Planted(marker)))
    with caplog.at_level("WARNING"):
        tables = load_tables(dictionary_path(), None, cache)
    assert not marker.exists()
    assert tables.names  # rebuilt from the dictionary
    assert "refused" in caplog.text and "os" in caplog.text
    # The rebuilt cache is private and loads again.
    assert (cached.stat().st_mode & 0o777) == 0o600
    assert load_tables(dictionary_path(), None, cache).names == tables.names


@pytest.mark.parametrize("damage", ["deleted", "garbled"])
def test_a_lost_letter_text_is_restored_by_ingesting_the_original_again(
    db, tmp_path, damage, capsys
):
    letter = fixture_letters()[1]
    text_file = db.with_name("imrgold.d") / "texts" / letter.letter_id[:2]
    text_file = text_file / f"{letter.letter_id}.json"
    if damage == "deleted":
        text_file.unlink()
    else:
        text_file.write_bytes(b'{"letter_id": "trunc')
    assert main(["doctor", "--db", str(db)]) != 0
    assert "ingest" in capsys.readouterr().out
    copy = tmp_path / "again" / "letter.txt"
    copy.parent.mkdir()
    copy.write_bytes(Path(letter.source_path).read_bytes())
    assert main(["ingest", "--db", str(db), str(copy)]) == 0
    out = capsys.readouterr()
    assert "restored the text" in out.err
    assert "0 added, 1 restored, 0 duplicate" in out.out
    with Store.open(db, read_only=True) as store:
        assert store.get_letter(letter.letter_id).text == letter.text
        assert store.status(letter.letter_id) == "gold"
    assert main(["doctor", "--db", str(db)]) == 0
    if damage == "garbled":  # kept beside, never overwritten
        assert len(list(text_file.parent.glob(f"{text_file.name}.damaged-*"))) == 1
    # A second ingest of the same file is a plain duplicate again.
    assert main(["ingest", "--db", str(db), str(copy)]) == 0
    assert "0 restored" not in capsys.readouterr().out


def test_os_errors_are_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    """A full disk or a read-only file system while writing: one line, the file, no trace."""
    import errno

    from imrgold.core import files

    db = tmp_path / "store.json"
    assert main(["ingest", "--db", str(db), str(fixture_letters()[0].source_path)]) == 0
    capsys.readouterr()

    def full(path, data, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(files, "atomic_write", full)
    monkeypatch.setattr("imrgold.cli.commands.export.atomic_write", full, raising=False)
    out = tmp_path / "gold\nname\x1b[31m.jsonl"
    code = main(["export", "--db", str(db), "--out", str(out), "--allow-empty"])
    assert code != 0
    line = _one_line(capsys)
    assert "No space left on device" in line
    assert "\x1b" not in line and "\\x1b" in line and "\\n" in line
    assert not out.exists()


def test_a_file_name_with_control_characters_stays_on_its_line(tmp_path, capsys):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "bad\nname\x1b[2J.txt").write_bytes(b"")
    assert main(["ingest", "--db", str(tmp_path / "s.json"), str(folder)]) != 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "empty file" in lines[0]
    assert "\x1b" not in err and "\\x1b[2J" in lines[0]


@pytest.mark.parametrize("limit", ["nan", "inf", "-inf", "1e300", "0", "-1"])
def test_a_max_size_that_is_no_size_is_one_line(tmp_path, capsys, limit):
    letter = str(fixture_letters()[0].source_path)
    assert main(["ingest", "--db", str(tmp_path / "s.json"), f"--max-size={limit}", letter]) == 2
    assert "--max-size must be" in _one_line(capsys)


def test_db_naming_a_text_file_or_a_folder_is_refused(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("Linux version 6.1 (gcc) #1 SMP\n")
    letter = str(fixture_letters()[0].source_path)
    for args in (["stats", "--db", str(text)], ["ingest", "--db", str(text), letter]):
        assert main(args) != 0
        assert "not an imrgold store" in _one_line(capsys)
    assert text.read_text() == "Linux version 6.1 (gcc) #1 SMP\n"
    assert main(["stats", "--db", str(tmp_path)]) != 0
    assert "is a folder" in _one_line(capsys)


def test_eval_gold_that_cannot_be_read_is_one_line_and_never_blocks(tmp_path, capsys):
    fifo = tmp_path / "gold.json"
    os.mkfifo(fifo)
    assert main(["eval", "--gold", str(fifo)]) != 0
    assert "not a regular file" in _one_line(capsys)
    folder = tmp_path / "gold"
    (folder / "x.json").mkdir(parents=True)
    (folder / "latin1.json").write_bytes(b'{"letter_id": "\xe9"}')
    assert main(["eval", "--gold", str(folder)]) != 0
    assert "not UTF-8" in _one_line(capsys)


def test_doctor_flags_user_folders_others_can_read_and_repair_closes_them(
    db, tmp_path, monkeypatch, capsys
):
    """`drugs learn` before the first store (an older version) made the data folder 0755."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    monkeypatch.setenv("IMRGOLD_DATA_DIR", str(data))
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(cache))
    monkeypatch.setenv("IMRGOLD_CONFIG_DIR", str(tmp_path / "config"))
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    learned = data / "learned_drugs.json"
    learned.write_text("{}")
    os.chmod(learned, 0o644)
    cache.mkdir(mode=0o700)
    assert main(["doctor", "--db", str(db)]) != 0
    out = capsys.readouterr().out
    assert str(data) in out and "755" in out and "learned_drugs.json" in out
    assert str(cache) not in out
    assert main(["doctor", "--repair", "--db", str(db)]) == 0
    assert (data.stat().st_mode & 0o777, learned.stat().st_mode & 0o777) == (0o700, 0o600)
    assert main(["doctor", "--db", str(db)]) == 0


def test_a_full_disk_midway_through_ingest_prints_what_was_added_first(
    tmp_path, capsys, monkeypatch
):
    import errno

    letters = fixture_letters()[:6]
    db = tmp_path / "store.json"
    real = Store.add_letter
    calls = []

    def filling(self, letter, proposal=None):
        calls.append(letter.letter_id)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        return real(self, letter, proposal)

    monkeypatch.setattr(Store, "add_letter", filling)
    code = main(["ingest", "--db", str(db), "--jobs", "1", *(str(p.source_path) for p in letters)])
    assert code != 0
    captured = capsys.readouterr()
    assert "3 added" in captured.out and "stopped by the error below" in captured.out
    problems = [line for line in captured.err.splitlines() if "No space left" in line]
    assert len(problems) == 1 and "Traceback" not in captured.err
    monkeypatch.setattr(Store, "add_letter", real)
    with Store.open(db, read_only=True) as store:
        assert set(store.letter_ids()) == set(calls[:3])


def test_a_store_path_with_control_characters_is_escaped_in_a_warning_too(
    tmp_path, capsys, monkeypatch
):
    """Warnings go through the same escaping as errors: here the notice that a store from an
    earlier version is indexed (said from `SAY_INDEXING_FROM` letters; one here)."""
    from imrgold.store import engine
    from imrgold.store.layout import Layout

    db = tmp_path / "odd\x1b[2Jname" / "s.json"
    letter = fixture_letters()[0]
    with Store.open(db, annotator="alice") as store:
        store.add_letter(letter, proposal_for(letter))
    shutil.rmtree(Layout(db).index)  # as a store from before this index version
    monkeypatch.setattr(engine, "SAY_INDEXING_FROM", 1)
    capsys.readouterr()
    assert main(["ingest", "--db", str(db), str(letter.source_path)]) == 0
    err = capsys.readouterr().err
    [notice] = [line for line in err.splitlines() if "indexing" in line]
    assert notice.startswith("imrgold: indexing the 1 letter(s) of ")
    assert "\x1b" not in err and "\\x1b[2J" in notice
    assert Layout(db).index.is_dir()
    assert main(["ingest", "--db", str(db), str(letter.source_path)]) == 0
    assert "indexing" not in capsys.readouterr().err  # once
