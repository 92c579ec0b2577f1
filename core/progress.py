"""Where the annotator's work stands: how many corrections a letter is likely to need, and the
pace of the work so far.  Pure functions over a proposal and over the times letters were marked
gold; the store keeps the times, the queue and `imrgold stats` show the figures."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from imrgold.core.calibration import calibrated
from imrgold.core.models import Proposal

BREAK = dt.timedelta(minutes=30)
"""Two letters marked gold further apart than this have a break between them, not work."""


def expected_corrections(proposal: Proposal) -> float:
    """Sum over the letter's fields of 1 - confidence: how many fields the annotator can expect
    to correct if the confidences are calibrated.  A field a person has already checked (or
    every element of a list checked element by element) is settled and counts 0.  A proposal
    stored before calibration is calibrated first (its raw rule strengths mean less)."""
    proposal = calibrated(proposal)
    total = 0.0
    for path in proposal.paths():
        field = proposal.get(path)
        if field.elements:
            unchecked = any(s == "machine" for s in field.elements)
        else:
            unchecked = field.state == "machine"
        if unchecked:
            total += 1.0 - field.confidence
    return round(total, 3)


@dataclass(frozen=True)
class Progress:
    done_today: int
    done_session: int
    median_minutes: float | None
    """Median minutes between two letters marked gold one after the other (breaks left out);
    None until two letters were marked in one stretch of work."""
    left: int
    time_left: dt.timedelta | None
    """``left`` letters at the median pace; None without a pace."""

    def to_dict(self) -> dict[str, object]:
        return {
            "done_today": self.done_today,
            "done_session": self.done_session,
            "median_minutes": self.median_minutes,
            "left": self.left,
            "minutes_left": None
            if self.time_left is None
            else round(self.time_left.total_seconds() / 60, 1),
        }


def progress(
    gold_times: Iterable[dt.datetime],
    left: int,
    now: dt.datetime,
    session_start: dt.datetime | None = None,
    brk: dt.timedelta = BREAK,
) -> Progress:
    """The pace of the work from when each letter was (last) marked gold.

    "Today" is ``now``'s calendar day in ``now``'s time zone.  The session is the time since
    ``session_start`` (the app's start); without one (the command line) it is the last stretch
    of work: the marks with no break between them, the last one no longer than a break ago.
    """
    times = sorted(t.astimezone(now.tzinfo) for t in gold_times)
    today = now.date()
    done_today = sum(1 for t in times if t.date() == today and t <= now)
    if session_start is not None:
        done_session = sum(1 for t in times if session_start <= t <= now)
    else:
        done_session = 0
        if times and now - times[-1] <= brk:
            done_session = 1
            for after, before in itertools.pairwise(reversed(times)):
                if after - before > brk:
                    break
                done_session += 1
    gaps = [
        (after - before).total_seconds() / 60
        for before, after in itertools.pairwise(times)
        if after - before <= brk
    ]
    median = round(statistics.median(gaps), 1) if gaps else None
    time_left = None if median is None else dt.timedelta(minutes=median * left)
    return Progress(done_today, done_session, median, left, time_left)


def duration_text(span: dt.timedelta | None) -> str:
    """``1 h 05 min``, ``12 min``; ``—`` without a figure."""
    if span is None:
        return "—"
    minutes = round(span.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def progress_text(p: Progress) -> str:
    """One line for the queue's header and `imrgold stats`."""
    pace = "—" if p.median_minutes is None else f"{p.median_minutes:g} min"
    return (
        f"today {p.done_today} · session {p.done_session} · {pace} a letter · "
        f"{p.left} left · {duration_text(p.time_left)} to go"
    )
