import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from imrgold.core.models import (
    DisputedItem,
    GoldRecord,
    Proposal,
    flatten,
    unflatten,
)

LETTER_ID = "a" * 64


def _record() -> GoldRecord:
    return GoldRecord(
        letter_id=LETTER_ID,
        case_number="CM14-0129040",
        date_assigned="2014-08-18",
        priority="standard",
        reviewer={"specialties": ["Internal Medicine"], "licensure": ["FL"]},
        patient={"age": 40},
        diagnoses=["lumbar radiculopathy"],
        items=[
            DisputedItem(
                request="Baclofen cream #2 120mg",
                decision="upheld",
                category="medication",
                drugs=["baclofen"],
                guidelines=["ODG", "MTUS"],
            )
        ],
    )


def test_flatten_round_trip():
    record = _record()
    flat = flatten(record)
    assert flat["items.0.guidelines"] == ["MTUS", "ODG"]  # SPEC order enforced
    assert flat["date_assigned"] == "2014-08-18"
    assert unflatten(LETTER_ID, flat) == record


def test_proposal_round_trip_and_states():
    record = _record()
    proposal = Proposal.from_record(record, source="machine")
    assert proposal.n_items == 1
    assert proposal.to_record() == record
    assert proposal.get("items.0.request").state == "confirmed"
    assert proposal.get("items.5.drugs").value == []


@pytest.mark.parametrize(
    "bad",
    [
        {"priority": "urgent"},
        {"reviewer": {"licensure": ["Florida"]}},
        {"letter_id": "not-a-hash"},
        {"date_of_injury": "13/45/2014"},
    ],
)
def test_invalid_values_rejected(bad):
    data = _record().model_dump(mode="json") | bad
    with pytest.raises(ValidationError):
        GoldRecord.model_validate(data)


def test_schema_command_prints_json_schema():
    out = subprocess.run(
        [sys.executable, "-m", "imrgold", "schema"], capture_output=True, text=True, check=True
    ).stdout
    schema = json.loads(out)
    assert schema["title"] == "GoldRecord"
    assert set(schema["properties"]) >= {"case_number", "items", "reviewer", "patient"}


def _schema_fields(schema: dict) -> set[str]:
    """Every property name the schema declares, nested definitions included."""
    names = set(schema.get("properties", {}))
    for definition in schema.get("$defs", {}).values():
        names |= set(definition.get("properties", {}))
    return names


def test_the_checked_in_contract_agrees_with_the_model():
    docs = Path(__file__).resolve().parent.parent / "docs"
    checked_in = json.loads((docs / "gold-record.schema.json").read_text(encoding="utf-8"))
    out = subprocess.run(
        [sys.executable, "-m", "imrgold", "schema"], capture_output=True, text=True, check=True
    ).stdout
    assert checked_in == json.loads(out), "run `imrgold schema > docs/gold-record.schema.json`"
    prose = (docs / "gold-record.md").read_text(encoding="utf-8")
    undocumented = {f for f in _schema_fields(checked_in) if f'"{f}"' not in prose}
    assert undocumented == set()
