"""Hypothesis explores new examples on every local run (finding what no one thought of), while CI
runs the same examples every time (`.ci/run` sets HYPOTHESIS_PROFILE=ci), so a landing is decided
by the code, not by the draw; an example found locally is pinned with `@example`.  And no test
writes the user's own cache folder."""

import os

import pytest
from hypothesis import HealthCheck, settings

# No deadline, no "too slow" check: on a loaded CI machine timing, not code, failed examples.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", autouse=True)
def _no_test_writes_the_users_cache(tmp_path_factory):
    """Derived tables (the lexicon's index) and agreement's proposal cache (letters' values)
    go to a folder of the run's, built once a worker; a test that names its own cache folder
    (monkeypatch) still gets it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "imrgold-cache"))
        yield
