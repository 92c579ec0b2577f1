"""`imrgold agreement` keeps the extractor's proposals between runs (``core.machine_cache``):
a letter is extracted once for its text and the extractor's fingerprint, the figures are the
same from the cache, a changed extractor extracts again, and a damaged cache file is ignored
with a warning and rewritten, never a crash."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core import machine_cache
from imrgold.core.lexicon import learned_path
from imrgold.store import Store
from imrgold.store.layout import Layout
from tests.store_helpers import LETTERS, corrected, fixture_letters, isolate, proposal_for

N_LETTERS = 3


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    """Three letters marked gold by alice, two of them also by bob with one value changed."""
    path = tmp_path_factory.mktemp("agreement") / "s.json"
    with Store.open(path, annotator="alice") as store:
        for index, letter in enumerate(fixture_letters()[:N_LETTERS]):
            proposal = proposal_for(letter)
            store.add_letter(letter, proposal)
            store.mark_gold(proposal)
            if index:
                store.put_gold(corrected(proposal, "patient.age", 70 + index).to_record(), "bob")
    return path


@pytest.fixture
def extracted(tmp_path, monkeypatch) -> list[str]:
    """The letters the extractor ran on, in order; the cache under ``tmp_path``."""
    isolate(monkeypatch, tmp_path, "IMRGOLD_DATA_DIR", "IMRGOLD_DRUG_DICTIONARY")
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[str] = []
    real = machine_cache._extract_values

    def counted(text: str, letter_id: str) -> dict:
        calls.append(letter_id)
        return real(text, letter_id)

    monkeypatch.setattr(machine_cache, "_extract_values", counted)
    return calls


def _agreement(store_path: Path, capsys) -> list[dict]:
    assert main(["agreement", "--db", str(store_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(c["name"] == "machine vs gold" for c in report)
    return report


def _cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("proposals-*.jsonl"))


def test_each_letter_is_extracted_once_and_the_figures_are_the_same(
    store_path, extracted, tmp_path, capsys
):
    first = _agreement(store_path, capsys)
    assert len(extracted) == N_LETTERS
    [cached] = _cache_files(tmp_path)
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert stat.S_IMODE(cached.parent.stat().st_mode) == 0o700
    assert not list(cached.parent.glob(".*"))  # the entries added were merged, the spill gone
    assert _agreement(store_path, capsys) == first
    assert len(extracted) == N_LETTERS  # nothing extracted the second time
    # The stored proposals are the same extractor's: machine vs gold agrees with them.
    assert main(["agreement", "--db", str(store_path), "--json", "--machine", "stored"]) == 0
    assert json.loads(capsys.readouterr().out) == first


def test_a_changed_extractor_extracts_again(store_path, extracted, tmp_path, capsys, monkeypatch):
    first = _agreement(store_path, capsys)
    [before] = _cache_files(tmp_path)
    monkeypatch.setattr(machine_cache, "_code_digest", lambda: "another extractor")
    assert _agreement(store_path, capsys) == first
    assert len(extracted) == 2 * N_LETTERS
    [after] = _cache_files(tmp_path)
    assert after != before  # the old extractor's file is gone


def test_learning_a_drug_name_changes_the_fingerprint(extracted):
    before = machine_cache.fingerprint()
    path = learned_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"names": {}}')
    assert machine_cache.fingerprint() != before


DAMAGE = {
    "not json": b"\x00garbage\n",
    "another format": b'{"format": 99}\n',
    "a cut line": None,  # the real file cut in the middle of an entry
    "an entry of another shape": None,
    "empty": b"",
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_cache_is_ignored_with_a_warning_and_rewritten(
    store_path, extracted, tmp_path, capsys, caplog, damage
):
    first = _agreement(store_path, capsys)
    [cached] = _cache_files(tmp_path)
    data = cached.read_bytes()
    if damage == "a cut line":
        broken = data[: len(data) - 40]
    elif damage == "an entry of another shape":
        header, line, *rest = data.splitlines()
        broken = b"\n".join([header, line[:68] + b"[1, 2]]", *rest])
    else:
        broken = DAMAGE[damage]
    cached.write_bytes(broken)
    with caplog.at_level(logging.WARNING, logger="imrgold.core.machine_cache"):
        assert _agreement(store_path, capsys) == first
    if damage != "empty":  # an empty file is a cache with nothing in it yet
        assert str(cached) in caplog.text and "extracting again" in caplog.text
    assert len(extracted) > N_LETTERS
    # Rewritten whole: the next run extracts nothing.
    done = len(extracted)
    caplog.clear()
    assert _agreement(store_path, capsys) == first
    assert len(extracted) == done and not caplog.text


def test_a_cache_that_cannot_be_written_only_costs_speed(
    store_path, extracted, tmp_path, capsys, caplog
):
    (tmp_path / "cache").mkdir(mode=0o700)
    blocked = tmp_path / "cache" / f"proposals-{machine_cache.fingerprint()}.jsonl"
    blocked.mkdir()  # a folder where the file goes: unreadable and unwritable as one
    with caplog.at_level(logging.WARNING, logger="imrgold.core.machine_cache"):
        first = _agreement(store_path, capsys)
    assert "only speed is lost" in caplog.text
    assert _agreement(store_path, capsys) == first
    assert len(extracted) == 2 * N_LETTERS


def test_a_link_planted_at_the_cache_file_is_not_followed(
    store_path, extracted, tmp_path, capsys, caplog
):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "cache").mkdir(mode=0o700)
    link = tmp_path / "cache" / f"proposals-{machine_cache.fingerprint()}.jsonl"
    link.symlink_to(victim)
    with caplog.at_level(logging.WARNING, logger="imrgold.core.machine_cache"):
        first = _agreement(store_path, capsys)
    assert "symbolic link" in caplog.text
    assert victim.read_text() == "keep me"
    assert not link.is_symlink()  # replaced by the cache file itself
    assert _agreement(store_path, capsys) == first
    assert len(extracted) == N_LETTERS


def _ingested(tmp_path: Path, name: str, capsys) -> Path:
    """Three fixture letters ingested as a user does (their proposals stamped with the
    extractor's fingerprint), marked gold by alice with one value changed in each."""
    folder = tmp_path / f"{name}-letters"
    folder.mkdir()
    for path in sorted(LETTERS.glob("*.txt"))[:N_LETTERS]:
        (folder / path.name).write_bytes(path.read_bytes())
    db = tmp_path / f"{name}.json"
    assert main(["ingest", str(folder), "--db", str(db), "--jobs", "1"]) == 0
    capsys.readouterr()
    with Store.open(db, annotator="alice") as store:
        for index, lid in enumerate(store.letter_ids()):
            proposal = store.get_proposal(lid)
            assert proposal is not None and proposal.extractor == machine_cache.fingerprint()
            store.mark_gold(corrected(proposal, "patient.age", 60 + index))
    return db


def test_proposals_the_same_extractor_stored_at_ingest_are_not_extracted_again(
    extracted, tmp_path, capsys, monkeypatch
):
    db = _ingested(tmp_path, "s", capsys)
    extracted.clear()  # ingest's own extraction does not go through the cache
    fast = _agreement(db, capsys)
    assert extracted == []
    # The simple way, every letter extracted by the extractor as it is now, says the same.
    monkeypatch.setattr(machine_cache, "_code_digest", lambda: "another extractor")
    assert _agreement(db, capsys) == fast
    assert len(extracted) == N_LETTERS


def test_a_store_indexed_by_an_older_version_is_indexed_again_and_the_old_index_goes(
    extracted, tmp_path, capsys
):
    db = _ingested(tmp_path, "s", capsys)
    layout = Layout(db)
    old = layout.dir / "index-1"
    layout.index.rename(old)
    assert _agreement(db, capsys)  # a reader: the records answer, nothing written
    assert old.is_dir() and not layout.index.exists()
    Store.open(db, annotator="alice").close()  # the first writer builds the index
    assert layout.index.is_dir() and not old.exists()
    extracted.clear()
    _agreement(db, capsys)
    assert extracted == []


def test_a_letter_another_extractor_made_after_the_stamped_ones_is_extracted_when_reached(
    extracted, tmp_path, capsys, monkeypatch
):
    db = _ingested(tmp_path, "s", capsys)
    straggler = fixture_letters()[N_LETTERS]  # stored by hand: no extractor's stamp
    with Store.open(db, annotator="alice") as store:
        proposal = proposal_for(straggler)
        store.add_letter(straggler, proposal)
        store.mark_gold(corrected(proposal, "patient.age", 59))
    extracted.clear()
    mixed = _agreement(db, capsys)
    assert extracted == [straggler.letter_id]
    monkeypatch.setattr(machine_cache, "_code_digest", lambda: "another extractor")
    assert _agreement(db, capsys) == mixed


def test_the_fingerprint_reads_every_core_module_extraction_loads():
    # In a fresh interpreter, extracting a real letter loads only modules the fingerprint reads:
    # a module it skipped could change what is proposed and keep stale proposals.
    import subprocess
    import sys

    letter = next(iter(LETTERS.glob("*.txt")))
    code = (
        "import sys, pathlib; from imrgold.core.extract import extract; "
        f"extract(pathlib.Path({str(letter)!r}).read_text(), 'x'); "
        "print('\\n'.join(m for m in sys.modules if m.startswith('imrgold.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    read = {p.stem for p in machine_cache.extraction_modules()}
    core = {m.split(".")[2] for m in loaded if m.startswith("imrgold.core.")}
    assert core - {"data"} <= read
    assert {"extract", "extract_items", "icd10", "lexicon"} <= read
    # ... and not the modules that only use proposals: changing them keeps the cache
    assert not {"deidentify", "agreement", "export", "machine_cache", "render"} & read
    assert not any(m.startswith(("imrgold.store", "imrgold.tui")) for m in loaded)


def test_a_change_to_extraction_code_changes_the_fingerprint_and_another_does_not(
    tmp_path, monkeypatch
):
    core = tmp_path / "core"
    (core / "data").mkdir(parents=True)
    (core / "extract.py").write_text("from imrgold.core.text import fold\n")
    (core / "text.py").write_text("def fold(s):\n    return s\n")
    (core / "export.py").write_text("from imrgold.core.extract import extract\n")
    monkeypatch.setattr(machine_cache, "_CORE", core)

    def digest() -> str:
        machine_cache._code_digest.cache_clear()
        return machine_cache._code_digest()

    try:
        first = digest()
        (core / "export.py").write_text("from imrgold.core.extract import extract  # changed\n")
        assert digest() == first
        (core / "text.py").write_text("def fold(s):\n    return s.strip()\n")
        assert digest() != first
    finally:  # the next test reads the real core
        machine_cache._code_digest.cache_clear()
