"""Real fixture letters and their machine proposals, shared by the store's tests."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

from imrgold.core.extract import extract
from imrgold.core.models import Letter, Proposal
from imrgold.core.reading import read_letter

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"


@cache
def fixture_letters() -> tuple[Letter, ...]:
    return tuple(read_letter(p) for p in sorted(LETTERS.iterdir()) if p.is_file())


def isolate(monkeypatch, tmp_path: Path, *unset: str) -> None:
    """Config, data and the default store under ``tmp_path``, never the user's; the ``unset``
    environment variables cleared, so a test sees none of the user's own settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("IMRGOLD_DB", str(tmp_path / "nowhere.json"))
    for name in unset:
        monkeypatch.delenv(name, raising=False)


def proposal_for(letter: Letter) -> Proposal:
    return extract(letter.text, letter.letter_id)


def corrected(proposal: Proposal, path: str, value: object) -> Proposal:
    """The proposal with one field changed by a person, as the interface does it."""
    fields = dict(proposal.fields)
    fields[path] = proposal.get(path).model_copy(update={"value": value, "source": "human"})
    return proposal.model_copy(update={"fields": fields})


def start_lock_holder(db: Path) -> subprocess.Popen[str]:
    """Another process holding ``db``'s writer lock (as "holder"), once it does; it lets go
    when its standard input closes, or when killed."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from imrgold.store import Store;"
            " s = Store.open(sys.argv[1], annotator='holder'); print('ready', flush=True);"
            " sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder
