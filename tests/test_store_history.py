"""History is exact: undoing the recorded changes walks back through every version."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from imrgold.store import history as hist

paths = st.sampled_from(
    ["case_number", "patient.age", "diagnoses", "items.0.request", "items.0.drugs", "items.1.form"]
)
values = st.one_of(
    st.none(), st.integers(0, 130), st.text(max_size=5), st.lists(st.text(max_size=3), max_size=3)
)
versions = st.lists(st.dictionaries(paths, values, max_size=6), min_size=1, max_size=6)


@given(versions)
def test_undo_walks_back_through_every_version(chain):
    log, cuts = [], []
    for old, new in zip([{}, *chain], chain, strict=False):
        log.extend(hist.diff(old, new))
        cuts.append(len(log))
    current = chain[-1]
    for version, cut in zip(chain, cuts, strict=True):
        assert hist.undo(current, log[cut:]) == version
    assert hist.undo(current, log) == {}


@given(versions)
def test_diff_is_empty_only_for_equal_versions(chain):
    for old, new in itertools.pairwise(chain):
        assert (hist.diff(old, new) == []) == (old == new)
