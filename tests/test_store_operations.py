"""The journal's operations: each kind of change a frozen dataclass whose journal form is the
format schema-2 stores have always written, so their journals replay unchanged."""

import pytest

from imrgold.cli.main import main
from imrgold.store import Store, StoreDamaged
from imrgold.store.journal import Journal
from imrgold.store.layout import Layout
from imrgold.store.operations import (
    AddLetter,
    MarkGold,
    PutProposal,
    RestoreText,
    SaveDraft,
    SetFinal,
    SetStatus,
    SetValue,
    decode,
)
from tests.store_helpers import corrected, fixture_letters, isolate, proposal_for

AT = "2026-01-02T03:04:05.000006+00:00"


@pytest.fixture
def db(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)  # doctor checks the user's own folders too: these, not theirs
    return tmp_path / "store" / "imrgold.json"


def _history(lid, kind, track, path, old, new, annotator="bob"):
    return {
        "letter_id": lid,
        "source": "human",
        "annotator": annotator,
        "at": AT,
        "kind": kind,
        "track": track,
        "path": path,
        "old": old,
        "new": new,
    }


def _old_format_lines(letter, other):
    """One line of each kind, spelled as the store wrote them before operations were typed."""
    lid, oid = letter.letter_id, other.letter_id
    machine = proposal_for(other)
    draft = corrected(proposal_for(letter), "patient.age", 41).model_dump(mode="json")
    gold = machine.to_record().model_dump(mode="json")
    final = {**gold, "case_number": "CM22-2222222"}
    new_state = {"name": other.name, "status": "new", "comment": None}
    new_state |= {"annotator": None, "updated_at": None}
    return [
        {"letter": oid, "text": other.model_dump(mode="json"), "state": new_state},
        {
            "letter": oid,
            "proposal": {"proposal": machine.model_dump(mode="json")},
            "history": [],
        },
        {
            "letter": lid,
            "draft": {"annotator": "bob", "proposal": draft, "at": AT},
            "state": {"annotator": "bob", "updated_at": AT, "status": "in_progress"},
            "history": [_history(lid, "draft", "bob", "patient.age", None, 41)],
        },
        {
            "letter": lid,
            "state": {"annotator": "bob", "updated_at": AT, "status": "flagged", "comment": "odd"},
            "history": [_history(lid, "status", None, "status", "in_progress", "flagged")],
        },
        {"kv": {"key": "learned", "value": {"a": [1, 2]}}},
        {
            "letter": oid,
            "draft": {"annotator": "bob", "proposal": machine.model_dump(mode="json"), "at": AT},
            "gold": {"annotator": "bob", "record": gold, "at": AT},
            "state": {"annotator": "bob", "updated_at": AT, "status": "gold", "edited": False},
            "history": [_history(oid, "status", None, "status", "new", "gold")],
        },
        {
            "letter": oid,
            "final": {"annotator": "judge", "record": final, "at": AT},
            "state": {"annotator": "judge", "updated_at": AT},
            "history": [_history(oid, "final", "final", "case_number", None, "CM22-2222222")],
        },
        {"letter": oid, "text": other.model_dump(mode="json")},
    ]


def test_each_kind_is_told_by_its_journal_form_and_reads_back_equal():
    letter, other = fixture_letters()[:2]
    lines = _old_format_lines(letter, other)
    kinds = [decode(line) for line in lines]
    assert [type(op) for op in kinds] == [
        AddLetter,
        PutProposal,
        SaveDraft,
        SetStatus,
        SetValue,
        MarkGold,
        SetFinal,
        RestoreText,
    ]
    for line, op in zip(lines, kinds, strict=True):
        assert op.entry() == line and list(op.entry()) == list(line)  # keys in the same order
        assert decode({"seq": 7, "at": AT, **op.entry()}) == op


def test_a_journal_in_the_schema_2_format_replays(db):
    letter, other = fixture_letters()[:2]
    lid, oid = letter.letter_id, other.letter_id
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter, proposal_for(letter))
    # A crash left these lines (as earlier versions wrote them) in the journal, past the
    # checkpoint: opening must apply every one.
    journal = Journal(Layout(db).journal)
    base = journal.read()[0]
    journal.open_for_append()
    for seq, line in enumerate(_old_format_lines(letter, other), base + 1):
        journal.append({"seq": seq, "at": AT, **line})
    journal.close()

    machine = proposal_for(other)
    for read_only in (True, False, True):  # replayed; checkpointed by the writer; read back
        with Store.open(db, read_only=read_only, annotator="ann") as store:
            assert store.get_letter(oid) == other
            assert store.get_proposal(oid) == machine
            assert store.get_draft(lid, "bob").get("patient.age").value == 41
            assert store.summary(lid).status == "flagged" and store.summary(lid).comment == "odd"
            assert [c.new for c in store.history(lid)] == [41, "flagged"]
            assert store.meta("learned") == {"a": [1, 2]}
            assert store.gold_versions(oid) == {"bob": machine.to_record()}
            assert store.get_gold(oid).case_number == "CM22-2222222"
            assert store.final_annotator(oid) == "judge"
            assert store.status(oid) == "gold"
    assert main(["doctor", "--db", str(db)]) == 0


def test_a_journal_line_of_no_known_kind_is_damage(db):
    letter = fixture_letters()[0]
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter)
    journal = Journal(Layout(db).journal)
    base = journal.read()[0]
    journal.open_for_append()
    journal.append({"seq": base + 1, "at": AT, "letter": letter.letter_id, "verdict": "odd"})
    journal.close()
    with pytest.raises(StoreDamaged, match=r"journal is damaged \(entry 1 .*verdict"):
        Store.open(db, read_only=True)
