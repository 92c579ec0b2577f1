"""Atomic files and the TinyDB storage built on them.

TinyDB's default `JSONStorage` rewrites its file in place, so a crash mid-write leaves half a file.
Here every write goes to a temporary file in the same folder, is fsynced, renamed over the old file
and the folder is fsynced, so a reader (or a crash) sees the old state or the new, never a mix
(`core.files.atomic_write`, which also refuses planted links).  Files are created 0600 and
folders 0700: gold data is weeks of a person's work and may carry patient details.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from imrgold.core.files import (
    DIR_MODE,
    FILE_MODE,
    atomic_write,
    fsync_dir,
    open_private,
    private_dir,
)
from imrgold.store.errors import StoreDamaged

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "AtomicJSONStorage",
    "StoreDB",
    "atomic_write",
    "copy_private",
    "dumps",
    "ensure_dir",
    "fsync_dir",
    "load_json",
    "parse_json",
    "paused_gc",
    "tinydb_shaped",
]


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) 0700; leave existing folders' modes alone."""
    return private_dir(path)


def copy_private(source: Path, target: Path) -> None:
    """Copy ``source`` to a new 0600 file (never briefly readable by others, never through a
    link planted at ``target``), keeping its mtime."""
    fd = open_private(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    stat = source.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@contextlib.contextmanager
def paused_gc(*, freeze: bool = False) -> Iterator[None]:
    """Pause the cycle collector while building many objects at once.

    Parsed JSON and validated records hold no reference cycles, but each allocation burst makes
    the collector rescan everything already loaded: with a 10,000-letter store in memory that
    tripled the time to export.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if freeze:
                # Else the first allocation after re-enabling runs a full collection over all
                # that was just loaded.  Frozen objects are still freed by reference counting;
                # only for the bulk loads (open, export) that a process does once or twice.
                gc.freeze()
            gc.enable()


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_json(path: Path) -> Any:
    """Parse a store file; a damaged one raises `StoreDamaged` naming the file and the problem."""
    return parse_json(path.read_bytes(), path)


def parse_json(raw: bytes, path: Path) -> Any:
    """``raw`` parsed (``path`` names it in the error).

    orjson parses a store's files three times faster than the standard library, which is most
    of what a command over every letter costs at 10,000 letters.  What it refuses goes to the
    standard parser: that accepts the rest of what `json.dumps` can write (NaN, integers past
    64 bits, lone surrogates) and names a damaged file's problem, so results do not change.
    """
    try:
        with paused_gc():
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise StoreDamaged(
            f"{path} is damaged ({json_problem(err, raw)})", path=str(path)
        ) from None


def json_problem(err: ValueError, raw: bytes) -> str:
    if not isinstance(err, json.JSONDecodeError):
        return "not UTF-8 text"
    # Every file the store writes is one JSON object: one that stops short was cut off.
    if err.pos >= len(raw.rstrip()) or not raw.rstrip().endswith(b"}"):
        return f"truncated after {len(raw)} bytes"
    return f"not valid JSON at line {err.lineno} column {err.colno}"


class AtomicJSONStorage(Storage):
    """A TinyDB storage that keeps the data in memory and replaces its file atomically.

    With ``buffered=True`` writes only mark the data dirty and `flush()` writes it; the store does
    that at checkpoints, after the journal has made each change durable.  The file format is
    TinyDB's own, so any TinyDB can read it.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        buffered: bool = False,
        read_only: bool = False,
        preloaded: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.buffered = buffered
        self.read_only = read_only
        self.dirty = False
        # The file's content already parsed by the caller (the store vets its catalog first),
        # so it is not read twice.
        self._data = preloaded
        self._loaded = preloaded is not None
        if preloaded is not None and not tinydb_shaped(preloaded):
            raise StoreDamaged(
                f"{self.path} is damaged (not a TinyDB table layout)", path=str(path)
            )

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._data = self._load()
            self._loaded = True
        return self._data

    def _load(self) -> dict[str, dict[str, Any]] | None:
        if not self.path.exists():
            return None
        data = load_json(self.path)
        if not tinydb_shaped(data):
            raise StoreDamaged(
                f"{self.path} is damaged (not a TinyDB table layout)", path=str(self.path)
            )
        return data

    def start_empty(self) -> None:
        """Forget the file's content: the next flush replaces it (used by migrations)."""
        self._data = {}
        self._loaded = True
        self.dirty = True

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        self.dirty = True
        if not self.buffered:
            self.flush()

    def flush(self, *, durable: bool = True, sync_dir: bool = True) -> None:
        if not self.dirty:
            return
        if self.read_only:
            raise PermissionError(f"{self.path} is open read-only")
        atomic_write(self.path, dumps(self._data or {}), durable=durable, sync_dir=sync_dir)
        self.dirty = False

    def close(self) -> None:
        """Closing does not write: unflushed data is the journal's to replay."""


def tinydb_shaped(data: Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(t, dict) and all(isinstance(d, dict) for d in t.values()) for t in data.values()
    )


class _IntKeys(MutableMapping):
    """The raw table (string ids, as JSON has them) seen with the int ids TinyDB's updaters use."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __getitem__(self, key: int) -> Any:
        return self.raw[str(key)]

    def __setitem__(self, key: int, value: Any) -> None:
        self.raw[str(key)] = value

    def __delitem__(self, key: int) -> None:
        del self.raw[str(key)]

    def __iter__(self) -> Iterator[int]:
        return (int(k) for k in self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __contains__(self, key: object) -> bool:
        return str(key) in self.raw


class InPlaceTable(Table):
    """A TinyDB table whose updates touch only the documents they change.

    TinyDB's own `_update_table` copies the whole table twice (to int ids and back) on every
    write, which makes one queue row update cost O(letters); updating in place keeps a save at
    10,000 letters as cheap as at ten.
    """

    def _update_table(self, updater: Callable[[dict[int, Mapping]], None]) -> None:
        tables = self._storage.read() or {}
        raw = tables.setdefault(self.name, {})
        updater(_IntKeys(raw))  # type: ignore[arg-type]
        self._storage.write(tables)
        self.clear_cache()


class StoreDB(TinyDB):
    table_class = InPlaceTable
