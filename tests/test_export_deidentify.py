import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imrgold.core import export
from imrgold.core.deidentify import Deidentifier, Edit, apply_edits
from imrgold.core.models import DisputedItem, GoldRecord

LETTERS = Path(__file__).resolve().parent.parent / "fixtures" / "letters"


def _record(**over) -> GoldRecord:
    base = dict(
        letter_id="c" * 64,
        case_number="CM16-0237844",
        date_assigned="2016-12-14",
        date_of_injury="2016-10-20",
        decision_date="2017-01-12",
        ur_denial_date="2016-12-05",
        application_received=None,
        patient={"age": 93, "sex": "female"},
        diagnoses=["fall on 10/20/2016"],
        items=[
            DisputedItem(
                request="PT 2x4",
                decision="upheld",
                rationale="Seen October 30, 2016 and 11/05/16; a 93-year-old; CM16-0237844.",
            )
        ],
    )
    base.update(over)
    return GoldRecord(**base)


def test_record_pseudonym_shift_and_age():
    deid = Deidentifier("k1")
    rec = _record()
    out = deid.record(rec)
    assert out.case_number.startswith("CASE-") and "0237844" not in out.model_dump_json()
    assert out.letter_id != rec.letter_id and re.fullmatch(r"[0-9a-f]{64}", out.letter_id)
    offset = deid.offset_days(rec.letter_id)
    assert offset != 0 and abs(offset) <= 365
    assert out.date_assigned == rec.date_assigned + dt.timedelta(days=offset)
    # Intervals within the letter are kept.
    assert out.decision_date - out.date_of_injury == rec.decision_date - rec.date_of_injury
    assert out.application_received is None
    assert out.patient.age == 90
    rationale = out.items[0].rationale
    assert "October 30, 2016" not in rationale and "11/05/16" not in rationale
    assert "90+-year-old" in rationale and out.case_number in rationale
    moved = dt.date(2016, 10, 30) + dt.timedelta(days=offset)
    assert moved.strftime("%B %d, %Y") in rationale
    moved = dt.date(2016, 11, 5) + dt.timedelta(days=offset)
    assert moved.strftime("%m/%d/%y") in rationale
    assert (dt.date(2016, 10, 20) + dt.timedelta(days=offset)).strftime("%m/%d/%Y") in (
        out.diagnoses[0].text
    )
    summary = "\n".join(deid.summary())
    assert "1 in records" in summary and "pseudonym" in summary and "90 or older" in summary


def test_pseudonyms_are_stable_per_key_and_differ_across_keys():
    a, b = Deidentifier("k1"), Deidentifier("k2")
    assert a.pseudonym("CM16-0237844") == a.pseudonym("cm16-0237844 ")
    assert a.pseudonym("CM16-0237844") != a.pseudonym("CM16-0237845")
    assert a.pseudonym("CM16-0237844") != b.pseudonym("CM16-0237844")
    offsets = {a.offset_days(f"{i:064x}") for i in range(200)}
    assert len(offsets) > 100 and any(o < 0 for o in offsets) and any(o > 0 for o in offsets)


def test_age_under_90_kept():
    assert Deidentifier("k").record(_record(patient={"age": 89})).patient.age == 89


@given(
    st.text(alphabet="ab \n", max_size=40),
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 5), st.text("XYZ", max_size=6)), max_size=5
    ),
)
def test_apply_edits_maps_untouched_spans_onto_the_same_characters(text, raw):
    edits, taken = [], []
    for start, length, new in raw:
        start = min(start, len(text))
        end = min(start + length, len(text))
        if any(s < end and start < e for s, e in taken) or any(s == start for s, _ in taken):
            continue
        taken.append((start, end))
        edits.append(Edit(start, end, new))
    new_text, mapper = apply_edits(text, edits)
    for s in range(len(text) + 1):
        for e in range(s, len(text) + 1):
            if any((a < e and s < b) or (a == b and s < a < e) for a, b in taken):
                continue
            assert new_text[mapper(s) : mapper(e, True)] == text[s:e]


@pytest.mark.parametrize("name", sorted(p.name for p in LETTERS.glob("CM*.txt"))[:4])
def test_spans_object_text_and_spans_are_deidentified_together(name):
    data = (LETTERS / name).read_bytes()
    text = data.decode("utf-8", errors="replace")
    case = re.search(r"CM\d{2}-\d{7}", text)
    request = re.search(r"^(.{10,200}?):\s*\n?\s*(Upheld|Overturned)\s*$", text, re.M)
    record = GoldRecord(
        letter_id=hashlib.sha256(data).hexdigest(),
        case_number=case.group(0) if case else None,
        items=[DisputedItem(request=" ".join(request.group(1).split()))] if request else [],
    )
    obj = export.spans_object(record, text)
    out = Deidentifier("k").spans_object(obj, record)
    assert not re.search(r"CM\d{2}-\d{7}", out["text"])
    for before, after in zip(obj["spans"], out["spans"], strict=True):
        if before["label"] == "case_number":
            assert out["text"][after["start"] : after["end"]] == out["record"]["case_number"]
        elif before["label"] == "request":
            # The span and the record's request went through the same edits.
            written = " ".join(out["text"][after["start"] : after["end"]].split())
            assert written == out["record"]["items"][0]["request"]
    original_dates = re.findall(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", text)
    if original_dates:
        assert re.findall(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", out["text"]) != original_dates


def test_two_digit_years_read_against_the_latest_year_without_a_decision_date():
    rec = _record(
        decision_date=None,
        date_assigned=None,
        date_of_injury=None,
        ur_denial_date=None,
        diagnoses=[],
        items=[DisputedItem(request="x", rationale="On 03/02/99 and in 2001.")],
    )
    deid = Deidentifier("k")
    assert deid._pivot(rec) == 2001
    assert deid._pivot(_record()) == 2017  # the decision year
    out = deid.record(rec)
    moved = dt.date(1999, 3, 2) + dt.timedelta(days=deid.offset_days(rec.letter_id))
    assert moved.strftime("%m/%d/%y") in out.items[0].rationale


def test_month_name_forms_shift_and_other_words_do_not():
    deid = Deidentifier("k")
    rec = _record(
        items=[
            DisputedItem(
                request="x",
                rationale="Seen Sept. 5, 2015 and in March 2016; see Section 2016"
                " and Page 111 of 127.",
            )
        ]
    )
    out = deid.record(rec).items[0].rationale
    delta = dt.timedelta(days=deid.offset_days(rec.letter_id))
    assert (dt.date(2015, 9, 5) + delta).strftime("%B %d, %Y") in out
    assert (dt.date(2016, 3, 15) + delta).strftime("%B %Y") in out
    assert "Section 2016" in out and "Page 111 of 127" in out
