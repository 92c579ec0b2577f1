"""Hypothesis explores new examples on every local run (finding what no one thought of), while CI
runs the same examples every time (`.ci/run` sets HYPOTHESIS_PROFILE=ci), so a landing is decided
by the code, not by the draw; an example found locally is pinned with `@example`."""

import os

from hypothesis import settings

# No deadline: a loaded CI machine makes timing, not code, fail an example.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
