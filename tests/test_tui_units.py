"""The interface's pure parts: parsing what the annotator types, and undoable edits."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from imrgold.core.models import ITEM_FIELDS, Proposal, ProposedField, Span
from imrgold.tui import fields
from imrgold.tui.editing import Draft
from imrgold.tui.widgets.field_editor import last_part, replace_last_part
from imrgold.tui.widgets.queue_table import decisions_text


def proposal() -> Proposal:
    return Proposal(
        letter_id="a" * 64,
        fields={
            "case_number": ProposedField(
                value="CM1", spans=[Span(start=0, end=3)], confidence=0.99
            ),
            "diagnoses": ProposedField(
                value=["a", "b", "c"], spans=[Span(start=i, end=i + 1) for i in range(3)]
            ),
            **{f"items.0.{n}": ProposedField(value=f"zero {n}") for n in ("request", "form")},
            **{f"items.1.{n}": ProposedField(value=f"one {n}") for n in ("request", "form")},
        },
    )


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("decision_date", " 2014-11-07 ", "2014-11-07"),
        ("case_number", "", None),
        ("patient.age", "40", 40),
        ("reviewer.licensure", "fl; ca", ["FL", "CA"]),
        ("items.0.guidelines", "odg, mtus", ["MTUS", "ODG"]),
        ("items.2.drugs", "Menthol; capsaicin; menthol", ["capsaicin", "menthol"]),
        ("items.0.decision", "Upheld", "upheld"),
        ("items.0.request", "Norco   10/325\n#60", "Norco 10/325 #60"),
    ],
)
def test_parse_turns_typed_text_into_schema_values(path, text, value):
    assert fields.parse(path, text) == value


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("decision_date", "11/31/2014"),  # November has 30 days
        ("patient.age", "forty"),
        ("reviewer.licensure", "Cal"),
        ("items.0.guidelines", "WHO"),
        ("priority", "urgent"),
    ],
)
def test_parse_refuses_what_the_schema_refuses(path, text):
    with pytest.raises(ValueError):
        fields.parse(path, text)


def test_rows_give_each_diagnosis_its_own_row_and_span():
    rows = fields.rows_for(proposal())
    diagnoses = [r for r in rows if r.path == "diagnoses"]
    assert [r.text for r in diagnoses] == ["a", "b", "c"]
    assert [r.spans[0].start for r in diagnoses] == [0, 1, 2]
    # Two items with no category: of their drug rows only the form, which holds a value (to
    # be cleared), is walked.
    per_item = len(ITEM_FIELDS) - len(fields.DRUG_FIELDS) + 1
    assert len([r for r in rows if r.path.startswith("items.")]) == 2 * per_item


def test_drug_rows_appear_when_an_item_becomes_a_medication():
    draft = Draft(proposal())
    assert "items.0.strength" not in [r.key for r in fields.rows_for(draft.proposal)]
    draft.set_value("items.0.category", "medication")
    keys = [r.key for r in fields.rows_for(draft.proposal)]
    assert {f"items.0.{n}" for n in fields.DRUG_FIELDS} <= set(keys)
    assert "items.1.strength" not in keys


def test_low_confidence_only_while_the_machine_value_stands():
    draft = Draft(proposal())
    low = [r.key for r in fields.rows_for(draft.proposal) if r.low]
    assert "items.0.request" in low and "case_number" not in low
    draft.confirm("items.0.request")
    assert "items.0.request" not in [r.key for r in fields.rows_for(draft.proposal) if r.low]


def test_set_value_undo_redo():
    draft = Draft(proposal())
    assert draft.set_value("case_number", "CM2")
    assert draft.proposal.get("case_number").state == "corrected"
    assert draft.undo() and draft.proposal.get("case_number").value == "CM1"
    assert draft.redo() and draft.proposal.get("case_number").value == "CM2"
    assert not draft.redo()


def test_unchanged_value_confirms_without_correcting():
    draft = Draft(proposal())
    assert draft.set_value("case_number", "CM1")
    assert draft.proposal.get("case_number").state == "confirmed"
    assert not draft.set_value("case_number", "CM1")


def test_items_move_and_remove_with_all_their_fields():
    draft = Draft(proposal())
    assert draft.move_item(1, -1)
    assert draft.proposal.get("items.0.form").value == "one form"
    assert draft.remove_item(0)
    assert draft.proposal.n_items == 1 and draft.proposal.get("items.0.form").value == "zero form"
    at = draft.add_item(None)
    assert at == 1 and draft.proposal.get("items.1.request").value == ""
    draft.undo()
    draft.undo()
    assert draft.proposal.get("items.1.form").value == "zero form"


def test_diagnoses_keep_spans_aligned_when_moved_and_removed():
    draft = Draft(proposal())
    assert draft.move_element("diagnoses", 0, 1)
    field = draft.proposal.get("diagnoses")
    assert field.value == ["b", "a", "c"] and [s.start for s in field.spans] == [1, 0, 2]
    assert draft.remove_element("diagnoses", 2)
    assert draft.add_element("diagnoses", 0, "new")
    field = draft.proposal.get("diagnoses")
    assert field.value == ["b", "new", "a"] and len(field.spans) == 3
    assert not draft.move_element("diagnoses", 2, 1)


def test_accepting_a_drug_replaces_only_what_is_being_typed():
    assert last_part("baclofen; fexm") == "fexm"
    assert replace_last_part("baclofen; fexm", ["cyclobenzaprine"]) == "baclofen; cyclobenzaprine"
    assert replace_last_part("nor", ["acetaminophen", "hydrocodone"]) == (
        "acetaminophen; hydrocodone"
    )


def test_decisions_summarised():
    assert decisions_text(["upheld", "overturned", "upheld"]) == "2 upheld, 1 overturned"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2011-07-14", "2011-07-14"),
        ("7/14/2011", "2011-07-14"),
        ("07/14/11", "2011-07-14"),
        ("July 14, 2011", "2011-07-14"),
        ("Jul 4, 2016", "2016-07-04"),
    ],
)
def test_dates_typed_as_letters_write_them_are_stored_iso(typed, stored):
    from imrgold.tui.fields import parse

    assert parse("date_of_injury", typed) == stored


def test_a_date_that_is_no_date_is_refused_with_the_forms_it_takes():
    from imrgold.tui.fields import parse

    with pytest.raises(ValueError, match="MM/DD/YYYY"):
        parse("decision_date", "13/45/2016")


def _diagnosis_rows(draft: Draft) -> list[fields.Row]:
    return [r for r in fields.rows_for(draft.proposal) if r.path == "diagnoses"]


def test_each_diagnosis_is_confirmed_on_its_own_and_keeps_its_own_flag():
    draft = Draft(proposal())  # diagnoses a, b, c at confidence 0.0: each flagged
    assert [r.low for r in _diagnosis_rows(draft)] == [True, True, True]
    assert draft.confirm("diagnoses", 1)
    assert [r.state for r in _diagnosis_rows(draft)] == ["machine", "confirmed", "machine"]
    assert [r.low for r in _diagnosis_rows(draft)] == [True, False, True]
    assert not draft.proposal.get("diagnoses").confirmed  # two still unchecked
    assert draft.set_element("diagnoses", 2, "c2")  # a correction checks that one only
    assert [r.state for r in _diagnosis_rows(draft)] == ["machine", "confirmed", "corrected"]
    assert draft.set_element("diagnoses", 0, "a")  # Enter on an unchanged one confirms it
    assert [r.state for r in _diagnosis_rows(draft)] == ["confirmed", "confirmed", "corrected"]
    assert draft.proposal.get("diagnoses").confirmed


def test_element_states_follow_their_diagnosis_when_added_moved_and_removed():
    draft = Draft(proposal())
    draft.confirm("diagnoses", 0)
    draft.move_element("diagnoses", 0, 1)
    assert [r.state for r in _diagnosis_rows(draft)] == ["machine", "confirmed", "machine"]
    draft.add_element("diagnoses", 0, "new")
    states = [r.state for r in _diagnosis_rows(draft)]
    assert states == ["machine", "corrected", "confirmed", "machine"]
    draft.remove_element("diagnoses", 2)
    assert [r.text for r in _diagnosis_rows(draft)] == ["b", "new", "c"]
    assert [r.state for r in _diagnosis_rows(draft)] == ["machine", "corrected", "machine"]
    assert draft.confirm_all()
    assert {r.state for r in _diagnosis_rows(draft)} == {"confirmed", "corrected"}


def _medication(drugs: list[str]) -> Draft:
    base = proposal()
    base.fields["items.0.category"] = ProposedField(value="medication", confidence=0.9)
    base.fields["items.0.drugs"] = ProposedField(
        value=drugs, spans=[Span(start=5, end=9)], confidence=0.5
    )
    return Draft(base)


def _drug_rows(draft: Draft) -> list[fields.Row]:
    return [r for r in fields.rows_for(draft.proposal) if r.path == "items.0.drugs"]


def test_each_drug_has_its_own_row_state_and_flag():
    draft = _medication(["acetaminophen", "hydrocodone"])
    rows = _drug_rows(draft)
    assert [(r.key, r.label, r.text) for r in rows] == [
        ("items.0.drugs#0", "1 drug 1", "acetaminophen"),
        ("items.0.drugs#1", "1 drug 2", "hydrocodone"),
    ]
    assert all(r.low for r in rows)
    assert all(r.spans == (Span(start=5, end=9),) for r in rows)  # the request they came from
    assert fields.suggestion_kind(rows[1]) == "drugs"
    assert draft.confirm("items.0.drugs", 1)
    states = [(r.state, r.low) for r in _drug_rows(draft)]
    assert states == [("machine", True), ("confirmed", False)]
    assert not draft.proposal.get("items.0.drugs").confirmed


def test_an_empty_list_of_drugs_is_one_row_to_type_into():
    draft = _medication([])
    assert [r.key for r in _drug_rows(draft)] == ["items.0.drugs"]


def test_a_drug_retyped_is_replaced_in_order_and_the_others_keep_their_states():
    draft = _medication(["cyclobenzaprine", "naproxen"])
    draft.confirm("items.0.drugs", 1)
    # A brand read as two ingredients: the list stays sorted and each keeps its own state.
    assert draft.replace_element("items.0.drugs", 0, ["acetaminophen", "hydrocodone"])
    assert [(r.text, r.state) for r in _drug_rows(draft)] == [
        ("acetaminophen", "corrected"),
        ("hydrocodone", "corrected"),
        ("naproxen", "confirmed"),
    ]
    assert draft.proposal.get("items.0.drugs").confirmed
    assert draft.replace_element("items.0.drugs", 2, ["hydrocodone"])  # a repeat: one stays
    assert [r.text for r in _drug_rows(draft)] == ["acetaminophen", "hydrocodone"]
    assert draft.replace_element("items.0.drugs", 0, [])  # emptied: removed
    assert [r.text for r in _drug_rows(draft)] == ["hydrocodone"]
    assert draft.undo() and draft.undo()
    assert len(_drug_rows(draft)) == 3


def test_the_same_drug_retyped_confirms_it():
    draft = _medication(["naproxen", "omeprazole"])
    assert draft.replace_element("items.0.drugs", 1, ["omeprazole"])
    assert [r.state for r in _drug_rows(draft)] == ["machine", "confirmed"]
    assert draft.proposal.get("items.0.drugs").spans == [Span(start=5, end=9)]


def test_a_drug_added_or_removed_leaves_the_shared_span_alone():
    draft = _medication(["naproxen"])
    assert draft.add_element("items.0.drugs", 0)
    assert [(r.text, r.state) for r in _drug_rows(draft)] == [
        ("naproxen", "machine"),
        ("", "corrected"),
    ]
    assert draft.proposal.get("items.0.drugs").spans == [Span(start=5, end=9)]
    assert draft.remove_element("items.0.drugs", 0)
    assert draft.proposal.get("items.0.drugs").spans == [Span(start=5, end=9)]


@pytest.mark.parametrize(
    ("confidence", "badge"),
    [
        (0.75, "!75"),
        (0.799, "!79"),
        (0.7999999, "!79"),
        (0.0, "!0"),
        (0.57, "!57"),
        (0.29, "!29"),
        (0.949, "!94"),
        (0.9499999, "!94"),
    ],
)
def test_a_low_confidence_badge_never_shows_the_threshold(confidence, badge):
    from imrgold.tui.widgets.field_table import confidence_badge

    assert confidence_badge(confidence) == badge
    assert int(confidence_badge(confidence)[1:]) < fields.LOW_CONFIDENCE * 100


@pytest.mark.parametrize(
    ("path", "text", "says"),
    [
        ("reviewer.licensure", "fl; Cal", "licensure must be two-letter state codes, got 'CAL'"),
        ("patient.age", "131", "less than or equal to 130"),
        ("items.0.guidelines", "mtus, WHO", "'MTUS', 'ODG', 'ACOEM' or 'other'"),
        ("priority", "urgent", "'standard' or 'expedited'"),
        ("diagnosis_codes", "M54.16; Q99.99", "Q99.99"),
    ],
)
def test_the_editor_refuses_with_the_schemas_own_words(path, text, says):
    """One statement of each rule: what the editor says is what the model says."""
    with pytest.raises(ValueError, match=re.escape(says)):
        fields.parse(path, text)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("reviewer.licensure", "ca; ny; fl"),
        ("items.0.guidelines", "acoem; mtus; odg; other"),
        ("items.0.drugs", "Menthol; capsaicin"),
        ("decision_date", "July 14, 2011"),
        ("patient.age", "58"),
        ("patient.sex", "Female"),
        ("diagnosis_codes", "M54.16; —"),
    ],
)
def test_what_the_editor_accepts_the_gold_record_takes(path, text):
    from imrgold.core.models import GoldRecord

    value = fields.parse(path, text)
    fields_ = {"items.0.request": ProposedField(value="Norco"), path: ProposedField(value=value)}
    if path == "diagnosis_codes":
        fields_["diagnoses"] = ProposedField(value=["a", "b"])
    record = Proposal(letter_id="0" * 64, fields=fields_).to_record()
    assert isinstance(record, GoldRecord)


def _has_diagnoses(draft: Draft) -> bool:
    return bool(draft.proposal.get("diagnoses").value)


_EDITS = [
    lambda d: d.set_value("case_number", "CM99-0000001"),
    lambda d: d.set_value("items.0.form", "cream", Span(start=1, end=3)),
    lambda d: _has_diagnoses(d) and d.set_element("diagnoses", 0, "lumbar strain"),
    lambda d: _has_diagnoses(d) and d.confirm("diagnoses", 0),
    lambda d: d.confirm_all(),
    lambda d: d.add_element("diagnoses", 0, "neck pain"),
    lambda d: _has_diagnoses(d) and d.remove_element("diagnoses", 0),
    lambda d: d.move_element("diagnoses", 0, 1),
    lambda d: d.add_item(0),
    lambda d: d.remove_item(0),
    lambda d: d.move_item(0, 1),
    lambda d: d.undo(),
    lambda d: d.redo(),
]


@given(st.lists(st.integers(0, len(_EDITS) - 1), max_size=25))
@example([8, 8, 9, 10])  # two blank items swapped: a move that changes nothing is no undo step
def test_undo_snapshots_equal_deep_copies_whatever_the_edits(steps):
    """The shallow undo snapshot (Draft._snapshot) holds exactly what a deep copy would: no edit
    changes a field in place, so every state undone to is the state that was."""
    draft = Draft(proposal())
    seen = [draft.proposal.model_copy(deep=True)]
    for step in steps:
        before = draft.proposal.model_copy(deep=True)
        changed = _EDITS[step](draft)
        if step < len(_EDITS) - 2 and changed is not False and draft.proposal != before:
            seen.append(draft.proposal.model_copy(deep=True))
        elif step >= len(_EDITS) - 2:
            seen = [draft.proposal.model_copy(deep=True)]  # undo/redo: start the record again
    # Walking back through every undo gives the recorded states, newest first.
    for state in reversed(seen[:-1]):
        assert draft.undo()
        assert draft.proposal == state
