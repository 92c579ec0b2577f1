"""Splitting letters among annotators, with a share given to two of them for agreement.

Each letter goes to one annotator, except the overlap: ``round(overlap * letters)`` letters
that go to two, as Prodigy's ``feed_overlap`` or Label Studio's overlap settings do, so that
`core.agreement` has pairs to compare. Who gets what depends only on the letter ids, the names
and the seed: the same seed gives the same split on any machine and Python version, whatever
order the letters or names are listed in.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    shares: dict[str, tuple[str, ...]]
    """Annotator -> their letters, in the order the letters were given."""
    shared: dict[str, tuple[str, str]]
    """Letter -> the two annotators it was given to (the overlap), the pair sorted."""

    def pairs(self) -> dict[tuple[str, str], int]:
        """How many letters each pair of annotators shares."""
        counts: dict[tuple[str, str], int] = {}
        for pair in self.shared.values():
            counts[pair] = counts.get(pair, 0) + 1
        return counts


def check(names: Sequence[str], overlap: float) -> None:
    """Raise ValueError (one line) for a split that cannot be made."""
    if not names:
        raise ValueError("no annotators given")
    folded = [n.casefold() for n in names]
    # Case folded: each annotator's store is a file named after them, and "Ann" and "ann" are
    # the same file on a case-insensitive disk.
    twice = sorted({n for n, f in zip(names, folded, strict=True) if folded.count(f) > 1})
    if twice:
        raise ValueError(f"annotator named more than once: {', '.join(twice)}")
    if not 0 <= overlap <= 1:
        raise ValueError(f"overlap {overlap:g} is outside 0-1 (the share of letters given to two)")
    if overlap > 0 and len(names) < 2:
        raise ValueError("an overlap needs at least two annotators")


def overlap_count(letters: int, overlap: float) -> int:
    """How many letters go to two annotators: the share rounded half up (round() would round
    half to even, so 0.5 of 5 letters would give 2 one time and 0.5 of 7 give 4 the next)."""
    return min(letters, int(overlap * letters + 0.5))


def _rank(seed: int, kind: str, value: str) -> str:
    return hashlib.sha256(f"{seed}:{kind}:{value}".encode()).hexdigest()


def assign(
    letter_ids: Sequence[str], names: Sequence[str], overlap: float, seed: int
) -> Assignment:
    """Split ``letter_ids`` among ``names``; every annotator's count within one of the others'.

    The letters are taken in an order drawn from the seed; the first ``overlap_count`` go each
    to the two least-loaded annotators (among equals, the pair that has shared fewest letters so
    far, so every pair gets some overlap to compare), the rest each to the least-loaded one.
    Giving each letter to the least-loaded keeps the counts within one of each other throughout.
    """
    check(names, overlap)
    ids = list(dict.fromkeys(letter_ids))
    order = sorted(ids, key=lambda lid: _rank(seed, "letter", lid))
    # Ties between equally loaded annotators go by a seeded order of names, not the order
    # given, so who gets the odd letter changes with the seed, not with how --to was typed.
    people = sorted(names, key=lambda n: _rank(seed, "name", n))
    load = dict.fromkeys(people, 0)
    pair_count = {pair: 0 for pair in itertools.combinations(people, 2)}
    given: dict[str, list[str]] = {n: [] for n in people}
    shared: dict[str, tuple[str, str]] = {}
    n_shared = overlap_count(len(ids), overlap)
    for lid in order[:n_shared]:
        a, b = min(
            pair_count,
            key=lambda p: (max(load[p[0]], load[p[1]]), load[p[0]] + load[p[1]], pair_count[p]),
        )
        pair_count[(a, b)] += 1
        shared[lid] = (a, b) if a <= b else (b, a)
        for name in (a, b):
            load[name] += 1
            given[name].append(lid)
    for lid in order[n_shared:]:
        name = min(people, key=load.__getitem__)
        load[name] += 1
        given[name].append(lid)
    position = {lid: i for i, lid in enumerate(ids)}
    shares = {n: tuple(sorted(given[n], key=position.__getitem__)) for n in names}
    return Assignment(shares, dict(sorted(shared.items(), key=lambda kv: position[kv[0]])))
