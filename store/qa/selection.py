"""The records an export writes, chosen from a store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from imrgold.core.models import GoldRecord, Proposal


@dataclass(frozen=True)
class ExportEntry:
    letter_id: str
    record: GoldRecord
    status: str
    annotator: str | None = None
    """Whose record it is (`exported_annotator`)."""


def export_records(
    store,
    *,
    statuses: Iterable[str] | None = None,
    annotator: str | None = None,
    whose: bool = False,
    missing: list[str] | None = None,
) -> Iterator[ExportEntry]:
    """The records an export writes, in the store's queue order, one at a time.

    Without ``annotator`` each letter contributes its final record (the adjudicated one when there
    is one, else its latest version), and letters still waiting for adjudication are left out
    unless ``statuses`` asks for them: their record is not settled yet. With ``annotator``, that
    annotator's own version of every letter they did, whatever its status.  A gold record the
    store has lost raises `StoreDamaged`, or with a ``missing`` list is named there.
    ``whose`` says whose record it is (`exported_annotator`): the spans formats read the
    proposal they are labelled from with it (`proposal_for`).
    """
    wanted = set(statuses or ())

    def keep(status: str) -> bool:
        if wanted:
            return status in wanted
        return annotator is not None or status != "adjudication"

    for status, record in store.gold_entries(keep, annotator, missing):
        lid = record.letter_id
        who = exported_annotator(store, lid, annotator) if whose else None
        yield ExportEntry(lid, record, status, who)


def exported_annotator(store, letter_id: str, annotator: str | None = None) -> str | None:
    """Whose record of a letter is exported: ``annotator``, else the final record's, else the
    last to work on it."""
    return annotator or store.final_annotator(letter_id) or store.summary(letter_id).annotator


def proposal_for(store, letter_id: str, who: str | None) -> Proposal | None:
    """The proposal a letter's exported spans are labelled from: the working copy of the
    annotator whose record is exported (`exported_annotator`), else the machine's."""
    proposal = store.get_draft(letter_id, annotator=who) if who else None
    return proposal or store.get_proposal(letter_id)


def awaiting_adjudication(store) -> int:
    return sum(1 for s in store.summaries() if s.status == "adjudication")
