"""A letter made ready to show: read from the store, its draft copied, its text laid out.

Opening the next letter is the walk's most repeated wait. Everything about it that is not
drawing can be done before the key is pressed: the annotate screen prepares the letters the
next keys would open while the annotator works on this one, and shows a prepared letter at
once. A prepared letter carries the app's change count for it when it was read (`stamp`);
any save, gold mark or status change since makes it stale, and it is read again.
"""

from __future__ import annotations

from dataclasses import dataclass

from imrgold.core.models import Letter, Proposal
from imrgold.core.shown import ShownText, shown_text
from imrgold.tui.editing import Draft


@dataclass(frozen=True)
class Prepared:
    letter: Letter
    draft: Draft
    shown: ShownText
    restored: bool
    """What is shown is this annotator's draft, not the machine's proposal."""
    stamp: int
    """The app's change count for the letter when it was read."""
    clean: bool
    """Whether `shown` is the clean (reflowed) text or the raw one."""


def prepare(
    letter: Letter, proposal: Proposal, restored: bool, *, stamp: int, clean: bool
) -> Prepared:
    """Everything about showing a letter that needs no screen (safe in a worker thread)."""
    return Prepared(
        letter=letter,
        draft=Draft(proposal),
        shown=shown_text(letter.text, clean=clean),
        restored=restored,
        stamp=stamp,
        clean=clean,
    )
