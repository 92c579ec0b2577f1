"""Helper process for the store's crash test (not a test module).

It imports everything once, then for each ``go DB START SEED`` line on stdin forks a child that
opens the store and saves corrections in a loop, printing ``ack K`` after each save returns, until
the test kills it with SIGKILL.  The parent here reaps the child and prints ``dead PID``, so every
``ack`` the child wrote comes before it.  Forking from this single-threaded process makes a round
cost milliseconds instead of a fresh interpreter.
"""

from __future__ import annotations

import hashlib
import os
import sys

import imrgold.store.engine as engine_module
from imrgold.core.models import Letter
from imrgold.store import Store
from tests.store_helpers import corrected, fixture_letters


def op_value(k: int) -> str:
    return f"CM99-{k:07d}"


def op_kind(k: int) -> str:
    """The k-th save of the loop: mostly drafts, some gold, new letters, key-value writes."""
    if k % 11 == 10:
        return "letter"
    if k % 7 == 6:
        return "meta"
    return "gold" if k % 5 == 4 else "draft"


def new_letter(k: int) -> Letter:
    base = fixture_letters()[k % len(fixture_letters())]
    text = f"{base.text}\n[crash test letter {k}]\n"
    lid = hashlib.sha256(text.encode()).hexdigest()
    return base.model_copy(update={"letter_id": lid, "text": text, "name": f"crash-{k}.txt"})


def save_loop(db: str, start: int) -> None:
    with Store.open(db, annotator="crash") as store:
        ids = store.meta("crash_ids")
        for k in range(start, start + 100_000):
            kind = op_kind(k)
            if kind == "meta":
                store.set_meta("last", k)
            elif kind == "letter":
                letter = new_letter(k)
                proposal = store.get_proposal(ids[0]).model_copy(
                    update={"letter_id": letter.letter_id}
                )
                store.add_letter(letter, proposal)
            else:
                lid = ids[k % len(ids)]
                proposal = corrected(store.working_copy(lid), "case_number", op_value(k))
                if kind == "gold":
                    store.mark_gold(proposal)
                else:
                    store.save_draft(proposal)
            os.write(1, b"ack %d\n" % k)


def main() -> None:
    # Checkpoint often so kills land inside checkpoints too, not only inside journal appends.
    engine_module.CHECKPOINT_OPS = 3
    for line in sys.stdin:
        _go, db, start, _seed = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                save_loop(db, int(start))
            finally:
                os._exit(0)
        os.write(1, b"pid %d\n" % pid)
        os.waitpid(pid, 0)
        os.write(1, b"dead %d\n" % pid)


if __name__ == "__main__":
    main()
