"""Adjudication sessions over versions with different items (pure logic, no store)."""

import pytest

from imrgold.core.models import DisputedItem, GoldRecord
from imrgold.store.qa.adjudication import EDITED, MISSING, AdjudicationSession
from imrgold.store.qa.review import ReviewSession

LID = "e" * 64


def _rec(*items, priority="standard"):
    return GoldRecord(
        letter_id=LID,
        priority=priority,
        items=[DisputedItem(request=r, decision=d) for r, d in items],
    )


NORCO = ("Norco 10/325 #90", "upheld")
PT = ("Physical therapy x 8 sessions", "overturned")
MRI = ("MRI of the lumbar spine", "upheld")


@pytest.mark.parametrize("keep, expected", [("bob", [NORCO, PT, MRI]), ("alice", [NORCO, MRI])])
def test_an_item_only_one_version_has_is_kept_or_dropped(keep, expected):
    versions = {"alice": _rec(NORCO, MRI), "bob": _rec(NORCO, PT, MRI)}
    session = AdjudicationSession.start(LID, versions)
    assert [r.path for r in session.rows] == ["items.1"]
    assert session.rows[0].values == {"alice": MISSING, "bob": PT[0]}
    session.choose(0, keep)
    record = session.record()
    assert [(i.request, i.decision) for i in record.items] == expected


def test_field_choices_and_written_values_combine():
    alice = _rec(NORCO, ("MRI lumbar spine", "upheld"), priority="standard")
    bob = _rec(("Norco 10/325 #90", "overturned"), MRI, priority="expedited")
    session = AdjudicationSession.start(LID, {"alice": alice, "bob": bob})
    paths = [r.path for r in session.rows]
    assert paths == ["priority", "items.0.decision", "items.1.request"]
    with pytest.raises(ValueError, match="not chosen"):
        session.record()
    session.choose(0, "bob")
    session.choose(1, "alice")
    session.write(2, "MRI, lumbar spine")
    assert session.rows[2].choice == EDITED
    record = session.record()
    assert record.priority == "expedited"
    assert record.items[0].decision == "upheld"
    assert record.items[1].request == "MRI, lumbar spine"
    with pytest.raises(ValueError):
        session.choose(0, "zoe")


def test_a_name_or_a_value_that_reads_like_a_marker_is_no_marker():
    """An annotator named "(edited)" is chosen like any other, and a request reading
    "<absent>" is a value, not a version's missing item."""
    odd = ("<absent>", "upheld")
    alice = _rec(NORCO, odd, priority="expedited")
    session = AdjudicationSession.start(LID, {"(edited)": alice, "bob": _rec(NORCO)})
    assert [r.path for r in session.rows] == ["priority", "items.1"]
    assert session.rows[1].values["(edited)"] != MISSING
    assert session.rows[1].values["bob"] == MISSING
    session.choose_all("(edited)")
    assert session.value_of(0) == "expedited" and session.rows[0].choice != EDITED
    record = session.record()
    assert record.priority == "expedited"
    assert [i.request for i in record.items] == [NORCO[0], "<absent>"]


def test_writing_a_whole_item_is_refused():
    session = AdjudicationSession.start(LID, {"a": _rec(NORCO), "b": _rec(NORCO, PT)})
    with pytest.raises(ValueError, match="kept or dropped"):
        session.write(0, "anything")


def test_review_session_counts_a_same_value_correction_as_confirmation():
    session = ReviewSession.start(_rec(NORCO), "alice", "carol")
    session.correct("priority", "standard")
    session.correct("items.0.decision", "overturned")
    assert session.verdicts == {"priority": "confirmed", "items.0.decision": "corrected"}
    assert session.corrections == ["items.0.decision"]
    assert session.record().items[0].decision == "overturned"
    assert "case_number" in session.pending()
