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


class DrugSuggestions(OptionList):
    """Never focused: the editor keeps the keyboard, alt+up/down move the highlight."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Any] = []
        self.display = False

    def show_candidates(self, candidates: Sequence[Any]) -> None:
        self.candidates = list(candidates)
        self.clear_options()
        self.add_options([Option(_prompt(c)) for c in self.candidates])
        self.display = bool(self.candidates)
        if self.candidates:
            self.highlighted = 0

    def hide(self) -> None:
        self.candidates = []
        self.clear_options()
        self.display = False

    def move(self, delta: int) -> None:
        if self.candidates:
            self.highlighted = ((self.highlighted or 0) + delta) % len(self.candidates)

    def chosen(self) -> Any | None:
        if not self.candidates or not self.display:
            return None
        return self.candidates[self.highlighted or 0]
