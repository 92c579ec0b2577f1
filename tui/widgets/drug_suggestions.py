"""Drug candidates under the drugs editor: name, generic ingredients, where it came from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option


def _prompt(candidate: Any) -> Text:
    text = Text(str(candidate.name), style="bold")
    generics = list(getattr(candidate, "generics", []) or [])
    if generics and [g.lower() for g in generics] != [str(candidate.name).lower()]:
        text.append(" → " + ", ".join(generics), style="green")
    origin = getattr(candidate, "origin", "")
    if origin:
        text.append(f"  {origin}", style="dim italic")
    return text


def ingredients(candidate: Any) -> list[str]:
    """What accepting ``candidate`` puts into a drugs field: its generic ingredients, lower
    case; none for a product without a labeled drug ingredient (GOLD_CONVENTIONS.md: a medical
    food such as Theramine, or a product whose ingredients are not known, gets `drugs` [])."""
    return [str(g).lower() for g in getattr(candidate, "generics", None) or []]


def nothing_added_note(candidate: Any) -> str | None:
    """The status line's word when accepting ``candidate`` adds nothing to the drugs."""
    if ingredients(candidate):
        return None
    kind = (
        "a medical food"
        if "medical food" in str(getattr(candidate, "source", "")).lower()
        else "without a known drug ingredient"
    )
    return f"{candidate.name} is {kind}: nothing added to drugs"


class DrugSuggestions(OptionList):
    """Never focused: the editor keeps the keyboard, Up/Down move the highlight.

    Its room is reserved while a drugs field is edited (`reserve`) and candidates only toggle
    its visibility: re-laying out the screen on every keystroke would cost more than the search.
    """

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Any] = []
        # What the candidates answer (not `query`: that is every widget's DOM query).
        self.for_query = ""
        self.display = False
        self.visible = False

    @property
    def shown(self) -> bool:
        return self.display and self.visible and bool(self.candidates)

    def reserve(self, room: bool) -> None:
        if self.display != room:
            self.display = room
        if not room:
            self.hide()

    def show_candidates(self, candidates: Sequence[Any], query: str = "") -> None:
        self.candidates, self.for_query = list(candidates), query
        self.clear_options()
        self.add_options([Option(_prompt(c)) for c in self.candidates])
        self.visible = bool(self.candidates)
        if self.candidates:
            self.highlighted = 0

    def hide(self) -> None:
        if self.candidates:
            self.candidates, self.for_query = [], ""
            self.clear_options()
        self.visible = False

    def move(self, delta: int) -> None:
        if self.candidates:
            self.highlighted = ((self.highlighted or 0) + delta) % len(self.candidates)

    def chosen(self) -> Any | None:
        if not self.shown:
            return None
        return self.candidates[self.highlighted or 0]
