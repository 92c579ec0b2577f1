"""`imrgold export` on a store: formats, filters, deidentification, errors."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from imrgold.cli.main import main
from imrgold.core.extract import extract
from imrgold.core.models import GoldRecord, ProposedField
from imrgold.core.reading import read_letter
from imrgold.store.store import Store
from tests.store_helpers import isolate

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, "IMRGOLD_DEIDENTIFY_KEY")


@pytest.fixture
def store_path(tmp_path) -> Path:
    """Four letters: two gold by alice (one with a corrected age), one reviewed, one new."""
    path = tmp_path / "s.json"
    with Store.open(path, annotator="alice") as store:
        for index, letter_path in enumerate(sorted(LETTERS.glob("CM*.txt"))[:4]):
            letter = read_letter(letter_path)
            proposal = extract(letter.text, letter.letter_id)
            store.add_letter(letter)
            store.put_proposal(proposal)
            if index == 3:
                continue
            if index == 0:
                fields = dict(proposal.fields)
                fields["patient.age"] = ProposedField(value=93, source="human", confirmed=True)
                proposal = proposal.model_copy(update={"fields": fields})
            record = store.mark_gold(proposal)
            if index == 2:
                store.set_final(letter.letter_id, record, "carol")
                store.set_status(letter.letter_id, "reviewed", "reviewed by carol")
    return path


def _export(store_path, tmp_path, *extra, name="out"):
    out = tmp_path / name
    assert main(["export", "--db", str(store_path), "--out", str(out), *extra]) == 0
    return out


def test_jsonl_holds_every_gold_record_and_the_corrected_value(store_path, tmp_path, capsys):
    out = _export(store_path, tmp_path, "--format", "jsonl")
    assert "exported 3 letter(s)" in capsys.readouterr().err
    frame = pd.read_json(out, lines=True, dtype=False)
    assert len(frame) == 3
    assert frame.loc[0, "patient"]["age"] == 93
    with Store.open(store_path, read_only=True) as store:
        expected = store.gold_records()
    records = [GoldRecord.model_validate_json(line) for line in out.read_text().splitlines()]
    assert records == expected


def test_filters_by_status_and_annotator(store_path, tmp_path):
    out = _export(store_path, tmp_path, "--status", "reviewed")
    assert len(out.read_text().splitlines()) == 1
    out = _export(store_path, tmp_path, "--status", "gold", "--status", "reviewed")
    assert len(out.read_text().splitlines()) == 3
    # Carol made no version of her own: nothing selected is said, not written as an empty set.
    assert main(["export", "--db", str(store_path), "--out", str(tmp_path / "carol.jsonl"),
                 "--annotator", "carol"]) == 1  # fmt: skip
    assert not (tmp_path / "carol.jsonl").exists()
    out = _export(store_path, tmp_path, "--annotator", "carol", "--allow-empty")
    assert out.read_text() == ""
    out = _export(store_path, tmp_path, "--annotator", "alice")
    assert len(out.read_text().splitlines()) == 3


def test_csv_rows_per_item(store_path, tmp_path):
    out = _export(store_path, tmp_path, "--format", "csv")
    rows = list(csv.DictReader(out.open()))
    with Store.open(store_path, read_only=True) as store:
        records = store.gold_records()
    assert len(rows) == sum(max(1, len(r.items)) for r in records)
    assert {r["letter_id"] for r in rows} == {r.letter_id for r in records}
    assert pd.read_csv(out).shape[0] == len(rows)


def test_spans_label_values_in_the_letter_text(store_path, tmp_path):
    out = _export(store_path, tmp_path, "--format", "spans")
    objects = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(objects) == 3
    for obj in objects:
        assert obj["spans"], "every letter has some located value"
        for span in obj["spans"]:
            assert 0 <= span["start"] < span["end"] <= len(obj["text"])
        case = obj["record"]["case_number"]
        if case:
            [found] = [s for s in obj["spans"] if s["label"] == "case_number"][:1]
            assert obj["text"][found["start"] : found["end"]] == case


def test_deidentify_is_stable_says_what_it_did_and_leaves_no_case_number(
    store_path, tmp_path, capsys
):
    first = _export(store_path, tmp_path, "--deidentify", name="a")
    report = capsys.readouterr().err
    assert "pseudonyms" in report and "shifted" in report and "grouped as 90" in report
    second = _export(store_path, tmp_path, "--deidentify", name="b")
    assert first.read_text() == second.read_text()
    records = [json.loads(line) for line in first.read_text().splitlines()]
    assert not re.search(r"CM\d{2}-\d{7}", first.read_text())
    assert records[0]["patient"]["age"] == 90
    spans = _export(store_path, tmp_path, "--deidentify", "--format", "spans", name="c")
    assert not re.search(r"CM\d{2}-\d{7}", spans.read_text())
    with Store.open(store_path, read_only=True) as store:
        plain = store.gold_records()
    for before, after in zip(plain, records, strict=True):
        if before.date_assigned and before.decision_date:
            kept = (before.decision_date - before.date_assigned).days
            got = pd.Timestamp(after["decision_date"]) - pd.Timestamp(after["date_assigned"])
            assert got.days == kept
            assert after["date_assigned"] != before.date_assigned.isoformat()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--status", "done"], "unknown status"),
        (["--out", "{tmp}/missing/dir/out.jsonl"], "does not exist"),
    ],
)
def test_user_errors(store_path, tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    assert main(["export", "--db", str(store_path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_no_store_is_a_user_error(tmp_path, capsys):
    assert main(["export", "--db", str(tmp_path / "none.json"), "--out", "x"]) == 2
    assert "no store" in capsys.readouterr().err


def test_letters_awaiting_adjudication_are_left_out_unless_asked(store_path, tmp_path, capsys):
    with Store.open(store_path, annotator="bob") as store:
        lid = store.gold_records()[0].letter_id
        record = store.get_gold(lid)
        store.put_gold(record.model_copy(update={"priority": None}), "bob")
        store.set_status(lid, "adjudication")
    out = _export(store_path, tmp_path)
    assert "left out 1 letter(s) awaiting adjudication" in capsys.readouterr().err
    assert lid not in out.read_text() and len(out.read_text().splitlines()) == 2
    out = _export(store_path, tmp_path, "--status", "adjudication")
    assert [json.loads(line)["letter_id"] for line in out.read_text().splitlines()] == [lid]
    out = _export(store_path, tmp_path, "--annotator", "bob")
    [only] = [json.loads(line) for line in out.read_text().splitlines()]
    assert only["letter_id"] == lid and only["priority"] is None
