"""The write-ahead journal: one fsynced line per change, the store's commit point.

A save is acknowledged once its line is on disk; the TinyDB files are brought up to date later, at
a checkpoint, so one correction costs one small append instead of rewriting a file.  Each line
carries a CRC so a line torn by a crash is recognised: a torn *last* line was never acknowledged
and is dropped; a bad line before good ones is damage.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from imrgold.core.files import open_private
from imrgold.store.errors import StoreDamaged
from imrgold.store.storage import FILE_MODE, atomic_write, dumps, fsync_dir


def encode(entry: dict[str, Any]) -> bytes:
    body = dumps(entry)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def decode(line: bytes) -> dict[str, Any] | None:
    """The entry of one line, or None when the line is torn or altered."""
    if len(line) < 10 or line[8:9] != b" " or not line.endswith(b"\n"):
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        entry = json.loads(body)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


class Journal:
    """Append-only; its first line names the checkpoint (``base`` seq) it continues from."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.size = 0
        self.count = 0

    def read(self, *, repair: bool = False) -> tuple[int, list[dict[str, Any]]]:
        """``(base, entries)``; a torn tail is dropped (and cut off the file when ``repair``)."""
        if not self.path.exists():
            return 0, []
        raw = self.path.read_bytes()
        lines = raw.splitlines(keepends=True)
        entries: list[dict[str, Any]] = []
        good_bytes = 0
        for number, line in enumerate(lines, 1):
            entry = decode(line)
            if entry is None:
                if any(decode(rest) is not None for rest in lines[number:]):
                    raise StoreDamaged(
                        f"{self.path} is damaged (line {number} altered)", path=str(self.path)
                    )
                break
            entries.append(entry)
            good_bytes += len(line)
        if repair and good_bytes < len(raw):
            fd = open_private(self.path, os.O_WRONLY)
            try:
                os.ftruncate(fd, good_bytes)
                os.fsync(fd)
            finally:
                os.close(fd)
        if not entries or "base" not in entries[0]:
            if entries:
                raise StoreDamaged(f"{self.path} is damaged (no header line)", path=str(self.path))
            return 0, []
        return int(entries[0]["base"]), entries[1:]

    def open_for_append(self) -> None:
        if self._fd is not None:
            return
        if not self.path.exists():
            self.reset(0)
            return
        self._fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        self.size = os.fstat(self._fd).st_size

    def append(self, entry: dict[str, Any], *, durable: bool = True) -> None:
        assert self._fd is not None, "journal not open for writing"
        data = encode(entry)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
            if durable:
                os.fdatasync(self._fd)
        except BaseException:
            # A half-written line followed by later good ones would read as damage: cut it.
            os.ftruncate(self._fd, self.size)
            raise
        self.size += len(data)
        self.count += 1

    def sync(self) -> None:
        if self._fd is not None:
            os.fdatasync(self._fd)

    def reset(self, base: int) -> None:
        """Start an empty journal after checkpoint ``base``, atomically."""
        self.close()
        atomic_write(self.path, encode({"base": base}))
        self._fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        os.fchmod(self._fd, FILE_MODE)
        self.size = os.fstat(self._fd).st_size
        self.count = 0
        fsync_dir(self.path.parent)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.read()[1])
