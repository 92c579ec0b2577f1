"""`core.parallel.ordered_map`: the same results as ``map``, in order, from worker processes; the
items drawn only as chunks go out; a worker's exception reaches the caller.  And the commands
that use it give the same output with workers as without: `export` (spans, de-identified) and
`agreement` (the letters another extractor made, extracted in workers)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core import machine_cache, parallel
from imrgold.core.parallel import ordered_map
from imrgold.store import Store
from tests.store_helpers import corrected, fixture_letters, isolate, proposal_for


def square(n: int) -> int:
    return n * n


def pid_of(_: int) -> int:
    return os.getpid()


def fail_on_seven(n: int) -> int:
    if n == 7:
        raise ValueError("seven")
    return n


def test_workers_give_what_map_gives_in_order():
    items = list(range(100))
    assert list(ordered_map(square, items, jobs=2, chunk=3)) == list(map(square, items))
    assert list(ordered_map(square, items, jobs=1)) == list(map(square, items))
    assert list(ordered_map(square, [], jobs=2)) == []


def test_the_work_happens_in_other_processes():
    pids = set(ordered_map(pid_of, range(40), jobs=2, chunk=2))
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_items_are_drawn_as_chunks_go_out_not_all_at_once():
    drawn: list[int] = []

    def items():
        for n in range(1000):
            drawn.append(n)
            yield n

    results = ordered_map(square, items(), jobs=2, chunk=4)
    assert next(results) == 0
    window = 2 * parallel.WINDOW_PER_JOB
    assert len(drawn) <= (window + 1) * 4  # the chunks in flight, and the one just sent
    assert list(results) == [n * n for n in range(1, 1000)]


def test_a_workers_exception_reaches_the_caller():
    with pytest.raises(ValueError, match="seven"):
        list(ordered_map(fail_on_seven, range(20), jobs=2, chunk=2))


# ---------------------------------------------------------------------------------------------
# The commands, with workers and without.


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    """Six letters, gold by alice, four also by bob with one value changed; their proposals
    carry no extractor's stamp (as a store from before stamping)."""
    path = tmp_path_factory.mktemp("parallel") / "s.json"
    with Store.open(path, annotator="alice") as store:
        for index, letter in enumerate(fixture_letters()[:6]):
            proposal = proposal_for(letter)
            store.add_letter(letter, proposal)
            store.mark_gold(proposal)
            if index > 1:
                store.put_gold(corrected(proposal, "patient.age", 70 + index).to_record(), "bob")
    return path


def _run(capsys, *argv: str) -> tuple[str, str]:
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    return out, err


@pytest.mark.parametrize(
    "fmt",
    [
        ["spans"],
        ["spans", "--deidentify"],
        ["jsonl", "--deidentify"],
        ["spans", "--annotator", "bob"],
    ],
    ids=" ".join,
)
def test_export_with_workers_writes_what_one_process_writes(
    store_path, tmp_path, capsys, monkeypatch, fmt
):
    isolate(monkeypatch, tmp_path)
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        *_, err = _run(
            capsys, "export", "--db", str(store_path), "--format", fmt[0], *fmt[1:],
            "--jobs", jobs, "--out", str(out),
        )  # fmt: skip
        outputs.append((out.read_bytes(), err.replace(str(out), "OUT")))
    assert outputs[0] == outputs[1]
    assert outputs[0][0].count(b"\n") == (4 if "bob" in fmt else 6)
    if "--deidentify" in fmt:  # the workers' counts reached the summary
        assert "deidentified 6 letter(s)" in outputs[1][1]


def test_agreement_extracts_another_extractors_letters_in_workers(
    store_path, tmp_path, capsys, monkeypatch
):
    isolate(monkeypatch, tmp_path, "IMRGOLD_DATA_DIR", "IMRGOLD_DRUG_DICTIONARY")
    argv = ["agreement", "--db", str(store_path), "--json"]
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path / "one"))
    serial = json.loads(_run(capsys, *argv)[0])
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path / "workers"))
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
    calls: list[str] = []
    monkeypatch.setattr(machine_cache, "_extract_values", lambda *a: calls.append(a[1]) or {})
    assert json.loads(_run(capsys, *argv)[0]) == serial
    assert calls == []  # nothing extracted in this process: the workers did it
    [kept] = (tmp_path / "workers").glob("proposals-*.jsonl")
    assert len(kept.read_bytes().splitlines()) == 1 + 6  # header and every letter


def test_an_interrupted_export_with_workers_leaves_nothing_half_written(
    store_path, tmp_path, monkeypatch, capsys
):
    """Ctrl+C while workers render: one line, exit 130, no data set and no temporary file, and
    the workers are shut down."""
    import multiprocessing

    from imrgold.store.store import Store as StoreClass

    real = StoreClass.gold_entries

    def interrupted(self, *args, **kwargs):
        # The exporting process reads the records; the workers read the rest and render.
        for n, entry in enumerate(real(self, *args, **kwargs)):
            if n == 3:
                raise KeyboardInterrupt
            yield entry

    monkeypatch.setattr(StoreClass, "gold_entries", interrupted)
    out = tmp_path / "out" / "spans.jsonl"
    out.parent.mkdir()
    argv = ["export", "--db", str(store_path), "--format", "spans", "--deidentify"]
    assert main([*argv, "--jobs", "2", "--out", str(out)]) == 130
    assert capsys.readouterr().err.strip() == "imrgold export: interrupted"
    assert list(out.parent.iterdir()) == []
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_a_letter_text_lost_stops_the_spans_export_alike_with_workers(
    store_path, tmp_path, capsys, monkeypatch
):
    """The workers read the letters' texts: a lost one is the same one line and exit as when
    the exporting process reads it, and no data set is written."""
    import shutil

    isolate(monkeypatch, tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(store_path.parent, copy)
    db = copy / store_path.name
    with Store.open(db, read_only=True) as store:
        lost = store.layout.text(store.letter_ids()[3])
    lost.unlink()
    said = []
    for jobs in ("1", "2"):
        out = tmp_path / f"spans-{jobs}.jsonl"
        argv = ["export", "--db", str(db), "--format", "spans", "--jobs", jobs, "--out", str(out)]
        code = main(argv)
        said.append((code, capsys.readouterr().err))
        assert not out.exists()
    assert said[0] == said[1]
    assert said[0][0] != 0 and str(lost) in said[0][1] and len(said[0][1].splitlines()) == 1
