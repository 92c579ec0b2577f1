"""The extractor's rule strengths, named: how sure each rule is of the value it read.

Every field the extractor proposes carries the strength of the rule that read it.  The strengths
are grouped by the kind of evidence, each group a band of the scale (checked by
``bench/extract.py`` on letters with OCR slips):

- `READ`, 0.95 and above: a labelled cell or an explicit statement;
- `CLEAR`, 0.8 to 0.95: a general rule on a clear layout;
- `FALLBACK`, 0.5 to 0.8: pronouns, prose lists, context;
- `DOUBT`, below 0.5: the letter said something the rules could not read (an unknown state or
  drug, an age-like phrase, a diagnosis statement without a parsable list);
- `ABSENT`: no value, scored by how sure the rules are that there is none.

The numbers are keys, not just levels: `core.calibration` maps each (field, strength) to how
often fields proposed with it were right on real letters with gold (`core/data/calibration.json`,
which ``tests/test_calibration.py`` checks equals a fresh fit).  A changed number therefore needs
the table fitted again (``scripts/make_calibration.py``); two rules sharing a number share a
calibration cell for the same field.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Read:
    """A labelled cell or an explicit statement (0.95 and above)."""

    cell_on_label_line: float = 0.98
    """A header value on its label's own line ("Case Number: CM16-0231706")."""
    sex_word_by_age: float = 0.97
    """The sex word right after the patient's age ("a 45-year-old male")."""
    age_opening_summary: float = 0.95
    """The age in the summary's first sentences (further in, it may be someone else's)."""
    drug_with_dose: float = 0.95
    """A drug the lexicon knows, with a dose or form: a medication."""


@dataclass(frozen=True, slots=True)
class Clear:
    """A general rule on a clear layout (0.8 to 0.95)."""

    cell_by_kind: float = 0.93
    """A header value in a block of values, paired with the oldest waiting label of its kind."""
    bounded_rationale: float = 0.92
    """An item's rationale, ending where the next item starts."""
    labelled_lines: float = 0.9
    """The reviewer's "State of Licensure:" and "Certification/Specialty:" lines."""
    labelled_item: float = 0.9
    """An item under a labelled heading ("Issue at dispute"): its request and decision."""
    guidelines_read: float = 0.9
    """Every clause of the guideline paragraph that cites something was read."""
    board_sentence: float = 0.85
    """The reviewer's "Board Certified in X ... licensed to practice in Y" sentence."""
    named_injury_date: float = 0.85
    """A date after a cue that names it ("date of injury", "DOI")."""
    last_rationale: float = 0.85
    """The last item's rationale: it runs to the end of the letter, footers and all."""
    request_detail: float = 0.85
    """A strength, form, amount, quantity, route or frequency read from a medication request."""
    resolved_drugs: float = 0.85
    """A medication's drugs, resolved by the lexicon."""
    keyword_category: float = 0.85
    """A category from the request's own words, no drug named."""
    known_drug: float = 0.85
    """A drug the lexicon knows, without dose or form: a medication."""
    listed_diagnoses: float = 0.8
    """Diagnoses from a block after "Diagnoses:" (dash entries or numbered lines)."""
    sex_word: float = 0.8
    """A sex word away from the age, not against the pronouns."""
    pronouns: float = 0.8
    """Three or more pronouns, all of one sex."""


@dataclass(frozen=True, slots=True)
class Fallback:
    """A fallback: pronouns, prose lists, context (0.5 to 0.8)."""

    site_procedure: float = 0.75
    """Something injected at a body site: a procedure even when a drug is named."""
    dose_only: float = 0.75
    """A dose in the request and no drug the lexicon knows: a medication."""
    short_prose_diagnoses: float = 0.75
    """Up to three diagnoses from one sentence of prose."""
    joined_strength: float = 0.75
    """A compound's strengths joined ("10%/6%"), a percentage among them."""
    later_age: float = 0.7
    """An age further into the summary."""
    injury_event_date: float = 0.7
    """A date after a cue that names the event ("injured on", "claim from")."""
    few_pronouns: float = 0.65
    """One or two pronouns, all of one sex."""
    prose_diagnoses: float = 0.6
    """Diagnoses from prose: more than three, or from several statements."""
    rationale_diagnoses: float = 0.6
    """Diagnoses a decision rationale states of the patient, the summary stating none."""
    injected_drug: float = 0.6
    """A drug named in a procedure or service ("Toradol injection"): a medication."""
    medication_words: float = 0.6
    """A form or a medication word ("compound", "refills") and no drug the lexicon knows."""
    guidelines_partly_read: float = 0.6
    """Families read, but some clause cites what no rule recognized."""
    category_against_drug: float = 0.55
    """A category from the request's words while the lexicon also finds a drug."""
    sex_word_against_pronouns: float = 0.5
    """A sex word away from the age, against most of the pronouns."""
    unlabelled_item: float = 0.5
    """An item found without a labelled heading: its request and decision."""
    drugs_outside_medication: float = 0.5
    """No drugs for a category other than medication, though the lexicon found some."""


@dataclass(frozen=True, slots=True)
class Doubt:
    """The letter said something the rules could not read (below 0.5)."""

    medication_context: float = 0.45
    """A medication only by the item's guideline paragraph and rationale."""
    unknown_state: float = 0.35
    """A licensure statement that names no known state, or something besides them."""
    unknown_drug: float = 0.35
    """A medication whose drugs the lexicon cannot resolve."""
    other_by_default: float = 0.3
    """A request no rule places: "other"."""
    unparsed_date: float = 0.2
    """A header date cell whose date does not parse."""
    lexicon_failed: float = 0.1
    """The drug lexicon could not be asked."""


@dataclass(frozen=True, slots=True)
class Absent:
    """No value, by how sure the rules are that the letter gives none."""

    unmentioned: float = 0.9
    """Nothing the field could come from: no header at all (a known layout), or a summary that
    never says "diagnosis"."""
    by_rule: float = 0.85
    """Looked for where it would be and not there: no age or age-like phrase, a detail the
    request does not give, no drugs for what is not a medication."""
    no_sex_cue: float = 0.8
    """No sex word and no pronoun in the summary."""
    unread_numbers: float = 0.55
    """A detail not found in a medication request with numbers no detail accounts for."""
    missing_cell: float = 0.5
    """A header without this cell."""
    mixed_pronouns: float = 0.5
    """Pronouns of both sexes and no sex word."""
    no_family: float = 0.5
    """A guideline paragraph citing no family the rules know."""
    age_like_phrase: float = 0.4
    """No age read, but something like one ("40-ycar-old", "years")."""
    unparsed_diagnoses: float = 0.4
    """The summary speaks of a diagnosis but no statement of them was read."""
    no_injury_date: float = 0.4
    """No date of injury in the header or the prose."""
    no_text: float = 0.3
    """No text to read it from: no reviewer statement, no guideline paragraph or rationale, no
    rule proposing the field."""
    empty_paragraph: float = 0.2
    """A guideline paragraph with nothing in it."""
    no_request: float = 0.0
    """An item heading with no request: nothing to place."""


READ = Read()
CLEAR = Clear()
FALLBACK = Fallback()
DOUBT = Doubt()
ABSENT = Absent()

WHOLE_HEADING = 0.07
"""Added to an item's strength when its heading is the request and nothing else (not a partial
certification, not wrapped over lines); the decision, read from its own cue, always gets it."""
PARTIAL_HEADING = -0.05
"""Added when the request is the tail of a partial certification ("the original request, Z")."""
