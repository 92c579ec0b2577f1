"""`imrgold eval`: scores against gold, aligned items, calibration, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core.evaluate import align_items, evaluate
from imrgold.core.extract import extract
from imrgold.core.models import GoldRecord

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GOLD_DIR = FIXTURES / "gold"


@pytest.fixture(autouse=True)
def _no_user_store(tmp_path, monkeypatch):
    monkeypatch.setenv("IMRGOLD_DB", str(tmp_path / "store" / "imrgold.json"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def _multi_item_gold() -> GoldRecord:
    """The bundled gold record with the most items (at least three)."""
    paths = sorted(GOLD_DIR.glob("*.json"))
    records = [GoldRecord.model_validate_json(p.read_text()) for p in paths]
    best = max(records, key=lambda r: len(r.items))
    assert len(best.items) >= 3
    return best


def test_align_items_survives_reordering_and_a_missing_item() -> None:
    gold = ["TENS unit", "Lumbar support", "Cervical pillow"]
    machine = ["Cervical pillow", "TENS unit"]
    assert sorted(align_items(gold, machine), key=str) == sorted(
        [(0, 1), (1, None), (2, 0)], key=str
    )


def test_eval_json_scores_a_changed_field_and_a_missing_item(tmp_path, capsys) -> None:
    gold = _multi_item_gold()
    # The annotator "corrected" the first item's decision and the gold has an item the machine
    # cannot know; the rest of the letter is as the letter says.
    items = list(gold.items)
    flipped = "overturned" if items[0].decision == "upheld" else "upheld"
    items[0] = items[0].model_copy(update={"decision": flipped})
    items.append(items[-1].model_copy(update={"request": "Zzyzx qwerty device rental"}))
    changed = gold.model_copy(update={"items": items})
    path = tmp_path / "gold.jsonl"
    path.write_text(changed.model_dump_json() + "\n", encoding="utf-8")

    code = main(["eval", "--gold", str(path), "--json", "--letters", str(FIXTURES / "letters")])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    fields = {f["field"]: f for f in report["fields"]}
    n = len(items)
    assert report["items"] == {"gold": n, "machine": n - 1, "matched": n - 1}
    assert fields["items.decision"]["n"] == n
    assert fields["items.decision"]["accuracy"] == pytest.approx((n - 2) / n)
    assert fields["case_number"]["accuracy"] == 1.0
    assert sum(b["n"] for b in report["calibration"]) == sum(f["n"] for f in report["fields"])


def test_eval_table_on_a_folder_of_records(capsys) -> None:
    code = main(["eval", "--gold", str(GOLD_DIR), "--errors", "3"])
    out = capsys.readouterr().out
    assert code == 0
    for word in ("items.decision", "overall", "calibration", "reviewer.licensure"):
        assert word in out


def test_eval_reports_bad_gold_in_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"letter_id": "nope"}\n', encoding="utf-8")
    assert main(["eval", "--gold", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.jsonl:1" in err and len(err.splitlines()) == 1
    assert main(["eval", "--gold", str(tmp_path / "missing.jsonl")]) == 2


def test_eval_names_a_record_whose_letter_is_nowhere(tmp_path, capsys) -> None:
    record = GoldRecord(letter_id="a" * 64)
    path = tmp_path / "gold.jsonl"
    path.write_text(record.model_dump_json() + "\n", encoding="utf-8")
    assert main(["eval", "--gold", str(path)]) == 2
    assert "aaaaaaaaaaaa" in capsys.readouterr().err


def test_low_confidence_marks_the_fields_most_often_wrong() -> None:
    """On unseen variants of every letter with OCR slips, fields proposed with confidence
    under 0.7 are wrong more often than those at 0.9 and above (confidence means something)."""
    import random

    from tests.letter_variants import ocr_damage, variant

    pairs = []
    rng = random.Random(11)
    for path in sorted(GOLD_DIR.glob("*.json")):
        gold = GoldRecord.model_validate_json(path.read_text())
        letter = FIXTURES / "letters" / f"{path.stem}.txt"
        for _ in range(2):
            text, moved, _ = variant(letter.read_text(encoding="utf-8"), gold, rng)
            pairs.append((moved, extract(ocr_damage(text, rng, 25), gold.letter_id)))
    result = evaluate(pairs)
    low = [b for b in result.bins if b.high <= 0.7 and b.n]
    high = [b for b in result.bins if b.low >= 0.9 and b.n]
    low_acc = sum(b.correct for b in low) / sum(b.n for b in low)
    high_acc = sum(b.correct for b in high) / sum(b.n for b in high)
    assert high_acc > low_acc + 0.2


def test_eval_finds_letters_in_the_store(tmp_path, capsys) -> None:
    from imrgold.core.reading import read_letter
    from imrgold.store import Store

    gold_path = sorted(GOLD_DIR.glob("*.json"))[0]
    letter = read_letter(FIXTURES / "letters" / f"{gold_path.stem}.txt", check=False)
    db = tmp_path / "store" / "imrgold.json"
    store = Store.open(db)
    try:
        store.add_letter(letter)
    finally:
        store.close()
    empty = tmp_path / "no-letters"
    empty.mkdir()
    code = main(
        ["eval", "--db", str(db), "--gold", str(gold_path), "--letters", str(empty), "--json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["letters"] == 1
