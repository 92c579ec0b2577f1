"""Hypothesis explores new examples on every local run (finding what no one thought of), while CI
runs the same examples every time (`.ci/run` sets HYPOTHESIS_PROFILE=ci), so a landing is decided
by the code, not by the draw; an example found locally is pinned with `@example`."""

import os

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
