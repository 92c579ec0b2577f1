"""What the interface needs of the store and of the drug lexicon, stated once.

The apps take any object with these methods: the real `imrgold.store.Store` and
`imrgold.core.lexicon.Lexicon`, or a test's stand-in (a lexicon answering from a fixed table, a
store that holds a read back).  The type checker holds every call in `tui/` to these
signatures, and `_conforms` below holds the real classes to them; `tests/test_seams.py` checks
the same at run time, parameter by parameter.

A method the interface does not call is left out: a Protocol is the interface's view of the
store, not a second statement of the store.  `store.qa` and `store.dashboard` take the store
itself and are handed the app's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from imrgold.core.models import GoldRecord, Letter, LetterStatus, LetterSummary, Proposal

if TYPE_CHECKING:
    from imrgold.core.lexicon import Candidate, Lexicon
    from imrgold.store import Store


@runtime_checkable
class StoreLike(Protocol):
    """The store as the annotate and review apps read and write it."""

    @property
    def read_only(self) -> bool: ...

    def summaries(self) -> list[LetterSummary]: ...

    def summary(self, letter_id: str) -> LetterSummary: ...

    def get_letter(self, letter_id: str) -> Letter: ...

    def get_proposal(self, letter_id: str) -> Proposal | None: ...

    def get_draft(self, letter_id: str, annotator: str | None = None) -> Proposal | None: ...

    def save_draft(self, proposal: Proposal) -> None: ...

    def drop_edits(self, letter_id: str) -> Proposal | None: ...

    def mark_gold(self, proposal: Proposal) -> GoldRecord: ...

    def get_gold(self, letter_id: str, annotator: str | None = None) -> GoldRecord | None: ...

    def gold_versions(self, letter_id: str) -> dict[str, GoldRecord]: ...

    def set_status(
        self, letter_id: str, status: LetterStatus, comment: str | None = None
    ) -> None: ...


@runtime_checkable
class LexiconLike(Protocol):
    """The drug lexicon as the annotate app asks it (from thread workers)."""

    def suggest(
        self, query: str, letter_text: str | None = None, limit: int = 10
    ) -> list[Candidate]: ...

    def read_drugs(self, text: str) -> tuple[list[str], list[str]]: ...

    def learn(self, alias: str, name: str) -> None: ...

    def learn_from_items(
        self, items: Iterable[tuple[str, Iterable[str]]], letter_text: str | None = None
    ) -> list[tuple[str, list[str]]]: ...


if TYPE_CHECKING:

    def _conforms(store: Store, lexicon: Lexicon) -> tuple[StoreLike, LexiconLike]:
        """Never called: the type checker fails here when the real classes leave a Protocol."""
        return store, lexicon
