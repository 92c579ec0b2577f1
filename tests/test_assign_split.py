"""The split of letters among annotators (core.assign): pure, no store."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imrgold.core.assign import assign, check, overlap_count

IDS = [f"{i:064x}" for i in range(40)]


def _counts(result):
    return {name: len(ids) for name, ids in result.shares.items()}


@given(
    n_letters=st.integers(0, 60),
    n_names=st.integers(2, 6),
    overlap=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_every_letter_given_overlap_exact_and_balanced(n_letters, n_names, overlap, seed):
    ids = IDS[:n_letters] if n_letters <= len(IDS) else [f"{i:064x}" for i in range(n_letters)]
    names = [f"ann{i}" for i in range(n_names)]
    result = assign(ids, names, overlap, seed)
    holders: dict[str, list[str]] = {lid: [] for lid in ids}
    for name, share in result.shares.items():
        assert len(set(share)) == len(share)
        for lid in share:
            holders[lid].append(name)
    # Every letter to one annotator, or to two different ones when it is in the overlap.
    assert all(len(h) == (2 if lid in result.shared else 1) for lid, h in holders.items())
    assert all(tuple(sorted(holders[lid])) == pair for lid, pair in result.shared.items())
    assert len(result.shared) == int(overlap * n_letters + 0.5)
    counts = _counts(result).values()
    assert max(counts) - min(counts) <= 1
    assert list(result.shares) == names
    # Each share keeps the order the letters were given in.
    for share in result.shares.values():
        assert list(share) == [lid for lid in ids if lid in share]


def test_overlap_share_is_rounded_half_up():
    assert [overlap_count(n, 0.5) for n in (5, 7)] == [3, 4]
    assert overlap_count(10, 0.2) == 2
    assert overlap_count(3, 0.1) == 0
    assert overlap_count(4, 1.0) == 4


def test_the_same_seed_gives_the_same_split_whatever_the_order_given():
    names = ["ann1", "ann2", "ann3"]
    first = assign(IDS, names, 0.2, seed=7)
    again = assign(list(reversed(IDS)), list(reversed(names)), 0.2, seed=7)
    assert {n: set(s) for n, s in first.shares.items()} == {
        n: set(s) for n, s in again.shares.items()
    }
    assert first.shared == again.shared
    other = assign(IDS, names, 0.2, seed=8)
    assert first.shares != other.shares


def test_the_overlap_is_spread_over_every_pair():
    result = assign(IDS[:30], ["a", "b", "c"], 0.2, seed=1)  # 6 shared letters, 3 pairs
    assert result.pairs() == {("a", "b"): 2, ("a", "c"): 2, ("b", "c"): 2}
    assert _counts(result) == {"a": 12, "b": 12, "c": 12}  # 30 + 6 letters' worth of work


def test_fewer_letters_than_annotators_leaves_some_without():
    result = assign(IDS[:2], ["a", "b", "c"], 0.0, seed=3)
    assert sorted(_counts(result).values()) == [0, 1, 1]


def test_two_annotators_with_full_overlap_both_get_everything():
    result = assign(IDS[:5], ["a", "b"], 1.0, seed=0)
    assert result.shares == {"a": tuple(IDS[:5]), "b": tuple(IDS[:5])}


@pytest.mark.parametrize(
    "names, overlap, message",
    [
        ([], 0.2, "no annotators"),
        (["ann", "bob", "Ann"], 0.2, "more than once: Ann, ann"),
        (["a", "b"], 1.5, "outside 0-1"),
        (["a", "b"], -0.1, "outside 0-1"),
        (["a"], 0.2, "at least two"),
    ],
)
def test_a_split_that_cannot_be_made_is_refused(names, overlap, message):
    with pytest.raises(ValueError, match=message):
        check(names, overlap)
    assert check(["a"], 0.0) is None
