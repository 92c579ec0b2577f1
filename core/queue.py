"""The queue of letters as the annotator orders and searches it: pure functions over the
store's letter summaries (and, for a search in the letters' words, their texts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence

from imrgold.core.models import LETTER_STATUSES, LetterSummary

# Statuses a letter reaches only by someone marking it gold: counted as gold even in a row
# written before summaries said so themselves.
GOLD_STATUSES = frozenset({"gold", "in_review", "reviewed", "adjudication"})

NEEDS_WORK = frozenset({"new", "in_progress"})


def is_gold(summary: LetterSummary) -> bool:
    """The letter has a gold or final record (whatever happened to it since: review,
    adjudication, a flag or an edit do not take it out of the gold count)."""
    return summary.has_gold or summary.status in GOLD_STATUSES


def needs_work(summary: LetterSummary | None) -> bool:
    return summary is None or summary.status in NEEDS_WORK


def haystack(summary: LetterSummary) -> str:
    """What a search looks in besides the letter's text, lower case."""
    return " ".join(
        [
            summary.name,
            summary.case_number or "",
            summary.status,
            " ".join(summary.decisions),
            summary.annotator or "",
            summary.comment or "",
        ]
    ).lower()


def query_words(query: str) -> list[str]:
    return query.lower().split()


def matches(
    summary: LetterSummary, status: str | None, words: Sequence[str], text: str = ""
) -> bool:
    """Every word is in the summary or in ``text`` (the letter's text, lower case)."""
    if status is not None and summary.status != status:
        return False
    if not words:
        return True
    row = haystack(summary)
    return all(w in row or w in text for w in words)


def filter_summaries(
    summaries: Sequence[LetterSummary],
    status: str | None,
    query: str,
    found_in_text: Collection[str] = (),
) -> list[LetterSummary]:
    """The letters a search shows, in the given order: those whose summary holds every word,
    and those in ``found_in_text`` (ids whose text, with the summary, holds them)."""
    words = query_words(query)
    return [
        s
        for s in summaries
        if (status is None or s.status == status)
        and (s.letter_id in found_in_text or matches(s, status, words))
    ]


# -- orders --------------------------------------------------------------------------------

_STATUS_RANK = {s: i for i, s in enumerate(LETTER_STATUSES)}
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def _by_expected(s: LetterSummary) -> tuple[bool, float]:
    # Most corrections expected first; a row that does not say comes last.
    return (s.expected_corrections is None, -(s.expected_corrections or 0.0))


def _by_case(s: LetterSummary) -> tuple[bool, str]:
    return (s.case_number is None, s.case_number or "")


def _by_decision_date(s: LetterSummary) -> tuple[bool, dt.date]:
    return (s.decision_date is None, s.decision_date or dt.date.min)


def _by_status(s: LetterSummary) -> tuple[int]:
    return (_STATUS_RANK.get(s.status, len(_STATUS_RANK)),)


def _by_touched(s: LetterSummary) -> tuple[bool, float]:
    # Most recently touched first; never touched last.
    at = s.updated_at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return (at is None, -((at or _EPOCH) - _EPOCH).total_seconds())


SortKey = tuple[bool, float] | tuple[bool, str] | tuple[bool, dt.date] | tuple[int]
SORTS: dict[str, tuple[str, Callable[[LetterSummary], SortKey]]] = {
    "expected": ("expected corrections ↓", _by_expected),
    "case": ("case number", _by_case),
    "decision_date": ("decision date", _by_decision_date),
    "status": ("status", _by_status),
    "touched": ("last touched ↓", _by_touched),
}
"""Sort keys in the order one key cycles them, with how the queue names them; the first is
the default (where the machine is most likely wrong comes first)."""


def sort_summaries(summaries: Sequence[LetterSummary], key: str) -> list[LetterSummary]:
    """The letters in ``key``'s order; ties keep the store's (ingest) order."""
    return sorted(summaries, key=SORTS[key][1])


def next_sort(key: str) -> str:
    keys = list(SORTS)
    return keys[(keys.index(key) + 1) % len(keys)]
