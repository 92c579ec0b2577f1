"""Merging another annotator's store: every gold version kept, by name."""

from __future__ import annotations

from dataclasses import dataclass, field

from imrgold.store.qa.adjudication import versions_differ

IMPORTED_KEY = "qa.imported_versions"
"""(letter, annotator) pairs whose gold version came from another store: not work done here,
so `stats` leaves them out of letters per hour."""


def imported_versions(store) -> set[tuple[str, str]]:
    """The (letter, annotator) pairs of ``store`` marked as imported (`IMPORTED_KEY`)."""
    return {(lid, name) for lid, name in store.meta(IMPORTED_KEY, [])}


@dataclass
class MergeReport:
    selected: int = 0  # letters the other store holds
    letters_added: int = 0
    proposals_added: int = 0  # to letters an interrupted merge had added without one
    versions_added: int = 0
    versions_same: int = 0
    # (letter_id, annotator, new name) when both stores had that name
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    finals_added: int = 0
    to_adjudication: list[str] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)


def _needs_adjudication(store, letter_id: str) -> bool:
    versions = store.gold_versions(letter_id)
    final = store.get_gold(letter_id) if store.final_annotator(letter_id) else None
    if final is not None:
        return any(r != final for r in versions.values())
    return len(versions) > 1 and versions_differ(versions)


def merge(target, other, *, source: str = "other") -> MergeReport:
    """Bring ``other``'s letters and gold versions into ``target``.

    Every annotator's version is kept. A letter whose versions now differ (or differ from its
    final record) goes to ``adjudication``; one whose versions all agree keeps its status.
    Same annotator name with a different record in each store: the incoming one is kept as
    ``name@source`` rather than overwriting work.
    """
    # One sync at the end instead of one per version: a merge is a bulk write. An interrupted
    # merge is finished by running it again (versions already present are skipped, and a letter
    # left with differing versions outside adjudication is sent there).
    with target.batch():
        return _Merge(target, other, source).run()


class _Merge:
    """One merge of ``other`` into ``target``, letter by letter, counted in ``report``."""

    def __init__(self, target, other, source: str) -> None:
        self.target, self.other, self.source = target, other, source
        self.report = MergeReport()
        self.imported = imported_versions(target)

    def run(self) -> MergeReport:
        for summary in self.other.summaries():
            self.report.selected += 1
            self.letter(summary.letter_id)
        if self.report.versions_added:
            self.target.set_meta(IMPORTED_KEY, sorted(list(x) for x in self.imported))
        return self.report

    def letter(self, lid: str) -> None:
        theirs = self.other.gold_versions(lid)
        their_times = self.other.gold_times(lid) if theirs else {}
        self.bring_letter(lid)
        if not theirs:
            return
        old_status = self.target.status(lid)
        added = self.bring_versions(lid, theirs, their_times)
        if self.bring_final(lid) or added:
            self.settle(lid, old_status)
        else:
            self.resettle(lid)

    def bring_letter(self, lid: str) -> None:
        target, other = self.target, self.other
        if not target.has_letter(lid):
            # Letter and proposal in one operation: a merge killed between them cannot leave a
            # letter without its proposal.
            target.add_letter(other.get_letter(lid), other.get_proposal(lid))
            self.report.letters_added += 1
        elif target.get_proposal(lid) is None and (proposal := other.get_proposal(lid)):
            # A letter an older, interrupted merge added without its proposal: completed now.
            target.put_proposal(proposal)
            self.report.proposals_added += 1

    def bring_versions(self, lid: str, theirs: dict, their_times: dict) -> bool:
        """Their gold versions the target lacks, added; whether there was any."""
        ours = self.target.gold_versions(lid)
        added = False
        for annotator, record in theirs.items():
            name = self.name_for(lid, annotator, record, ours)
            if name is None:
                self.report.versions_same += 1
                continue
            self.target.put_gold(record, name, their_times.get(annotator))
            self.imported.add((lid, name))
            self.report.versions_added += 1
            added = True
        return added

    def name_for(self, lid: str, annotator: str, record, ours: dict) -> str | None:
        """The name ``annotator``'s incoming version is kept under; None when the target has
        it already."""
        if annotator not in ours:
            return annotator
        if ours[annotator] == record:
            return None
        name = f"{annotator}@{self.source}"
        self.report.renamed.append((lid, annotator, name))
        return None if ours.get(name) == record else name

    def bring_final(self, lid: str) -> bool:
        their_final = self.other.final_annotator(lid)
        if not their_final or self.target.final_annotator(lid):
            return False
        self.target.set_final(lid, self.other.get_gold(lid), their_final)
        self.report.finals_added += 1
        return True

    def settle(self, lid: str, old_status: str) -> None:
        """The status of a letter this merge added to: adjudication if its versions now
        differ, else the status it had (gold at least, reviewed with a final record)."""
        target = self.target
        if _needs_adjudication(target, lid):
            names = ", ".join(target.gold_versions(lid))
            target.set_status(
                lid, "adjudication", f"merged from {self.source}: versions of {names} differ"
            )
            self.report.to_adjudication.append(lid)
            return
        keep = old_status if old_status not in ("new", "in_progress") else "gold"
        if target.final_annotator(lid) and keep == "gold":
            keep = "reviewed"
        target.set_status(lid, keep, f"merged from {self.source}: versions agree")
        self.report.agreed.append(lid)

    def resettle(self, lid: str) -> None:
        """A letter this merge added nothing to, sent to adjudication if an interrupted merge
        left its versions differing outside it."""
        target = self.target
        unsettled = not target.final_annotator(lid) and target.status(lid) != "adjudication"
        if unsettled and _needs_adjudication(target, lid):
            target.set_status(lid, "adjudication", f"merged from {self.source}: versions differ")
            self.report.to_adjudication.append(lid)
