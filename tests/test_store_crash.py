"""SIGKILL a process saving corrections at random moments; every acknowledged save survives."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from imrgold.store import Store
from imrgold.store.doctor import check
from tests.store_crash_worker import new_letter, op_kind, op_value
from tests.store_helpers import fixture_letters, proposal_for

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 40


class Expected:
    """What the store must hold: the last acknowledged value of each thing the loop writes."""

    def __init__(self, ids, machine):
        self.ids = ids
        self.draft = dict(machine)
        self.gold = dict.fromkeys(ids)
        self.meta = None
        self.letters = set(ids)

    def acknowledge(self, k):
        kind = op_kind(k)
        if kind == "meta":
            self.meta = k
            return
        if kind == "letter":
            self.letters.add(new_letter(k).letter_id)
            return
        lid = self.ids[k % len(self.ids)]
        self.draft[lid] = op_value(k)
        if kind == "gold":
            self.gold[lid] = op_value(k)

    def check(self, store, in_flight):
        """Each value is the acknowledged one, or the one the killed save was writing."""
        kind = op_kind(in_flight)
        flying = self.ids[in_flight % len(self.ids)] if kind in ("draft", "gold") else None
        stored = set(store.letter_ids())
        maybe = {new_letter(in_flight).letter_id} if kind == "letter" else set()
        assert self.letters <= stored <= self.letters | maybe
        for lid in stored - set(self.ids):
            letter = store.get_letter(lid)
            assert letter.text.endswith(f"[crash test letter {letter.name[6:-4]}]\n")
            assert store.get_proposal(lid) is not None
        self.letters = stored
        for lid in self.ids:
            draft = store.get_draft(lid, "crash")
            value = (draft or store.get_proposal(lid)).get("case_number").value
            allowed = {self.draft[lid]} | ({op_value(in_flight)} if lid == flying else set())
            assert value in allowed, (lid[:8], value, allowed)
            self.draft[lid] = value
            gold = store.get_gold(lid, "crash")
            gold_value = gold.case_number if gold else None
            allowed = {self.gold[lid]}
            if lid == flying and kind == "gold":
                allowed.add(op_value(in_flight))
            assert gold_value in allowed, (lid[:8], gold_value, allowed)
            self.gold[lid] = gold_value
            changes = [c for c in store.history(lid) if c.path == "case_number"]
            if value != self.draft_machine(lid, store):
                assert changes and changes[-1].new == value
        meta = store.meta("last")
        assert meta in {self.meta} | ({in_flight} if kind == "meta" else set())
        self.meta = meta

    @staticmethod
    def draft_machine(lid, store):
        return store.get_proposal(lid).get("case_number").value


def _spin(seconds):
    # Busy-wait, not sleep: it only moves the kill to a random point inside the next save.
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_acknowledged_saves_survive_sigkill(tmp_path):
    db = tmp_path / "imrgold.json"
    letters = fixture_letters()[:3]
    with Store.open(db, annotator="crash") as store:
        for letter in letters:
            store.add_letter(letter, proposal_for(letter))
        ids = sorted(store.letter_ids())
        store.set_meta("crash_ids", ids)
        expected = Expected(ids, {i: store.get_proposal(i).get("case_number").value for i in ids})
    rng = random.Random(20261125)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.store_crash_worker"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    start = 0
    total_acked = 0
    try:
        for _round in range(ROUNDS):
            worker.stdin.write(f"go {db} {start} 0\n")
            target = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 34])
            pid, acked, killed = None, [], False
            while True:
                kind, number = worker.stdout.readline().split()
                if kind == "pid":
                    pid = int(number)
                elif kind == "ack":
                    acked.append(int(number))
                elif kind == "dead":
                    break
                if pid is not None and not killed and len(acked) >= target:
                    _spin(rng.random() * 0.003)
                    os.kill(pid, signal.SIGKILL)
                    killed = True
            assert killed, "the save loop ended by itself"
            for k in acked:
                expected.acknowledge(k)
            total_acked += len(acked)
            in_flight = (acked[-1] + 1) if acked else start
            with Store.open(db, annotator="check") as store:
                expected.check(store, in_flight)
            assert check(db).healthy, check(db).problems
            start = in_flight + 1
    finally:
        worker.stdin.close()
        worker.kill()
        worker.wait()
    assert total_acked > ROUNDS  # the kills did land among saves, not only at start-up


class _Cut(Exception):
    """The process 'dies' here."""


def test_checkpoint_cut_short_at_every_file(tmp_path, monkeypatch):
    """Deterministic companion of the SIGKILL test: die before each rename of a checkpoint."""
    real_replace = os.replace
    n = 0
    while True:
        n += 1
        db = tmp_path / f"cut{n}" / "imrgold.json"
        letters = fixture_letters()[:3]
        with Store.open(db, annotator="a") as store:
            for letter in letters:
                store.add_letter(letter, proposal_for(letter))
        store = Store.open(db, annotator="a")
        lids = sorted(store.letter_ids())
        for i, lid in enumerate(lids):
            store.save_draft(corrected_case(store.get_proposal(lid), f"CM77-000000{i}"))
        store.mark_gold(store.get_draft(lids[0]))
        store.set_meta("n", n)
        calls = {"left": n}

        def dying_replace(src, dst, calls=calls):
            calls["left"] -= 1
            if calls["left"] == 0:
                raise _Cut
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", dying_replace)
        try:
            store.checkpoint()
            finished = True
        except _Cut:
            finished = False
        finally:
            monkeypatch.setattr(os, "replace", real_replace)
            store.engine.release()  # the process is gone: no close, no checkpoint
        with Store.open(db, annotator="b") as reopened:
            for i, lid in enumerate(lids):
                draft = reopened.get_draft(lid, "a")
                assert draft.get("case_number").value == f"CM77-000000{i}", (n, i)
                # Replaying what a record already holds must not repeat its history.
                paths = [c.path for c in reopened.history(lid)]
                assert paths.count("case_number") == 1, (n, paths)
            assert reopened.get_gold(lids[0], "a").case_number == "CM77-0000000"
            assert reopened.meta("n") == n
            assert reopened.status(lids[0]) == "gold"
        assert check(db).healthy, (n, check(db).problems)
        if finished:
            break
    assert n > 5  # texts, records, shard, catalog, journal: each was cut in turn


def corrected_case(proposal, value):
    from tests.store_helpers import corrected

    return corrected(proposal, "case_number", value)
