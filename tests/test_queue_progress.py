"""The queue's pure functions: expected corrections, the orders, the search with letter text,
the gold count, the pace of the work, and where a field's conventions are."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from imrgold.cli.main import main
from imrgold.core.calibration import calibrated
from imrgold.core.models import LetterSummary, Proposal, ProposedField
from imrgold.core.progress import duration_text, expected_corrections, progress, progress_text
from imrgold.core.queue import SORTS, filter_summaries, is_gold, next_sort, sort_summaries
from imrgold.store import Store
from imrgold.tui.screens.conventions import conventions_path, section_for

T0 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


# -- expected corrections ------------------------------------------------------------------


def test_expected_corrections_sums_the_doubt_of_the_fields_not_yet_checked():
    proposal = Proposal(
        letter_id="x",
        calibrated=True,
        fields={
            "case_number": ProposedField(value="CM1", confidence=0.9),
            "decision_date": ProposedField(value=None, confidence=0.25),
            "priority": ProposedField(value="Regular", confidence=0.5, confirmed=True),
            "patient.age": ProposedField(value=40, confidence=0.2, source="human"),
            # A list checked element by element: one element left, so the field still counts.
            "diagnoses": ProposedField(
                value=["a", "b"], confidence=0.6, elements=["confirmed", "machine"]
            ),
            "diagnosis_codes": ProposedField(
                value=["A", "B"], confidence=0.3, elements=["confirmed", "corrected"]
            ),
        },
    )
    # Fields the proposal does not hold are unknown to the machine: confidence 0, one each.
    missing = len(proposal.paths()) - len(proposal.fields)
    assert expected_corrections(proposal) == pytest.approx(0.1 + 0.75 + 0.4 + missing)
    # Stored before calibration: the rules' raw strengths are calibrated first.
    raw = proposal.model_copy(update={"calibrated": False})
    assert expected_corrections(raw) == expected_corrections(calibrated(raw))
    assert expected_corrections(raw) != expected_corrections(proposal)


# -- orders and search ---------------------------------------------------------------------


def summary(lid: str, **kw) -> LetterSummary:
    return LetterSummary(letter_id=lid, name=f"{lid}.txt", **kw)


ROWS = [
    summary("a", expected_corrections=2.0, case_number="CM3", status="gold", has_gold=True),
    summary("b", expected_corrections=None, decision_date=dt.date(2015, 1, 2)),
    summary("c", expected_corrections=7.5, case_number="CM1", updated_at=minutes(5)),
    summary("d", expected_corrections=2.0, status="flagged", updated_at=minutes(9)),
]


@pytest.mark.parametrize(
    ("key", "order"),
    [
        ("expected", "cadb"),  # most doubt first, ties in store order, unknown last
        ("case", "cabd"),
        ("decision_date", "bacd"),
        ("status", "bcad"),
        ("touched", "dcab"),
    ],
)
def test_each_order(key, order):
    assert "".join(s.letter_id for s in sort_summaries(ROWS, key)) == order


def test_the_order_key_goes_round_every_order():
    key, seen = next(iter(SORTS)), []
    for _ in SORTS:
        seen.append(key)
        key = next_sort(key)
    assert key == "expected" and seen == list(SORTS)


def test_search_takes_the_letters_found_in_their_text_and_keeps_the_status_filter():
    assert [s.letter_id for s in filter_summaries(ROWS, None, "cm1")] == ["c"]
    found = {"a", "b"}  # their text holds the words
    assert [s.letter_id for s in filter_summaries(ROWS, None, "cm1", found)] == ["a", "b", "c"]
    assert [s.letter_id for s in filter_summaries(ROWS, "new", "cm1", found)] == ["b", "c"]


def test_gold_counts_every_letter_with_a_gold_or_final_record():
    assert is_gold(summary("x", status="flagged", has_gold=True))
    assert is_gold(summary("x", status="adjudication"))  # a row written before has_gold
    assert not is_gold(summary("x", status="in_progress"))


# -- the pace ------------------------------------------------------------------------------


def test_pace_today_session_median_and_time_left():
    marks = [
        T0 - dt.timedelta(days=1),  # yesterday
        minutes(0),
        minutes(4),
        minutes(10),
        minutes(50),  # after a 40-minute break: the gap is not work
        minutes(58),
    ]
    p = progress(marks, left=12, now=minutes(60), session_start=minutes(45))
    assert (p.done_today, p.done_session, p.left) == (5, 2, 12)
    assert p.median_minutes == 6.0  # gaps 4, 6, 8 (the day's break and the night left out)
    assert p.time_left == dt.timedelta(minutes=72)
    assert progress_text(p) == "today 5 · session 2 · 6 min a letter · 12 left · 1 h 12 min to go"


def test_without_a_session_start_the_session_is_the_last_stretch_of_work():
    marks = [minutes(0), minutes(50), minutes(58)]
    assert progress(marks, left=0, now=minutes(60)).done_session == 2
    assert progress(marks, left=0, now=minutes(100)).done_session == 0  # on a break now


def test_no_pace_before_two_letters_and_today_is_in_the_clocks_zone():
    tz = dt.timezone(dt.timedelta(hours=-8))
    late = dt.datetime(2026, 3, 10, 23, 30, tzinfo=tz)
    # 07:10 UTC on the 11th is still the 10th at UTC-8.
    p = progress([late.astimezone(dt.UTC)], left=3, now=late + dt.timedelta(minutes=10))
    assert (p.done_today, p.median_minutes, p.time_left) == (1, None, None)
    assert progress_text(p) == "today 1 · session 1 · — a letter · 3 left · — to go"
    assert duration_text(dt.timedelta(minutes=125)) == "2 h 05 min"


def test_stats_prints_the_pace(tmp_path, capsys):
    path = tmp_path / "db" / "imrgold.json"
    from imrgold.cli.commands.annotate import bundled_letters, ingest_files

    with Store.open(path, annotator="ann") as store:
        ingest_files(store, bundled_letters()[:3])
        # Marked gold 3 and 1 minutes ago: a stretch of work going on now, 2 minutes a letter.
        now = dt.datetime.now(dt.UTC)
        for lid, ago in zip(store.letter_ids()[:2], (3, 1), strict=False):
            record = store.get_proposal(lid).to_record()
            store.put_gold(record, "ann", at=now - dt.timedelta(minutes=ago))
    assert main(["stats", "--db", str(path), "--json"]) == 0
    pace = json.loads(capsys.readouterr().out)["progress"]
    assert (pace["done_session"], pace["median_minutes"], pace["left"]) == (2, 2.0, 1)
    assert pace["minutes_left"] == 2.0
    assert main(["stats", "--db", str(path)]) == 0
    assert "progress: today" in capsys.readouterr().out


# -- conventions ---------------------------------------------------------------------------


def test_every_field_has_a_section_of_the_shipped_conventions():
    from imrgold.core.models import field_paths

    text = conventions_path().read_text(encoding="utf-8")
    titles = [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]
    sections = {path: section_for(path, titles) for path in field_paths(1)}
    assert all(sections.values()), [p for p, s in sections.items() if s is None]
    assert sections["reviewer.licensure"] == "Reviewer"
    assert sections["diagnosis_codes"] == "ICD-10-CM codes of diagnoses"
    assert sections["items.0.drugs"].startswith("Items (one per decision heading")
    assert sections["date_of_injury"] == "Case header"
    assert section_for(None, titles) is None


def test_rows_written_before_the_queues_orders_are_older_not_wrong_and_repair_fills_them(
    tmp_path, capsys
):
    from imrgold.cli.commands.annotate import bundled_letters, ingest_files
    from imrgold.store.layout import LATER_ROW_KEYS

    path = tmp_path / "db" / "imrgold.json"
    with Store.open(path, annotator="ann") as store:
        ingest_files(store, bundled_letters()[:2])
        lid = store.letter_ids()[0]
        store.mark_gold(store.get_proposal(lid))
        before = store.summary(lid)
    # The catalog as an older imrgold wrote it: rows without the queue's keys.
    catalog = json.loads(path.read_text())
    for row in catalog["letters"].values():
        for key in LATER_ROW_KEYS:
            row.pop(key)
    path.write_text(json.dumps(catalog))
    with Store.open(path, read_only=True) as store:
        assert store.summary(lid).expected_corrections is None
    assert main(["doctor", "--db", str(path)]) != 0
    out = capsys.readouterr()
    assert "2 queue row(s) written before" in out.out + out.err
    assert "disagrees" not in out.out + out.err
    assert main(["doctor", "--db", str(path), "--repair"]) == 0
    with Store.open(path, read_only=True) as store:
        after = store.summary(lid)
    assert after.expected_corrections == 0.0 and after.has_gold
    assert after.gold_at == before.gold_at is not None
