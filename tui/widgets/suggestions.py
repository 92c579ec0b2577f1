"""Candidates under the editor while the annotator types: drugs (name, generic ingredients,
where it came from) in a drugs field, ICD-10-CM codes (code, official description, score) in a
diagnosis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from imrgold.core import icd10

if TYPE_CHECKING:
    from imrgold.core.lexicon import Candidate as DrugCandidate

Suggestion: TypeAlias = "DrugCandidate | icd10.Candidate"
"""A drug (`core.lexicon.Candidate`) in a drugs field, an ICD-10-CM code in a diagnosis."""

CLEAR_SCORE = 90.0
CLEAR_MARGIN = 5.0
"""A candidate is highlighted (so Enter takes it) only when it scores at least CLEAR_SCORE and
leads the next by CLEAR_MARGIN: a near-tie left highlighted is how a fast Enter records the
wrong drug.  Otherwise Down highlights the first and Enter keeps what was typed."""


def clearly_leads(scores: Sequence[float]) -> bool:
    return (
        bool(scores)
        and scores[0] >= CLEAR_SCORE
        and (len(scores) == 1 or scores[0] - scores[1] >= CLEAR_MARGIN)
    )


def _code_prompt(candidate: icd10.Candidate) -> Text:
    text = Text(f"{candidate.code:<8}", style="bold")
    text.append(f" {candidate.description}")
    text.append(f"  {candidate.score:.0f}", style="dim")
    return text


def _prompt(candidate: Suggestion) -> Text:
    if isinstance(candidate, icd10.Candidate):
        return _code_prompt(candidate)
    text = Text(candidate.name, style="bold")
    generics = candidate.generics
    if generics and [g.lower() for g in generics] != [candidate.name.lower()]:
        text.append(" → " + ", ".join(generics), style="green")
    origin = candidate.origin
    if origin:
        text.append(f"  {origin}", style="dim italic")
    return text


def ingredients(candidate: Suggestion) -> list[str]:
    """What accepting ``candidate`` puts into a drugs field: its generic ingredients, lower
    case; none for a product without a labeled drug ingredient (GOLD_CONVENTIONS.md: a medical
    food such as Theramine, or a product whose ingredients are not known, gets `drugs` [])."""
    if isinstance(candidate, icd10.Candidate):
        return []
    return [g.lower() for g in candidate.generics]


def nothing_added_note(candidate: DrugCandidate) -> str | None:
    """The status line's word when accepting ``candidate`` adds nothing to the drugs."""
    if ingredients(candidate):
        return None
    kind = (
        "a medical food"
        if "medical food" in (candidate.source or "").lower()
        else "without a known drug ingredient"
    )
    return f"{candidate.name} is {kind}: nothing added to drugs"


class Suggestions(OptionList):
    """Never focused: the editor keeps the keyboard, Up/Down move the highlight.

    It floats over the bottom of the field list, just above the editor (see annotate.tcss), and
    candidates only toggle its visibility: making room for it in the layout re-laid out the
    whole screen, twice, whenever the walk came to or left a drug or a diagnosis.  The field
    list keeps the row being edited clear of it.  Values come from the letter and the
    dictionaries: they are shown as `Text`, never as markup.
    """

    ROOM = 6
    """Lines it covers above the editor (annotate.tcss sets the same height)."""

    # Its size is fixed (annotate.tcss): a new list of candidates only changes how far it
    # scrolls.  As `Widget`'s layout reactive, filling or emptying it laid out the whole screen
    # and drew the letter anew on that key (tui/widgets/sizing.py says the same of the boxes).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Suggestion] = []
        # What the candidates answer (not `query`: that is every widget's DOM query).
        self.for_query = ""
        self.visible = False

    @property
    def shown(self) -> bool:
        return self.display and self.visible and bool(self.candidates)

    def show_candidates(self, candidates: Sequence[Suggestion], query: str = "") -> None:
        self.candidates, self.for_query = list(candidates), query
        self.clear_options()
        self.add_options([Option(_prompt(c)) for c in self.candidates])
        self.visible = bool(self.candidates)
        scores = [c.score for c in self.candidates]
        self.highlighted = 0 if clearly_leads(scores) else None

    def hide(self) -> None:
        if self.candidates:
            self.candidates, self.for_query = [], ""
            self.clear_options()
        self.visible = False

    def move(self, delta: int) -> None:
        if not self.candidates:
            return
        if self.highlighted is None:
            self.highlighted = 0 if delta > 0 else len(self.candidates) - 1
        else:
            self.highlighted = (self.highlighted + delta) % len(self.candidates)

    def chosen(self) -> Suggestion | None:
        """The highlighted candidate; None when none is (Enter then keeps the typed text)."""
        if not self.shown or self.highlighted is None:
            return None
        return self.candidates[self.highlighted]
