"""`imrgold stats`: where the work stands, who did it how fast, and how good the machine is."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from imrgold.cli.common import UserError, db_path, existing_store

if TYPE_CHECKING:
    from imrgold.core.models import LetterSummary
    from imrgold.core.progress import Progress
    from imrgold.store.qa.stats import Stats

NAME = "stats"
HELP = (
    "counts by status and annotator, letters per hour, the pace and time left, "
    "machine accuracy against gold over time"
)
EXAMPLES = """examples:
  imrgold stats
  imrgold stats --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON instead of tables, with the figures of the app's dashboard under "
        '"dashboard"',
    )
    parser.add_argument(
        "--period",
        choices=("day", "week", "month"),
        default="week",
        help="time bucket for the machine's accuracy (by when each letter became gold)",
    )
    parser.add_argument(
        "--idle",
        type=int,
        default=30,
        metavar="MINUTES",
        help="a pause longer than this between two edits is a break, not work (default 30)",
    )


def run(args: argparse.Namespace) -> int:
    from imrgold.core.progress import progress_text
    from imrgold.store import Store
    from imrgold.store.qa.stats import gather_stats

    path = existing_store(db_path(args.db))
    if args.idle <= 0:
        raise UserError("--idle must be a positive number of minutes")
    from imrgold.store.dashboard import stats_and_dashboard
    from imrgold.store.storage import paused_gc

    # What is read makes no reference cycle: the collector would only rescan it.
    with paused_gc(freeze=True), Store.open(path, read_only=True) as store:
        figures = None
        if args.json:
            # The figures the app's dashboard draws (its key in the queue), in stats' own pass.
            stats, figures = stats_and_dashboard(store, period=args.period, idle_minutes=args.idle)
        else:
            stats = gather_stats(store, period=args.period, idle_minutes=args.idle)
        pace = _progress(store.summaries(), args.idle)
    if figures is not None:
        out = {**stats.to_dict(), "progress": pace.to_dict(), "dashboard": figures.to_dict()}
        print(json.dumps(out, indent=1))
    else:
        _print(stats)
        print(f"progress: {progress_text(pace)}")
    return 0


def _progress(summaries: Sequence[LetterSummary], idle: int) -> Progress:
    """Letters done today and in the last stretch of work, the pace, and the time left."""
    import datetime as dt

    from imrgold.core.progress import progress
    from imrgold.core.queue import is_gold

    return progress(
        (s.gold_at for s in summaries if s.gold_at is not None),
        left=sum(1 for s in summaries if not is_gold(s)),
        now=dt.datetime.now().astimezone(),
        brk=dt.timedelta(minutes=idle),
    )


def _print(stats: Stats) -> None:
    from rich.console import Console
    from rich.table import Table

    from imrgold.core.agreement import FIELD_KEYS

    console = Console(highlight=False)
    who = sorted({a for c in stats.by_status_annotator.values() for a in c})
    table = Table(title="letters by status", caption="by the last annotator to touch each letter")
    table.add_column("status")
    table.add_column("letters", justify="right")
    for name in who:
        table.add_column(name, justify="right")
    for status, n in sorted(stats.by_status.items()):
        counts = stats.by_status_annotator.get(status, {})
        table.add_row(status, str(n), *(str(counts.get(a, "")) for a in who))
    console.print(table)

    table = Table(
        title="by annotator",
        caption="gold: versions marked gold; final: records they reviewed or adjudicated; "
        "letters, hours, per hour: work done in this store (merged versions left out)",
    )
    for name in ("annotator", "gold", "final", "changes", "letters", "hours", "per hour"):
        table.add_column(name, justify="left" if name == "annotator" else "right")
    for annotator in sorted(set(stats.by_annotator) | set(stats.rates)):
        counts = stats.by_annotator.get(annotator, {})
        rate = stats.rates.get(annotator, {})
        per_hour = rate.get("per_hour")
        table.add_row(
            annotator,
            str(counts.get("gold", 0)),
            str(counts.get("final", 0)),
            str(counts.get("changes", 0)),
            str(rate.get("letters", 0)),
            f"{rate.get('hours', 0):.2f}",
            "-" if per_hour is None else f"{per_hour:.1f}",
        )
    console.print(table)

    if not stats.accuracy:
        console.print("no gold letter with a machine proposal yet: no machine accuracy")
        return
    periods = list(stats.accuracy)[-8:]
    table = Table(title="machine accuracy against gold (share of fields exactly right)")
    table.add_column("field")
    for period in periods:
        table.add_column(period, justify="right")
    for key in FIELD_KEYS:
        cells = []
        for period in periods:
            correct, total = stats.accuracy[period][key]
            cells.append(f"{correct / total:.0%} ({total})" if total else "-")
        if any(c != "-" for c in cells):
            table.add_row(key, *cells)
    console.print(table)
