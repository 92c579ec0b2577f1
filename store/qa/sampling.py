"""A reproducible share of the letters, for a review of a sample."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable


def sample_ids(ids: Iterable[str], share: float | None, seed: int | None) -> list[str]:
    """A reproducible share of ``ids`` (at least one when any), in their original order.

    Each id is ranked by a hash of the seed and the id, and the lowest ranks are taken: the
    same ids, share and seed give the same sample on any machine and Python version (unlike
    `random.sample`), whatever order the store lists its letters in, and a letter added later
    displaces at most a few of the chosen ones instead of reshuffling the sample.
    """
    pool = list(ids)
    if share is None or share >= 1 or not pool:
        return pool
    if share <= 0:
        return []
    salt = str(seed if seed is not None else secrets.randbits(64))
    k = max(1, round(share * len(pool)))

    def rank(letter_id: str) -> str:
        return hashlib.sha256(f"{salt}:{letter_id}".encode()).hexdigest()

    chosen = set(sorted(pool, key=rank)[:k])
    return [i for i in pool if i in chosen]
