import csv
import hashlib
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from imrgold.core import export
from imrgold.core.models import DisputedItem, GoldRecord, Proposal, ProposedField, Span

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"


def _letter_text(name: str) -> tuple[str, str]:
    data = (LETTERS / name).read_bytes()
    return hashlib.sha256(data).hexdigest(), data.decode("utf-8", errors="replace")


def _record_from_text(letter_id: str, text: str) -> GoldRecord:
    """A plausible record whose values are copied out of the letter (not a fixture answer)."""
    case = re.search(r"CM\d{2}-\d{7}", text)
    heading = re.search(r"^(.{10,200}?):\s*\n?\s*(Upheld|Overturned)\s*$", text, re.M)
    items = []
    if heading:
        items.append(
            DisputedItem(
                request=" ".join(heading.group(1).split()),
                decision=heading.group(2).lower(),
                category="other",
            )
        )
    return GoldRecord(
        letter_id=letter_id,
        case_number=case.group(0) if case else None,
        date_assigned="2016-12-14",
        priority="standard",
        reviewer={"specialties": ["Internal Medicine", "Pain Management"], "licensure": ["CA"]},
        patient={"age": 51, "sex": "female"},
        diagnoses=["low back pain"],
        items=items,
    )


def _letters(n: int = 3) -> list[tuple[GoldRecord, str]]:
    names = sorted(p.name for p in LETTERS.glob("CM*.txt"))[:n]
    out = []
    for name in names:
        letter_id, text = _letter_text(name)
        out.append((_record_from_text(letter_id, text), text))
    return out


def test_jsonl_loads_with_pandas_and_round_trips(tmp_path):
    records = [r for r, _ in _letters()]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(line + "\n" for line in export.jsonl_lines(records)))
    frame = pd.read_json(path, lines=True, dtype=False)
    assert list(frame["letter_id"]) == [r.letter_id for r in records]
    assert list(frame["case_number"]) == [r.case_number for r in records]
    back = [GoldRecord.model_validate(json.loads(line)) for line in path.read_text().splitlines()]
    assert back == records


def test_csv_one_row_per_item_with_letter_fields_repeated():
    first, _ = _letters(1)[0]
    two_items = first.model_copy(
        update={
            "items": [
                DisputedItem(
                    request="Norco 10/325 #90",
                    decision="upheld",
                    drugs=["hydrocodone", "acetaminophen"],
                    guidelines=["ODG", "MTUS"],
                ),
                DisputedItem(
                    request="Physical therapy x 8", decision="overturned", category="therapy"
                ),
            ]
        }
    )
    no_items = first.model_copy(update={"letter_id": "b" * 64, "items": []})
    text = export.csv_text([two_items, no_items])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["letter_id"] for r in rows] == [first.letter_id, first.letter_id, "b" * 64]
    assert rows[0]["case_number"] == rows[1]["case_number"] == (first.case_number or "")
    assert rows[0]["item_drugs"] == "acetaminophen; hydrocodone"
    assert rows[0]["item_guidelines"] == "MTUS; ODG"
    assert rows[1]["item_decision"] == "overturned"
    assert rows[0]["reviewer_specialties"] == "Internal Medicine; Pain Management"
    assert rows[2]["item_index"] == "" and rows[2]["item_request"] == ""
    frame = pd.read_csv(io.StringIO(text))
    assert len(frame) == 3


@pytest.mark.parametrize("index", range(3))
def test_spans_point_at_the_values_in_the_text(index):
    record, text = _letters()[index]
    obj = json.loads(export.spans_line(record, text))
    assert obj["text"] == text
    labels = {s["label"] for s in obj["spans"]}
    if record.case_number:
        assert "case_number" in labels
    for span in obj["spans"]:
        written = " ".join(text[span["start"] : span["end"]].split()).lower()
        path = span["path"]
        value = export._elements(export.flatten(record)[path])
        assert written in [v.lower() for v in value], (path, written)
    if record.items:
        request = [s for s in obj["spans"] if s["label"] == "request"]
        assert request and request[0]["item"] == 0


def test_spans_prefer_the_proposals_own_spans_and_skip_unwritten_values():
    record, text = _letters(1)[0]
    where = text.index(record.case_number)
    proposal = Proposal(
        letter_id=record.letter_id,
        fields={
            "case_number": ProposedField(
                value=record.case_number,
                spans=[Span(start=where, end=where + len(record.case_number))],
            ),
            # A different value than the gold one: its span must not be used.
            "patient.age": ProposedField(value=99, spans=[Span(start=0, end=5)]),
        },
    )
    spans = export.field_spans(record, text, proposal)
    case = [s for s in spans if s["label"] == "case_number"]
    assert [(s["start"], s["end"]) for s in case] == [(where, where + len(record.case_number))]
    # ISO dates are normalised values not written as such in the letter: no span, not a wrong one.
    assert not [s for s in spans if s["label"] == "date_assigned"]
    assert all(s["start"] != 0 for s in spans if s["label"] == "patient.age")


def test_find_in_text_folds_whitespace():
    text = "Additional physical therapy two times\nfour visits (8):\nUpheld"
    span = export.find_in_text(text, "physical therapy two times four visits")
    assert span is not None and text[span.start : span.end].endswith("four visits")
    assert export.find_in_text(text, "   ") is None
    assert export.find_in_text(text, "acupuncture") is None


def test_item_fields_are_found_under_their_own_heading():
    text = (
        "Case CM16-0000001. The patient, 51, was seen 1951 times.\n"
        "Norco 10/325mg #90:\nUpheld\nDecision rationale: not needed.\n"
        "Physical therapy x8 is: Overturned\nDecision rationale: Upheld elsewhere; needed.\n"
        "Acupuncture x6:\nUpheld\n"
    )
    record = GoldRecord(
        letter_id="d" * 64,
        patient={"age": 51},
        items=[
            DisputedItem(request="Norco 10/325mg #90", decision="upheld"),
            DisputedItem(request="Physical therapy x8", decision="overturned"),
            DisputedItem(request="Acupuncture x6", decision="upheld"),
        ],
    )
    spans = {s["path"]: s for s in export.field_spans(record, text)}
    third = text.index("Acupuncture")
    assert spans["items.2.decision"]["start"] > third
    assert spans["items.0.decision"]["start"] < text.index("Physical")
    assert text[spans["items.1.decision"]["start"] :].startswith("Overturned")
    age = spans["patient.age"]
    assert text[age["start"] - 2 : age["end"]] == ", 51"
