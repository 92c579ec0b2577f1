"""`imrgold history` and the lock as a user meets them."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.store import Store, StoreLocked
from tests.store_helpers import corrected, fixture_letters, proposal_for, start_lock_holder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "cli-user")
    path = tmp_path / "imrgold.json"
    monkeypatch.setenv("IMRGOLD_DB", str(path))
    return path


def test_history_by_case_number_name_and_prefix_then_restore(db, capsys):
    letter = fixture_letters()[2]
    lid = letter.letter_id
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter, proposal_for(letter))
        machine = store.get_proposal(lid)
        store.save_draft(corrected(machine, "case_number", "CM00-1234567"))
        store.save_draft(corrected(store.get_draft(lid), "patient.sex", "female"))
    for query in ("CM00-1234567", letter.name, Path(letter.name).stem, lid[:10]):
        assert main(["history", query]) == 0, query
        out = capsys.readouterr().out
        assert '"CM00-1234567"' in out and "patient.sex" in out and "ann (human)" in out
    assert main(["history", "nothing-like-it"]) == 2
    assert "no letter" in capsys.readouterr().err
    # Entry 0 is the case number correction: restoring it undoes the later change of sex.
    assert main(["history", lid[:10], "--restore", "0"]) == 0
    assert "ann's draft" in capsys.readouterr().out
    with Store.open(db, read_only=True) as store:
        draft = store.get_draft(lid, "ann")
        assert draft.get("case_number").value == "CM00-1234567"
        assert draft.get("patient.sex").value == machine.get("patient.sex").value
    assert main(["history", lid[:10], "--json"]) == 0
    assert capsys.readouterr().out.count("\n") == len(Store.open(db, read_only=True).history(lid))


def test_history_restore_bad_point(db, capsys):
    letter = fixture_letters()[0]
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter, proposal_for(letter))
    assert main(["history", letter.name, "--restore", "7"]) == 2
    assert "no entry 7" in capsys.readouterr().err


def test_lock_names_the_holding_process_and_dies_with_it(db):
    with Store.open(db, annotator="ann"):
        pass
    holder = start_lock_holder(db)
    try:
        with pytest.raises(StoreLocked) as caught:
            Store.open(db, annotator="me")
        message = str(caught.value)
        assert f"process {holder.pid}" in message and "(holder)" in message and "since" in message
        with Store.open(db, read_only=True) as reader:  # reading is still allowed
            assert reader.summaries() == []
        assert main(["history", "x", "--restore", "0"]) == 2
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with Store.open(db, annotator="me") as store:  # the kernel dropped the dead holder's lock
        assert store.annotator == "me" and os.getpid() != holder.pid


def test_a_forked_child_does_not_keep_a_dead_writers_lock(db):
    with Store.open(db, annotator="ann"):
        pass
    script = (
        "import os, sys; from store import Store; s = Store.open(sys.argv[1], annotator='p');"
        " pid = os.fork()\n"
        "if pid == 0:\n    os.write(1, b'child\\n'); sys.stdin.read(); os._exit(0)\n"
        "os.write(1, b'%d\\n' % pid); sys.stdin.read()"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(db)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    # Both lines, in either order: the child runs its at-fork hook before it prints.
    lines = {parent.stdout.readline().strip(), parent.stdout.readline().strip()}
    child = int((lines - {"child"}).pop())
    try:
        with pytest.raises(StoreLocked):
            Store.open(db)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        with Store.open(db, annotator="me") as store:  # the child lives on, the lock is free
            assert store.annotator == "me"
    finally:
        os.kill(child, signal.SIGKILL)


def test_history_hides_no_ops_shows_list_changes_whole_and_takes_a_name_prefix(tmp_path, capsys):
    from imrgold.cli.commands.history import _change, _no_op

    assert _no_op({"old": None, "new": None}) and not _no_op({"old": None, "new": "x"})
    long = [f"diagnosis number {i}" for i in range(12)]
    assert _change(long, [*long[:11], "lumbar strain"]) == (
        '-"diagnosis number 11" +"lumbar strain"'
    )
    assert _change(["a", "b"], ["b", "a"]).endswith("reordered")
    from imrgold.cli.commands.history import resolve
    from imrgold.core.models import LetterSummary

    summaries = [
        LetterSummary(letter_id="a" * 64, name="000_fa2635f264c99a6e.txt"),
        LetterSummary(letter_id="b" * 64, name="001_67b9d8348e81d7a3.txt"),
    ]
    assert resolve(summaries, "000").name == "000_fa2635f264c99a6e.txt"
