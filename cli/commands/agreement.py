"""`imrgold agreement`: how far annotators agree with each other and the machine with gold."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from imrgold.cli.common import db_path, existing_store, jobs_for

if TYPE_CHECKING:
    from imrgold.core.agreement import Comparison, Flat
    from imrgold.core.machine_cache import ProposalCache
    from imrgold.store import Store

NAME = "agreement"
HELP = (
    "per-field agreement between annotators (kappa, alpha, Gwet's AC1, exact, F1) and machine "
    "vs gold"
)
EXAMPLES = """examples:
  imrgold agreement
  imrgold agreement --json > agreement.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument(
        "--machine",
        choices=("current", "stored", "none"),
        default="current",
        help="machine side of machine-vs-gold: the extractor run now (current), the proposal "
        "stored at ingest (stored), or leave it out (none)",
    )
    parser.add_argument(
        "--all-fields",
        action="store_true",
        help="show every field in the tables, not only those with values to compare",
    )


def _letters(store: Store) -> Iterator[tuple[str, Mapping[str, Flat], Flat | None]]:
    """Each letter with gold versions, in queue order: its id, its versions' flat maps by
    annotator and its settled gold record's (None while it waits for adjudication)."""
    for summary in store.summaries():
        lid = summary.letter_id
        gold, flats, final_by = store.gold_flats(lid)
        if gold is None or not flats:  # with versions there is always a gold record
            continue
        settled = not (summary.status == "adjudication" and not final_by)
        yield lid, flats, gold if settled else None


def gather(
    store: Store, machine: str, current: CurrentMachine | None = None
) -> Iterator[tuple[Mapping[str, Flat], Flat | None, Flat | None]]:
    """Each letter with gold versions, in queue order, one at a time: ``(versions, gold,
    machine)``, its versions' flat maps by annotator, and its settled gold record's and the
    machine's flat maps (None when there is none to score). The current machine's values come
    from ``current``."""
    from imrgold.core.models import flat_values

    if machine == "current" and current is None:
        raise ValueError("the current machine's values come from a CurrentMachine")
    for lid, flats, gold in _letters(store):
        if gold is None:
            yield flats, None, None  # no settled gold to score the machine against yet
            continue
        theirs = None
        if machine == "stored":
            values = store.proposal_values(lid)
            theirs = None if values is None else flat_values(values)
        elif machine == "current" and current is not None:
            theirs = flat_values(current.values(lid))
        yield flats, gold, theirs


class CurrentMachine:
    """What the extractor as it is now proposes, letter by letter: a letter's stored proposal
    when the same extractor made it (stamped at ingest), else the proposal cache's, extracted
    ahead in parallel (`prefetch`) or, on a miss, when asked."""

    def __init__(self, store: Store, proposals: ProposalCache) -> None:
        self.store, self.proposals = store, proposals
        # Text digests of the letters `prefetch` read: their texts need no second reading.
        self.digests: dict[str, str] = {}

    def prefetch(self) -> int:
        """Extracts, in one process a CPU when there are many, the letters the run will score
        whose proposal another extractor made and that the cache lacks; returns how many.

        A store is ingested by one version at a time: when its first scored letter's proposal
        is the current extractor's, the others are taken to be too, and no pass looks for stale
        ones (it would cost as much as the run).  One that is not is extracted when `values`
        is asked for it: this only decides what is extracted ahead, in parallel."""
        from imrgold.core.machine_cache import text_digest

        store, proposals = self.store, self.proposals
        scored = ((lid, gold) for lid, _, gold in _letters(store) if gold is not None)
        first = next(scored, None)
        if first is None or store.proposal_extractor(first[0]) == proposals.fingerprint:
            return 0
        for lid, _ in itertools.chain([first], scored):
            if store.proposal_extractor(lid) != proposals.fingerprint:
                self.digests[lid] = text_digest(store.get_letter(lid).text)
        missing = [lid for lid, digest in self.digests.items() if not proposals.holds(digest)]
        jobs = jobs_for(None, len(missing))
        texts = ((self.digests[lid], store.get_letter(lid).text, lid) for lid in missing)
        proposals.prefetch(texts, jobs=jobs)
        return len(missing)

    def values(self, letter_id: str) -> dict[str, Any]:
        store, proposals = self.store, self.proposals
        if store.proposal_extractor(letter_id) == proposals.fingerprint:
            values = store.proposal_values(letter_id)
            if values is not None:
                return values
        digest = self.digests.get(letter_id)
        if digest is not None and (kept := proposals.kept(digest)) is not None:
            return kept
        return proposals.values(store.get_letter(letter_id).text, letter_id)


def report_of(store: Store, machine: str) -> list[Comparison]:
    """`core.agreement.agreement_report` of the store, streamed: the annotators are read from
    the gold shards first, then each letter is compared and dropped, so memory stays flat
    however many letters there are."""
    from imrgold.core.agreement import AgreementBuilder
    from imrgold.core.machine_cache import ProposalCache

    raters = {a for lid in store.letter_ids() for a in store.gold_annotators(lid)}
    builder = AgreementBuilder(raters)
    # Extracted once a letter text and extractor, not on every run.
    with ProposalCache() if machine == "current" else contextlib.nullcontext() as proposals:
        current = None if proposals is None else CurrentMachine(store, proposals)
        if current is not None:
            current.prefetch()
        for versions, gold, theirs in gather(store, machine, current):
            builder.add_letter(versions)
            if gold is not None and theirs is not None:
                builder.add_machine(gold, theirs)
        if proposals is not None:
            proposals.save()
    return builder.report()


def run(args: argparse.Namespace) -> int:
    path = existing_store(db_path(args.db))
    from imrgold.store import Store
    from imrgold.store.storage import paused_gc

    # Nothing read makes a reference cycle: the collector would only rescan the shards.
    with paused_gc(freeze=True), Store.open(path, read_only=True) as store:
        report = report_of(store, args.machine)
    if args.json:
        print(json.dumps([c.to_dict() for c in report], indent=1))
        return 0
    _print_tables(report, args.all_fields)
    return 0


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_tables(report: list[Comparison], all_fields: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not report:
        console.print(
            "nothing to compare: no letter has two gold versions, nor gold to score "
            "the machine against"
        )
        return
    for comparison in report:
        table = Table(title=f"{comparison.name} ({comparison.letters} letter(s))")
        table.add_column("field")
        table.add_column("kind")
        table.add_column("n", justify="right")
        table.add_column("exact", justify="right")
        coefficient = "alpha" if comparison.b is None else "kappa"
        table.add_column(coefficient, justify="right")
        table.add_column("AC1", justify="right")
        table.add_column("F1", justify="right")
        for f in comparison.fields:
            if not all_fields and not f.n:
                continue
            value = f.alpha if comparison.b is None else f.kappa
            table.add_row(
                f.field, f.kind, str(f.n), _fmt(f.exact), _fmt(value), _fmt(f.ac1), _fmt(f.f1)
            )
        console.print(table)
