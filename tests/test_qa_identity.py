import os
import stat

import pytest

from imrgold.cli import identity
from imrgold.cli.common import UserError


@pytest.fixture(autouse=True)
def _config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(identity.ENV, raising=False)


def test_flag_beats_environment_beats_remembered(monkeypatch):
    identity.remember("carol")
    monkeypatch.setenv(identity.ENV, "bob")
    assert identity.resolve("alice") == "alice"
    assert identity.resolve(None) == "bob"
    monkeypatch.delenv(identity.ENV)
    assert identity.resolve(None) == "carol"


def test_asked_once_then_remembered_privately():
    asked = []

    def ask(prompt):
        asked.append(prompt)
        return "  Dana  Q "

    assert identity.resolve(None, ask=ask, interactive=True) == "Dana Q"
    assert identity.resolve(None, ask=ask, interactive=True) == "Dana Q"
    assert len(asked) == 1
    path = identity.config_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_not_on_a_terminal_is_a_one_line_error():
    with pytest.raises(UserError, match="--annotator"):
        identity.resolve(None, interactive=False)
    assert identity.resolve(None, interactive=False, required=False) is None


@pytest.mark.parametrize("bad", ["", "a/b", "x" * 80, "semi;colon"])
def test_bad_names_refused(bad):
    with pytest.raises(UserError):
        identity.resolve(bad or " ", interactive=False)


def test_a_command_that_only_opens_the_store_uses_the_remembered_name(tmp_path, monkeypatch):
    from imrgold.cli.main import main
    from imrgold.store.store import Store
    from tests.store_helpers import corrected, fixture_letters, proposal_for

    db = tmp_path / "imrgold.json"
    letter = fixture_letters()[0]
    with Store.open(db, annotator="alice") as store:
        store.add_letter(letter, proposal_for(letter))
        store.save_draft(corrected(store.get_proposal(letter.letter_id), "case_number", "CM1"))
        store.save_draft(corrected(store.get_draft(letter.letter_id), "case_number", "CM2"))
    assert identity.current() is None  # nothing remembered: no prompt, no name
    identity.remember("carol")
    assert identity.current() == "carol"
    assert main(["history", letter.letter_id[:12], "--restore", "0", "--db", str(db)]) == 0
    with Store.open(db, read_only=True) as store:
        last = store.history_entries(letter.letter_id)[-1]
        assert (last["annotator"], last["track"], last["new"]) == ("carol", "alice", "CM1")
