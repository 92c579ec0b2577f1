"""Where a store's files live.

The store path the user names (``imrgold.json``) is the *catalog*: one TinyDB file with the queue
(one summary row per letter), the schema version and a small key-value table, small enough to open
in a blink at 10,000 letters.  Beside it, ``imrgold.d/`` holds what would make that file large:

- ``texts/ab/<letter_id>.json``   the letter as ingested, written once;
- ``records/ab/<letter_id>.json`` a TinyDB per letter: proposal, drafts, gold versions, history;
- ``gold/ab.json``                the gold versions again, sharded, so exporting reads 256 files;
- ``journal``                     the write-ahead journal (see `store.journal`);
- ``lock``                        who holds the single-writer lock;
- ``backups/<time>/``             copies of the catalog and gold shards taken at each open.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    db: Path

    @cached_property
    def dir(self) -> Path:
        stem = self.db.stem if self.db.suffix else self.db.name
        return self.db.with_name(f"{stem}.d")

    @cached_property
    def texts(self) -> Path:
        return self.dir / "texts"

    @cached_property
    def records(self) -> Path:
        return self.dir / "records"

    @cached_property
    def gold(self) -> Path:
        return self.dir / "gold"

    @cached_property
    def backups(self) -> Path:
        return self.dir / "backups"

    @cached_property
    def journal(self) -> Path:
        return self.dir / "journal"

    @cached_property
    def lock(self) -> Path:
        return self.dir / "lock"

    def text(self, letter_id: str) -> Path:
        return self.texts / letter_id[:2] / f"{letter_id}.json"

    def record(self, letter_id: str) -> Path:
        return self.records / letter_id[:2] / f"{letter_id}.json"

    def gold_shard(self, letter_id: str) -> Path:
        return self.gold / f"{letter_id[:2]}.json"  # 256 shards: a few dozen letters each

    def backup_dirs(self) -> list[Path]:
        """Backups, newest first."""
        if not self.backups.is_dir():
            return []
        return sorted((p for p in self.backups.iterdir() if p.is_dir()), reverse=True)
