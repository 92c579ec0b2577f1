"""One store per annotator, each holding their share of a store's letters (`core.assign`).

The stores are ordinary stores made by `Store.open`, so an annotator works in theirs with
`imrgold annotate --db`, and `store.qa.merge.merge` brings each back: gold versions are known by
their content, so the two versions of a letter given to two annotators meet again in the merged
store, and differing ones go to adjudication.

A letter is copied as it stands: text, machine proposal, every draft and gold version under its
author's name and time, the final record, the status and its comment. Gold versions copied this
way are marked as imported (`store.qa.merge.IMPORTED_KEY`), as a merge does: they are not work
done in the new store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from imrgold.core.assign import Assignment
from imrgold.core.files import DIR_MODE, fsync_dir, private_dir
from imrgold.core.models import GoldRecord, Letter, Proposal
from imrgold.store.errors import StoreError
from imrgold.store.qa.merge import IMPORTED_KEY
from imrgold.store.store import Store

ASSIGNED_KEY = "assigned_to"
"""The store's meta key naming the annotator the store was made for."""


def store_file(folder: Path, name: str) -> Path:
    return folder / f"{name}.json"


def assigned_to(store: Store) -> str | None:
    return store.meta(ASSIGNED_KEY)


def assignee(path: Path) -> str | None:
    """Who the store at ``path`` was made for, if `imrgold assign` made it; None for any other
    store, or one that cannot be read (opening it for work will say why)."""
    if not path.is_file():
        return None
    try:
        with Store.open(path, read_only=True) as store:
            return assigned_to(store)
    except StoreError:
        return None


def usable_out(out: Path) -> None:
    """Refuse an ``out`` that exists and is not an empty folder (work there is never mixed in
    or overwritten)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise StoreError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise StoreError(f"{out} is not empty; give a new or empty folder")


def write_stores(
    source: Store,
    assignment: Assignment,
    out: Path,
    *,
    by: str | None = None,
) -> dict[str, Path]:
    """Write each annotator's store into ``out`` (a new or empty folder, left 0700): all of
    them or, if anything fails, none. Returns annotator -> store file."""
    usable_out(out)
    # Built beside ``out`` and renamed into place, so a failure (a full disk) leaves no half
    # team behind.
    private_dir(out.parent)
    building = out.parent / f".{out.name}.assign-{secrets.token_hex(6)}"
    building.mkdir(mode=DIR_MODE)
    try:
        os.chmod(building, DIR_MODE)  # whatever the umask: the stores hold health information
        _fill(source, assignment, building, by)
        if out.is_dir():
            out.rmdir()  # empty (checked above); the rename below puts the team in its place
        building.rename(out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    fsync_dir(out.parent)
    return {name: store_file(out, name) for name in assignment.shares}


def _fill(source: Store, assignment: Assignment, folder: Path, by: str | None) -> None:
    holders: dict[str, list[str]] = {}
    for name, ids in assignment.shares.items():
        for lid in ids:
            holders.setdefault(lid, []).append(name)
    with contextlib.ExitStack() as stack:
        stores = {}
        for name in assignment.shares:
            store = stack.enter_context(Store.open(store_file(folder, name), annotator=by))
            stack.enter_context(store.batch())
            store.set_meta(ASSIGNED_KEY, name)
            stores[name] = store
        imported: dict[str, list[list[str]]] = {name: [] for name in stores}
        # The source's queue order, each letter read once for the one or two stores it goes to.
        for lid in source.letter_ids():
            if lid in holders:
                standing = Standing.read(source, lid)
                for name in holders[lid]:
                    imported[name] += standing.write(stores[name])
        for name, pairs in imported.items():
            if pairs:
                stores[name].set_meta(IMPORTED_KEY, sorted(pairs))
        for store in stores.values():
            # Inside the batch the checkpoint writes the letters' files without one fsync each
            # and syncs once; left to close() it would fsync every file.
            store.checkpoint()


@dataclass(frozen=True)
class Standing:
    """A letter as it stands in a store: everything a copy of it needs."""

    letter: Letter
    proposal: Proposal | None
    versions: dict[str, GoldRecord]
    times: dict[str, dt.datetime]
    final: tuple[str, GoldRecord] | None
    drafts: dict[str, Proposal]
    status: str
    comment: str | None

    @classmethod
    def read(cls, store: Store, letter_id: str) -> Standing:
        versions = store.gold_versions(letter_id)
        final_by = store.final_annotator(letter_id)
        final = store.get_gold(letter_id) if final_by else None
        summary = store.summary(letter_id)
        return cls(
            store.get_letter(letter_id),
            store.get_proposal(letter_id),
            versions,
            store.gold_times(letter_id) if versions else {},
            (final_by, final) if final_by and final else None,
            store.drafts(letter_id),
            summary.status,
            summary.comment,
        )

    def write(self, target: Store) -> list[list[str]]:
        """Add the letter to ``target``; returns the (letter, annotator) of each gold version."""
        lid = self.letter.letter_id
        target.add_letter(self.letter, self.proposal)
        for annotator, record in self.versions.items():
            target.put_gold(record, annotator, self.times.get(annotator))
        if self.final is not None:
            target.set_final(lid, self.final[1], self.final[0])
        # After the gold versions: marking gold replaces its author's draft with the record, and
        # a draft edited since ("gold, edited") must win.
        for annotator, draft in self.drafts.items():
            target.save_draft(draft, annotator=annotator)
        if target.status(lid) != self.status or self.comment:
            target.set_status(lid, self.status, self.comment)
        return [[lid, annotator] for annotator in self.versions]
