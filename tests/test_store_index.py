"""The store's index (`imrgold.d/index/`): a pass over every letter reads each letter's machine
values and history outline from it instead of the record files, and gets what the records say
whatever happened to them since: journaled changes, a record rewritten by hand, a damaged or
missing index, a store written before there was one, a repair."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core.models import flatten
from imrgold.store import Store
from imrgold.store.layout import (
    Layout,
    gold_flats,
    history_outline,
    machine_extractor,
    machine_values,
)
from imrgold.store.storage import load_json
from tests.store_helpers import corrected, fixture_letters, isolate, proposal_for


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def store_path(tmp_path) -> Path:
    """Letters with drafts, gold by two annotators, a final record, a status change, and one
    letter without a proposal."""
    path = tmp_path / "s.json"
    letters = fixture_letters()[:5]
    with Store.open(path, annotator="alice") as store:
        for letter in letters[:4]:
            store.add_letter(letter, proposal_for(letter))
        store.add_letter(letters[4])
        a, b, c, d = (letter.letter_id for letter in letters[:4])
        store.save_draft(corrected(store.get_proposal(a), "patient.age", 51))
        for lid in (a, b, c):
            store.mark_gold(store.working_copy(lid))
        store.put_gold(corrected(store.get_proposal(b), "patient.age", 77).to_record(), "bob")
        store.set_final(c, store.get_gold(c), "carol")
        store.set_status(d, "in_progress", "look again")
    return path


def from_records(path: Path) -> dict[str, tuple]:
    """Each letter's machine values, history outline, gold (as flat maps) and gold's annotators,
    as its record and gold shard say."""
    with Store.open(path, read_only=True) as store:
        out = {}
        for lid in store.letter_ids():
            proposal = store.get_proposal(lid)
            values = None if proposal is None else {p: f.value for p, f in proposal.fields.items()}
            outline = [
                {k: v for k, v in e.items() if k not in ("letter_id", "old", "new")}
                | ({"new": e["new"]} if e.get("path") == "status" else {})
                for e in store.history_entries(lid)
            ]
            gold = store.get_gold(lid)
            versions = {a: flatten(r) for a, r in store.gold_versions(lid).items()}
            flats = (None if gold is None else flatten(gold), versions, store.final_annotator(lid))
            out[lid] = (values, outline, flats, list(store.gold_times(lid)))
        return out


def one_pass(path: Path) -> tuple[dict[str, tuple], int]:
    """Every letter's machine values, history outline, gold and gold's annotators as a pass
    reads them, and how many record files it parsed."""
    with Store.open(path, read_only=True) as store:
        passes = [
            {
                lid: (
                    store.proposal_values(lid),
                    store.history_outline(lid),
                    store.gold_flats(lid),
                    store.gold_annotators(lid),
                )
                for lid in store.letter_ids()
            }
            for _ in range(2)
        ]
        # A second pass in the same process reads what the first read.
        assert passes[0] == passes[1]
        return passes[0], store.engine.cached_records()


def figures(path: Path, capsys) -> tuple[str, ...]:
    out = []
    for argv in (["stats", "--json"], ["stats"], ["agreement", "--machine", "stored", "--json"]):
        assert main([*argv, "--db", str(path)]) == 0
        out.append(capsys.readouterr().out)
    return tuple(out)


def test_a_pass_reads_the_index_and_no_record_and_gets_what_the_records_say(store_path, capsys):
    truth = from_records(store_path)
    found, parsed = one_pass(store_path)
    assert parsed == 0
    assert found == truth
    assert any(outline for _, outline, _, _ in truth.values())
    assert any(values is None for values, *_ in truth.values())  # the letter without a proposal
    # One letter of each: one version, two differing versions, a final record, none.
    assert {len(versions) for _, _, (_, versions, _), _ in truth.values()} == {0, 1, 2}
    assert any(final_by == "carol" for _, _, (_, _, final_by), _ in truth.values())
    assert any(names == ["alice", "bob"] for *_, names in truth.values())
    # The commands print the same from the index as from the records alone.
    indexed = figures(store_path, capsys)
    shutil.rmtree(Layout(store_path).index)
    assert one_pass(store_path)[1] == 5
    assert figures(store_path, capsys) == indexed


def test_journaled_changes_not_yet_in_the_files_are_read_from_the_journal(store_path):
    with Store.open(store_path, read_only=True) as store:
        lid = store.letter_ids()[3]
    store = Store.open(store_path, annotator="dave")
    store.set_status(lid, "gold")
    store.put_proposal(corrected(store.get_proposal(lid), "patient.age", 99))
    store.engine.release()  # as a crash would: journaled, no checkpoint
    found, _ = one_pass(store_path)
    assert found[lid][0]["patient.age"] == 99
    assert found[lid][1][-1] == {
        "source": "machine",
        "annotator": "dave",
        "at": found[lid][1][-1]["at"],
        "kind": "proposal",
        "track": "machine",
        "path": "patient.age",
    }
    assert found == from_records(store_path)
    Store.open(store_path).close()  # replayed and checkpointed: the index has it
    assert one_pass(store_path) == (from_records(store_path), 0)


def test_a_record_rewritten_behind_the_index_is_read_from_the_record(store_path):
    with Store.open(store_path, read_only=True) as store:
        lid = store.letter_ids()[1]
        path = store.layout.record(lid)
    data = load_json(path)
    fields = data["proposal"]["1"]["proposal"]["fields"]
    old = fields["patient.sex"]["value"]
    fields["patient.sex"]["value"] = "female" if old != "female" else "male"
    before = path.stat()
    path.write_text(json.dumps(data))
    # A later edit: a later time, whatever the clock's grain.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))
    found, parsed = one_pass(store_path)
    assert found[lid][0]["patient.sex"] != old
    assert parsed == 1
    assert found == from_records(store_path)


def test_a_damaged_index_costs_speed_not_truth(store_path):
    index = Layout(store_path).index
    shards = sorted(index.glob("*.json"))
    assert shards
    # One shard cut mid-line, one whose entry is not JSON, one that is not an index at all.
    raw = shards[0].read_bytes()
    shards[0].write_bytes(raw[: len(raw) // 2])
    if len(shards) > 1:
        lid, size, mtime, _ = shards[1].read_bytes().split(b" ", 3)
        shards[1].write_bytes(b"%s %s %s {not json\n" % (lid, size, mtime))
    if len(shards) > 2:
        shards[2].write_bytes(b"\x00\xff garbage")
    found, parsed = one_pass(store_path)
    assert found == from_records(store_path)
    assert parsed >= 1


def test_an_older_store_gets_its_index_at_the_first_open_for_writing(store_path):
    shutil.rmtree(Layout(store_path).index)
    truth = from_records(store_path)
    assert one_pass(store_path) == (truth, 5)  # read from the records, and only read
    assert not (Layout(store_path).index).exists()
    Store.open(store_path).close()
    assert one_pass(store_path) == (truth, 0)
    index = Layout(store_path).index
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in index.iterdir())


def test_a_repair_rebuilds_the_index_with_the_records(store_path, capsys):
    with Store.open(store_path, read_only=True) as store:
        lid = store.letter_ids()[0]
        path = store.layout.record(lid)
    path.write_bytes(path.read_bytes()[:100])  # cut short: the repair rebuilds it from gold
    assert main(["doctor", "--repair", "--db", str(store_path)]) == 0
    assert "rebuilt record" in capsys.readouterr().out
    truth = from_records(store_path)
    assert truth[lid][:2] == (None, [])  # its proposal and history were in the lost record
    assert truth[lid][2][0] is not None  # its gold was not
    assert one_pass(store_path) == (truth, 0)


def test_index_entries_are_the_layouts_functions_of_the_record(store_path):
    """What the index holds is `machine_values`, `machine_extractor`, `history_outline` and
    `gold_flats` of each record."""
    with Store.open(store_path, read_only=True) as store:
        for lid in store.letter_ids():
            record = load_json(store.layout.record(lid))
            assert store.engine.index_entry(lid) == {
                "machine": machine_values(record),
                "extractor": machine_extractor(record),
                "history": history_outline(record),
                "gold": gold_flats(record),
            }
