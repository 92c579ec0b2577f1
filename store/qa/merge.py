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
        return _merge(target, other, source)


def _merge(target, other, source: str) -> MergeReport:
    report = MergeReport()
    imported = imported_versions(target)
    for summary in other.summaries():
        report.selected += 1
        lid = summary.letter_id
        theirs = other.gold_versions(lid)
        their_times = other.gold_times(lid) if theirs else {}
        if not target.has_letter(lid):
            # Letter and proposal in one operation: a merge killed between them cannot leave a
            # letter without its proposal.
            target.add_letter(other.get_letter(lid), other.get_proposal(lid))
            report.letters_added += 1
        elif target.get_proposal(lid) is None and (proposal := other.get_proposal(lid)):
            # A letter an older, interrupted merge added without its proposal: completed now.
            target.put_proposal(proposal)
            report.proposals_added += 1
        if not theirs:
            continue
        old_status = target.status(lid)
        ours = target.gold_versions(lid)
        added = False
        for annotator, record in theirs.items():
            name = annotator
            if annotator in ours:
                if ours[annotator] == record:
                    report.versions_same += 1
                    continue
                name = f"{annotator}@{source}"
                report.renamed.append((lid, annotator, name))
                if ours.get(name) == record:
                    report.versions_same += 1
                    continue
            target.put_gold(record, name, their_times.get(annotator))
            imported.add((lid, name))
            report.versions_added += 1
            added = True
        their_final = other.final_annotator(lid)
        if their_final and not target.final_annotator(lid):
            target.set_final(lid, other.get_gold(lid), their_final)
            report.finals_added += 1
            added = True
        if not added:
            unsettled = not target.final_annotator(lid) and target.status(lid) != "adjudication"
            if unsettled and _needs_adjudication(target, lid):
                target.set_status(lid, "adjudication", f"merged from {source}: versions differ")
                report.to_adjudication.append(lid)
            continue
        if _needs_adjudication(target, lid):
            target.set_status(
                lid,
                "adjudication",
                f"merged from {source}: versions of {', '.join(target.gold_versions(lid))} differ",
            )
            report.to_adjudication.append(lid)
        else:
            keep = old_status if old_status not in ("new", "in_progress") else "gold"
            if target.final_annotator(lid) and keep == "gold":
                keep = "reviewed"
            target.set_status(lid, keep, f"merged from {source}: versions agree")
            report.agreed.append(lid)
    if report.versions_added:
        target.set_meta(IMPORTED_KEY, sorted(list(x) for x in imported))
    return report
