"""The fast paths that let every command stream over 10,000 letters give what the simple ways
give: one read of a letter's gold (`Store.gold_and_versions`), a proposal's values without
validating its spans (`Store.proposal_values`), and de-identification's gates (a pattern whose
words are absent from a text is not run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core import deidentify
from imrgold.core.agreement import flat_of
from imrgold.core.deidentify import Deidentifier
from imrgold.store import Store
from tests.store_helpers import corrected, fixture_letters, isolate, proposal_for
from tests.test_deidentify_corpus import CASES

# Every word any gate waits for: a `_folded` that returns it opens every gate.
ALL_GATE_WORDS = " ".join(
    [w for words in deidentify._GATES.values() for w in words]
    + ["dob", "d.o.b.", "date of birth", "born", "ninety", "hundred"]
)

TRICKY = [
    # Cases an IGNORECASE pattern matches that a plain lower() would not show.
    "ſocial ſecurity number 123 45 6789 and SSN: 987-65-4320",
    "Claım # AB12345, MEDICAL RECORD NO. 77812, Member ID ZX9981",
    "E-MAIL a.b@example.org, WWW.example.com/x, HTTP://portal.example.net",
    "D.O.B.: 01/02/1921; Date of Birth March 3, 1925; BORN ON 1920-04-05",
    "a NINETY-TWO YEARS OLD man, one hundred years old, 93 y/o",
    "a n\u0130nety-one years old woman; POL\u0130CY No. 99812",
    "adj 1234567 and ADJ7654321 at 10 Main Street, Sacramento, CA 95814",
    "nothing here but 3/4/2016 and a decision dated March 4, 2016",
]


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, "IMRGOLD_DEIDENTIFY_KEY")


def _deidentified(texts: list[str]) -> list[tuple[str, list[tuple[int, int]], dict]]:
    out = []
    for text in texts:
        deid = Deidentifier("gate-key")
        new, mapper = deid.free_text(text, "letter", 2017)
        moved = [(mapper(i), mapper(i, True)) for i in range(0, len(text), 7)]
        out.append((new, moved, dict(deid.counts)))
    return out


def test_gates_change_nothing_on_the_seeded_corpus_and_case_folding_tricks(monkeypatch):
    texts = [text for _, text, _, _ in CASES] + TRICKY
    gated = _deidentified(texts)
    monkeypatch.setattr(deidentify, "_folded", lambda text: ALL_GATE_WORDS)
    deidentify.names_in.cache_clear()
    assert _deidentified(texts) == gated
    # The gates did skip work somewhere: the corpus is not all gates open.
    monkeypatch.undo()
    closed = [t for t in TRICKY if not any(g and any(w in deidentify._folded(t) for w in g)
                                           for g in deidentify._GATED)]  # fmt: skip
    assert closed


@pytest.fixture
def store_path(tmp_path) -> Path:
    """Letters with one version, two differing versions, and a final record beside versions."""
    path = tmp_path / "s.json"
    letters = fixture_letters()[:4]
    with Store.open(path, annotator="alice") as store:
        for letter in letters:
            store.add_letter(letter, proposal_for(letter))
        a, b, c, _ = letters
        store.mark_gold(store.get_proposal(a.letter_id))
        for lid in (b.letter_id, c.letter_id):
            proposal = store.get_proposal(lid)
            store.mark_gold(proposal)
            bob = corrected(proposal, "patient.age", 77).to_record()
            store.put_gold(bob, "bob")
        store.set_final(c.letter_id, store.get_gold(c.letter_id, "bob"), "carol")
    return path


def test_one_read_of_gold_and_proposal_values_equal_the_validated_ones(store_path):
    with Store.open(store_path, read_only=True) as store:
        for lid in store.letter_ids():
            gold, versions = store.gold_and_versions(lid)
            assert gold == store.get_gold(lid)
            assert versions == store.gold_versions(lid)
            proposal = store.get_proposal(lid)
            assert proposal is not None
            values = store.proposal_values(lid)
            assert values == {p: f.value for p, f in proposal.fields.items()}
            # The flat map agreement and stats read, as Proposal.get gives each path.
            assert flat_of(proposal) == {p: proposal.get(p).value for p in proposal.paths()}
        assert any(len(store.gold_versions(lid)) == 2 for lid in store.letter_ids())
        assert any(store.final_annotator(lid) for lid in store.letter_ids())


def test_a_proposal_not_shaped_as_one_is_named_as_damage(store_path):
    import json

    from imrgold.store.errors import StoreDamaged

    with Store.open(store_path, read_only=True) as store:
        lid = store.letter_ids()[3]
        path = store.layout.record(lid)
    data = json.loads(path.read_text())
    data["proposal"]["1"]["proposal"]["fields"] = ["not", "a", "map"]
    path.write_text(json.dumps(data))
    with Store.open(store_path, read_only=True) as store, pytest.raises(StoreDamaged) as err:
        store.proposal_values(lid)
    assert str(path) in str(err.value)


def test_spans_export_deidentified_is_byte_identical_with_every_gate_open(
    store_path, tmp_path, monkeypatch
):
    monkeypatch.setenv("IMRGOLD_DEIDENTIFY_KEY", "export-key")
    argv = ["export", "--db", str(store_path), "--format", "spans", "--deidentify"]
    assert main([*argv, "--out", str(tmp_path / "gated.jsonl")]) == 0
    monkeypatch.setattr(deidentify, "_folded", lambda text: ALL_GATE_WORDS)
    deidentify.names_in.cache_clear()
    assert main([*argv, "--out", str(tmp_path / "open.jsonl")]) == 0
    gated = (tmp_path / "gated.jsonl").read_bytes()
    assert gated == (tmp_path / "open.jsonl").read_bytes()
    assert gated.count(b"\n") == 3


def _naive_pair(letters, a: str, b: str) -> dict:
    """Rater against rater as agreement computed it before it streamed: every unit's values
    gathered in lists, then each coefficient over its list."""
    from collections import defaultdict

    from imrgold.core.agreement import (
        FIELD_KEYS,
        cohen_kappa,
        gwet_ac1,
        kind_of,
        same_value,
        token_f1,
        units,
    )

    pairs: dict = defaultdict(list)
    misses: dict = defaultdict(list)
    for versions in letters.values():
        if a in versions and b in versions:
            for key, rows in units({a: versions[a], b: versions[b]}).items():
                for unit in rows:
                    target = pairs if a in unit and b in unit else misses
                    target[key].append((unit.get(a), unit.get(b)))
    out = {}
    for key in FIELD_KEYS:
        kind, p, m = kind_of(key), pairs[key], misses[key]
        n = len(p) + len(m)
        row: dict = {"n": n, "exact": None, "kappa": None, "ac1": None, "f1": None}
        if n:
            row["exact"] = sum(same_value(x, y, kind) for x, y in p) / n
            if kind == "categorical":
                row["kappa"] = cohen_kappa(p)
                row["ac1"] = gwet_ac1([{"a": x, "b": y} for x, y in p])
            elif kind == "text":
                row["f1"] = sum(token_f1(x, y) for x, y in p) / n
            elif kind == "list":
                tp = fp = fn = 0
                for x, y in p + m:
                    sx = {" ".join(str(v).split()).lower() for v in x or []}
                    sy = {" ".join(str(v).split()).lower() for v in y or []}
                    tp, fp, fn = tp + len(sx & sy), fp + len(sy - sx), fn + len(sx - sy)
                row["f1"] = 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
        out[key] = row
    return out


def test_streamed_agreement_equals_the_list_based_figures():
    from imrgold.core.agreement import agreement_report, flat_of
    from imrgold.core.models import GoldRecord

    gold_dir = Path(__file__).resolve().parent.parent / "fixtures" / "gold"
    records = [
        GoldRecord.model_validate_json(p.read_text()) for p in sorted(gold_dir.glob("*.json"))
    ]
    letters: dict = {}
    for i, record in enumerate(records):
        flat = flat_of(record)
        bob = dict(flat)
        if i % 3 == 0 and record.items:
            bob["items.0.decision"] = (
                "overturned" if flat["items.0.decision"] == "upheld" else "upheld"
            )
        if i % 4 == 1:
            bob["patient.sex"] = None
        carol = {
            k: v for k, v in flat.items() if not k.startswith(f"items.{len(record.items) - 1}.")
        }
        versions = {"alice": flat, "bob": bob}
        if i % 2 == 0:
            versions["carol"] = carol
        letters[record.letter_id] = versions
    report = {c.name: c for c in agreement_report(letters)}
    assert set(report) == {"alice vs bob", "alice vs carol", "bob vs carol", "all annotators"}
    for name in ("alice vs bob", "alice vs carol", "bob vs carol"):
        a, b = name.split(" vs ")
        naive = _naive_pair(letters, a, b)
        for f in report[name].fields:
            got = {"n": f.n, "exact": f.exact, "kappa": f.kappa, "ac1": f.ac1, "f1": f.f1}
            assert got == naive[f.field], (name, f.field)
    decisions = report["alice vs bob"].get("items.decision")
    assert decisions.kappa is not None and decisions.exact < 1
    # carol lacks each letter's last item: units only one side has, counted against exact.
    assert report["alice vs carol"].get("items.request").exact < 1


def test_export_writes_in_batches_of_characters_not_lines():
    from imrgold.cli.commands.export import _chunks

    lines = [f"line {i} " + "x" * (i * 37 % 300) for i in range(200)]
    chunks = list(_chunks(iter(lines), size=1000))
    assert "".join(chunks) == "".join(line + "\n" for line in lines)
    assert len(chunks) > 10
    # Each batch but the last stops at the first line that reaches the size.
    assert all(1000 <= len(c) < 1000 + 400 for c in chunks[:-1])
