"""Exports people train from: token-aligned spans (Prodigy), a spaCy DocBin, Parquet and the
JSONL export's `datasets` features, on the 20 real letters with their hand-written gold."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import datasets
import huggingface_hub.constants
import pandas as pd
import pyarrow.parquet as pq
import pytest
import spacy
from hypothesis import given
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin

from imrgold.cli.main import main
from imrgold.core.columnar import arrow_schema, datasets_features
from imrgold.core.models import GoldRecord
from imrgold.core.tokens import non_overlapping, tokenize, with_tokens
from imrgold.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def gold_store(tmp_path_factory) -> Path:
    """fixtures/letters ingested, fixtures/gold loaded as each letter's gold record."""
    db = tmp_path_factory.mktemp("gold") / "s.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMRGOLD_ANNOTATOR", "ana")
        assert main(["ingest", "--db", str(db), str(FIXTURES / "letters")]) == 0
    with Store.open(db, annotator="ana") as store:
        for path in sorted((FIXTURES / "gold").glob("*.json")):
            store.put_gold(GoldRecord.model_validate_json(path.read_text()), "ana")
    return db


@pytest.fixture(scope="module")
def machine_store(tmp_path_factory) -> Path:
    """fixtures/letters ingested and every machine proposal marked gold as it stands (the
    proposals' own spans, some with whitespace at their edges, are exported)."""
    db = tmp_path_factory.mktemp("machine") / "s.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMRGOLD_ANNOTATOR", "ana")
        assert main(["ingest", "--db", str(db), str(FIXTURES / "letters")]) == 0
    with Store.open(db, annotator="ana") as store:
        for letter_id in store.letter_ids():
            store.mark_gold(store.get_proposal(letter_id))
    return db


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "ana")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    # Loading local files must never reach the Hub.
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def _export(db: Path, out: Path, fmt: str, *extra: str) -> Path:
    assert main(["export", "--db", str(db), "--format", fmt, "--out", str(out), *extra]) == 0
    return out


def _objects(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------------------------------------
# Tokens


def test_strengths_come_apart_and_the_text_is_kept():
    text = "Norco 10/325mg #90,  7.5 mg\n\nq.d."
    tokens = tokenize(text)
    assert [t["text"] for t in tokens] == [
        "Norco", "10", "/", "325", "mg", "#", "90", ",", " ", "7.5", "mg", "\n\n",
        "q", ".", "d", ".",
    ]  # fmt: skip
    assert [t["id"] for t in tokens] == list(range(len(tokens)))
    assert "".join(t["text"] + " " * t["ws"] for t in tokens) == text


def test_spans_are_cut_out_of_words_trimmed_and_given_token_ranges():
    # A diagnosis glued to the next sentence, as some letters' text runs lines together.
    text = "- Lumbago- Long-term use of other medicationsThe request \n"
    obj = with_tokens(
        {
            "text": text,
            "spans": [
                {"start": 11, "end": 45, "label": "diagnoses"},
                {"start": 1, "end": 11, "label": "x"},  # " Lumbago- ": whitespace edges
                {"start": 56, "end": 58, "label": "blank"},  # whitespace alone: left out
            ],
        }
    )
    assert [s["label"] for s in obj["spans"]] == ["diagnoses", "x"]
    assert [text[s["start"] : s["end"]] for s in obj["spans"]] == [
        "Long-term use of other medications", "Lumbago-",
    ]  # fmt: skip
    tokens = obj["tokens"]
    for span in obj["spans"]:
        first, last = tokens[span["token_start"]], tokens[span["token_end"]]
        assert (first["start"], last["end"]) == (span["start"], span["end"])
    assert [t["text"] for t in tokens if t["start"] >= 34][:3] == ["medications", "The", "request"]


@given(st.text(alphabet="ab1/. \n", max_size=40), st.lists(st.integers(0, 40), max_size=6))
def test_any_text_is_kept_and_cut_where_asked(text, cuts):
    tokens = tokenize(text, cuts)
    assert "".join(t["text"] + " " * t["ws"] for t in tokens) == text
    bounds = {t["start"] for t in tokens} | {t["end"] for t in tokens}
    for cut in cuts:
        # A cut between two whitespace characters has no token to fall on; any other does.
        if 0 < cut < len(text) and not (text[cut - 1].isspace() and text[cut].isspace()):
            assert cut in bounds


def test_non_overlapping_keeps_the_short_values():
    spans = [
        {"token_start": 0, "token_end": 9},  # a rationale
        {"token_start": 2, "token_end": 2},  # a drug in it
        {"token_start": 4, "token_end": 5},  # a strength in it
        {"token_start": 5, "token_end": 6},  # overlaps the strength
        {"token_start": 12, "token_end": 12},
    ]
    assert non_overlapping(spans) == [1, 2, 4]


# ---------------------------------------------------------------------------------------------
# The spans export on the fixtures' gold


@pytest.mark.parametrize("which", ["gold_store", "machine_store"])
def test_every_gold_span_is_on_spacy_token_boundaries(request, tmp_path, which):
    objects = _objects(_export(request.getfixturevalue(which), tmp_path / "spans.jsonl", "spans"))
    assert len(objects) == 20
    nlp = spacy.blank("en")
    total = aligned = 0
    for obj in objects:
        tokens = obj["tokens"]
        doc = Doc(nlp.vocab, words=[t["text"] for t in tokens], spaces=[t["ws"] for t in tokens])
        assert doc.text == obj["text"]
        for span in obj["spans"]:
            total += 1
            found = doc.char_span(span["start"], span["end"], span["label"], "strict")
            if found is not None:
                aligned += 1
                assert (found.start, found.end - 1) == (span["token_start"], span["token_end"])
    assert total > 500
    assert aligned == total


def test_deidentified_spans_are_tokenized_after_the_text_changed(gold_store, tmp_path):
    plain = {
        o["meta"]["letter_id"]: o for o in _objects(_export(gold_store, tmp_path / "p", "spans"))
    }
    objects = _objects(_export(gold_store, tmp_path / "d", "spans", "--deidentify"))
    assert len(objects) == len(plain) == 20
    for obj in objects:
        assert obj["meta"]["letter_id"] not in plain  # hashed
        tokens = obj["tokens"]
        assert "".join(t["text"] + " " * t["ws"] for t in tokens) == obj["text"]
        for span in obj["spans"]:
            assert tokens[span["token_start"]]["start"] == span["start"]
            assert tokens[span["token_end"]]["end"] == span["end"]


def test_docbin_loads_back_with_every_span_and_non_overlapping_entities(gold_store, tmp_path):
    objects = _objects(_export(gold_store, tmp_path / "spans.jsonl", "spans"))
    out = _export(gold_store, tmp_path / "train.spacy", "docbin")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    docs = list(DocBin().from_bytes(out.read_bytes()).get_docs(spacy.blank("en").vocab))
    assert len(docs) == len(objects) == 20
    for doc, obj in zip(docs, objects, strict=True):
        assert doc.text == obj["text"]
        assert doc.user_data["letter_id"] == obj["meta"]["letter_id"]
        assert len(doc.spans["sc"]) == len(obj["spans"])
        assert [(s.start_char, s.end_char, s.label_) for s in doc.spans["sc"]] == [
            (s["start"], s["end"], s["label"]) for s in obj["spans"]
        ]
        assert len(doc.ents) == len(non_overlapping(obj["spans"])) > 0
        assert sum(len(e) for e in doc.ents) == len({t.i for e in doc.ents for t in e})
    codes = {s.kb_id_ for d in docs for s in d.spans["sc"] if s.label_ == "diagnoses"}
    assert any(codes - {""}), "a linked diagnosis carries its ICD-10-CM code"


@pytest.mark.parametrize(
    "fmt, hidden, extra",
    [("docbin", ["spacy"], "spacy"), ("parquet", ["pyarrow", "pyarrow.parquet"], "parquet")],
)
def test_a_missing_extra_is_one_line_and_nothing_is_written(
    gold_store, tmp_path, monkeypatch, capsys, fmt, hidden, extra
):
    for module in hidden:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    out = tmp_path / "out"
    assert main(["export", "--db", str(gold_store), "--format", fmt, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"pip install 'imrgold[{extra}]'" in err and f"--format {fmt}" in err
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["docbin", "parquet"])
def test_binary_formats_refuse_standard_output(gold_store, capsys, fmt):
    assert main(["export", "--db", str(gold_store), "--format", fmt]) == 2
    assert "give --out FILE" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Parquet and the JSONL export's features


def test_parquet_has_the_declared_schema_for_pyarrow_pandas_and_datasets(gold_store, tmp_path):
    out = _export(gold_store, tmp_path / "gold.parquet", "parquet")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    schema = arrow_schema()
    written = pq.read_schema(out)
    assert written.equals(schema)
    # Descriptions and allowed values travel with the file (Parquet keeps top-level ones).
    assert written.field("priority").metadata[b"choices"] == b'["standard", "expedited"]'

    frame = pd.read_parquet(out, dtype_backend="pyarrow")
    assert list(frame.columns) == schema.names
    for name in schema.names:
        assert frame[name].dtype.pyarrow_dtype == schema.field(name).type, name
    with Store.open(gold_store, read_only=True) as store:
        expected = {r.letter_id: r for r in store.gold_records()}
    back = [GoldRecord.model_validate(row) for row in pq.read_table(out).to_pylist()]
    assert {r.letter_id: r for r in back} == expected

    loaded = datasets.load_dataset(
        "parquet", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert loaded.features == datasets.Features.from_arrow_schema(schema)
    assert loaded.features["items"] == datasets.List(loaded.features["items"].feature)
    assert len(loaded) == 20


def test_jsonl_features_file_loads_every_export_with_the_same_types(gold_store, tmp_path):
    out = _export(gold_store, tmp_path / "gold.jsonl", "jsonl")
    features_path = tmp_path / "gold.features.json"
    assert stat.S_IMODE(features_path.stat().st_mode) == 0o600
    assert json.loads(features_path.read_text()) == datasets_features()
    features = datasets.Features.from_dict(json.loads(features_path.read_text()))
    # The features are the Parquet file's: one schema, two spellings.
    assert features == datasets.Features.from_arrow_schema(arrow_schema())

    loaded = datasets.load_dataset(
        "json", data_files=str(out), features=features, split="train",
        cache_dir=str(tmp_path / "hf"),
    )  # fmt: skip
    assert loaded.features == features and len(loaded) == 20
    with Store.open(gold_store, read_only=True) as store:
        expected = {r.letter_id: r for r in store.gold_records()}
    assert {r.letter_id: r for r in map(GoldRecord.model_validate, loaded)} == expected

    # One letter alone: columns null in it keep their declared types (inferred, they would not).
    one = _export(gold_store, tmp_path / "one.jsonl", "jsonl", "--status", "gold")
    first = json.loads(one.read_text().splitlines()[0])
    one.write_text(json.dumps(first) + "\n")
    nulls = [n for n, v in first.items() if v is None or v == []]
    assert nulls, "the first gold letter leaves some field empty"
    alone = datasets.load_dataset(
        "json", data_files=str(one), features=features, split="train",
        cache_dir=str(tmp_path / "hf1"),
    )  # fmt: skip
    assert all(alone.features[n] == features[n] for n in nulls)


def test_jsonl_to_standard_output_writes_no_features_file(gold_store, tmp_path, capsys):
    assert main(["export", "--db", str(gold_store)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 20
    assert not list(tmp_path.glob("*.features.json"))


def test_schema_prints_the_columns_docs_show_and_the_features(capsys):
    assert main(["schema", "--columns"]) == 0
    printed = capsys.readouterr().out
    doc = (FIXTURES.parent / "docs" / "exports.md").read_text()
    assert "```text\n" + printed + "```" in doc
    assert "items: list<struct>\n  request: string\n" in printed
    assert main(["schema", "--features"]) == 0
    assert json.loads(capsys.readouterr().out) == datasets_features()


def _docs_of(*paths: Path) -> list[Doc]:
    vocab = spacy.blank("en").vocab
    return [d for p in paths for d in DocBin().from_bytes(p.read_bytes()).get_docs(vocab)]


def _seen(docs: list[Doc]) -> list[tuple]:
    return [
        (d.text, d.user_data["letter_id"], [(s.start, s.end, s.label_) for s in d.spans["sc"]])
        for d in docs
    ]


def test_a_docbin_to_a_folder_is_written_in_parts_that_read_as_the_whole(
    gold_store, tmp_path, monkeypatch
):
    """A DocBin is built whole in memory (8 GB for 10,000 letters with spaCy's default
    columns): to a folder it goes in parts, each letter added as it comes, and the parts read in
    order are the letters of the one file."""
    import imrgold.core.docbin as docbin

    whole = _docs_of(_export(gold_store, tmp_path / "one.spacy", "docbin"))
    monkeypatch.setattr(docbin, "PART", 8)
    folder = tmp_path / "parts"
    argv = ["export", "--db", str(gold_store), "--format", "docbin", "--out", f"{folder}/"]
    assert main(argv) == 0
    parts = sorted(folder.iterdir())
    assert [p.name for p in parts] == ["part-00000.spacy", "part-00001.spacy", "part-00002.spacy"]
    assert [len(_docs_of(p)) for p in parts] == [8, 8, 4]
    assert _seen(_docs_of(*parts)) == _seen(whole)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in parts} == {0o600}


def test_a_docbin_too_large_for_one_file_or_a_used_folder_is_refused_in_one_line(
    gold_store, tmp_path, monkeypatch, capsys
):
    import imrgold.core.docbin as docbin

    monkeypatch.setattr(docbin, "PART", 8)
    one = tmp_path / "one.spacy"
    assert main(["export", "--db", str(gold_store), "--format", "docbin", "--out", str(one)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("imrgold export: error: a DocBin is built whole in memory: more than 8")
    assert "--out FOLDER/" in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left
    used = tmp_path / "used"
    used.mkdir()
    (used / "part-00000.spacy").write_bytes(b"an older export")
    assert main(["export", "--db", str(gold_store), "--format", "docbin", "--out", str(used)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert [p.read_bytes() for p in used.iterdir()] == [b"an older export"]


def test_parts_written_before_a_failure_are_removed(gold_store, tmp_path, monkeypatch, capsys):
    import imrgold.core.docbin as docbin
    import imrgold.core.files as files

    monkeypatch.setattr(docbin, "PART", 8)
    real, calls = files.atomic_write, []

    def full_at_the_second(path, data, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(path, data, **kwargs)

    monkeypatch.setattr(files, "atomic_write", full_at_the_second)
    folder = tmp_path / "parts"
    argv = ["export", "--db", str(gold_store), "--format", "docbin", "--out", f"{folder}/"]
    assert main(argv) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not folder.exists()  # made here, emptied, removed
