"""Review: a second person confirms or corrects each field of someone else's gold record."""

from __future__ import annotations

from dataclasses import dataclass

from imrgold.core.models import GoldRecord, flatten, unflatten
from imrgold.store.qa.sampling import sample_ids

REVIEWABLE = ("gold", "in_review")


@dataclass
class ReviewSession:
    """One letter under review: the reviewer's verdict on every field path."""

    letter_id: str
    annotator: str
    reviewer: str
    original: dict
    values: dict
    verdicts: dict

    @classmethod
    def start(cls, record: GoldRecord, annotator: str, reviewer: str) -> ReviewSession:
        flat = flatten(record)
        return cls(record.letter_id, annotator, reviewer, flat, dict(flat), {})

    @property
    def paths(self) -> list[str]:
        return list(self.original)

    def confirm(self, path: str) -> None:
        self.values[path] = self.original[path]
        self.verdicts[path] = "confirmed"

    def correct(self, path: str, value) -> None:
        """The reviewer's value; the same as the annotator's counts as a confirmation."""
        if value == self.original[path]:
            self.confirm(path)
            return
        self.values[path] = value
        self.verdicts[path] = "corrected"

    def pending(self) -> list[str]:
        return [p for p in self.paths if p not in self.verdicts]

    @property
    def corrections(self) -> list[str]:
        return [p for p, v in self.verdicts.items() if v == "corrected"]

    def record(self) -> GoldRecord:
        return unflatten(self.letter_id, self.values)


def reviewable(store, reviewer: str, *, share: float | None = None, seed: int | None = None):
    """``[(letter_id, annotator)]``: gold records made by someone other than ``reviewer`` that
    nobody has reviewed yet, sampled reproducibly when ``share`` is given."""
    found: dict[str, str] = {}
    for summary in store.summaries():
        if summary.status not in REVIEWABLE:
            continue
        versions = store.gold_versions(summary.letter_id)
        others = sorted(a for a in versions if a and a != reviewer)
        if others:
            found[summary.letter_id] = others[0]
    return [(lid, found[lid]) for lid in sample_ids(found, share, seed)]


def finish_review(store, session: ReviewSession) -> str:
    """Record the review; returns the letter's new status.

    All confirmed: the annotator's record becomes final and the letter ``reviewed``. Anything
    corrected: the reviewer's version is kept beside the annotator's and the letter goes to
    ``adjudication``, where someone chooses field by field.
    """
    if session.pending():
        raise ValueError(f"{len(session.pending())} field(s) not reviewed yet")
    if not session.corrections:
        record = store.get_gold(session.letter_id, annotator=session.annotator)
        store.set_final(session.letter_id, record, session.reviewer)
        store.set_status(session.letter_id, "reviewed", f"reviewed by {session.reviewer}")
        return "reviewed"
    store.put_gold(session.record(), session.reviewer)
    fields = ", ".join(session.corrections[:5]) + ("..." if len(session.corrections) > 5 else "")
    store.set_status(
        session.letter_id,
        "adjudication",
        f"{session.reviewer} corrected {len(session.corrections)} field(s) of "
        f"{session.annotator}'s record: {fields}",
    )
    return "adjudication"
