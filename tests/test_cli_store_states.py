"""Every command against a damaged, a locked and a missing store: one line, a non-zero exit, no
traceback, and nothing written (issue 15: the store's errors are said in one place, cli/main.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imrgold.cli.main import command_modules, main
from imrgold.store import Store
from tests.store_helpers import (
    LETTERS,
    fixture_letters,
    isolate,
    proposal_for,
    start_lock_holder,
)

ROOT = Path(__file__).resolve().parent.parent
FIRST_LETTER = sorted(LETTERS.glob("*.txt"))[0]

# Each command that opens the store, the arguments it needs, and whether it writes to it.
# ``{tmp}`` is the test's folder, ``{letter}`` a real letter, ``{other}`` a healthy store.
STORE_COMMANDS: dict[str, tuple[list[str], bool]] = {
    "agreement": (["agreement"], False),
    "annotate": (["annotate"], True),
    "assign": (["assign", "--to", "ann1,ann2", "--out", "{tmp}/team"], False),
    "doctor": (["doctor"], False),
    "doctor --repair": (["doctor", "--repair"], True),
    "export": (["export", "--out", "{tmp}/gold.jsonl"], False),
    "history": (["history", "000"], False),
    "history --restore": (["history", "000", "--restore", "0"], True),
    "ingest": (["ingest", "{letter}"], True),
    "merge": (["merge", "{other}"], True),
    "review": (["review"], True),
    "review --list": (["review", "--list"], False),
    "serve": (["serve", "--port", "0"], True),
    "stats": (["stats"], False),
}
# Commands that never open the store, and one that reads it only if it is there (eval finds
# letters in folders first; see test_eval_says_a_store_it_cannot_read_and_goes_on).
NO_STORE = {"diagnoses", "drugs", "extract", "keys", "schema"}
OPTIONAL_STORE = {"eval"}
# These make a new store where none is (the interface then opens; letters or another's store are
# brought in), so "missing" is no error for them.
CREATES_A_STORE = {"annotate", "ingest", "merge", "serve", "doctor --repair"}


def test_every_command_is_listed_here():
    """A new command joins the table above, so its store errors are tested too."""
    names = {module.NAME for module in command_modules()}
    listed = {name.split()[0] for name in STORE_COMMANDS} | NO_STORE | OPTIONAL_STORE
    assert names == listed


@pytest.fixture
def stores(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, "IMRGOLD_ANNOTATOR")
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "tester")
    healthy = tmp_path / "healthy" / "imrgold.json"
    with Store.open(healthy, annotator="tester") as store:
        letter = fixture_letters()[0]
        store.add_letter(letter)
        store.put_proposal(proposal_for(letter))
    other = tmp_path / "other" / "imrgold.json"
    shutil.copytree(healthy.parent, other.parent)
    return tmp_path, healthy, other


def _argv(argv: list[str], tmp: Path, other: Path) -> list[str]:
    values = {"tmp": str(tmp), "letter": str(FIRST_LETTER), "other": str(other)}
    return [a.format(**values) for a in argv]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _one_line(capsys, code: int, name: str) -> str:
    out, err = capsys.readouterr()
    assert code != 0, f"{name}: exit 0\n{out}\n{err}"
    assert "Traceback" not in err + out, f"{name}:\n{err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imrgold "), f"{name}: {err!r}"
    return lines[0]


@pytest.mark.parametrize("name", sorted(STORE_COMMANDS))
def test_a_damaged_store_is_one_line_and_left_as_it_was(stores, capsys, name):
    tmp, db, other = stores
    db.write_text('{"meta": {"1": {"schema_version": 2, "seq": ', encoding="utf-8")  # cut short
    before = _files(db.parent)
    code = main(["--db", str(db), *_argv(STORE_COMMANDS[name][0], tmp, other)])
    if name == "doctor":  # its report is what it is for: what is damaged, and what to do
        out, err = capsys.readouterr()
        assert code != 0 and "Traceback" not in out + err and "imrgold.json" in out + err
    elif name == "doctor --repair":  # it rebuilds the catalog from the records it still has
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        if code == 0:
            with Store.open(db, read_only=True) as repaired:
                assert [s.name for s in repaired.summaries()] == [fixture_letters()[0].name]
    else:
        line = _one_line(capsys, code, name)
        assert str(db) in line or "damaged" in line, line
    if name != "doctor --repair":
        assert _files(db.parent) == before


@pytest.mark.parametrize("name", sorted(n for n in STORE_COMMANDS if n not in CREATES_A_STORE))
def test_a_missing_store_is_one_line_and_none_is_made(stores, capsys, name):
    tmp, _db, other = stores
    absent = tmp / "absent" / "imrgold.json"
    argv = ["--db", str(absent), *_argv(STORE_COMMANDS[name][0], tmp, other)]
    line = _one_line(capsys, main(argv), name)
    assert "absent" in line or "no store" in line, line
    assert not absent.exists()


@pytest.fixture
def locked(stores):
    tmp, db, other = stores
    holder = start_lock_holder(db)
    try:
        yield tmp, db, other
    finally:
        holder.stdin.close()
        holder.wait()


def test_a_locked_store_refuses_every_writer_in_one_line_and_lets_readers_read(locked, capsys):
    tmp, db, other = locked
    for name, (argv, writes) in sorted(STORE_COMMANDS.items()):
        before = _files(db.parent)
        code = main(["--db", str(db), *_argv(argv, tmp, other)])
        if writes:
            line = _one_line(capsys, code, name)
            assert "locked" in line or "holder" in line, line
            assert _files(db.parent) == before, name
        else:
            _out, err = capsys.readouterr()
            assert "Traceback" not in err, f"{name}:\n{err}"


def test_eval_says_a_store_it_cannot_read_and_goes_on(stores, capsys):
    tmp, db, _other = stores
    db.write_text("[1, 2, 3]", encoding="utf-8")
    (tmp / "no-letters").mkdir()  # so the gold's letters are looked for in the store
    gold = str(ROOT / "fixtures" / "gold")
    code = main(["--db", str(db), "eval", "--gold", gold, "--letters", str(tmp / "no-letters")])
    _out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err  # no letters anywhere: an error after the warning
    assert "the store is not read" in err and str(db) in err
