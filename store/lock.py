"""The single-writer lock: one process may write a store; it says who it is and since when.

`fcntl.flock` on the store's folder is released by the kernel when the holder dies, even by
SIGKILL, so a crashed annotator never leaves a stale lock behind; the lock file's text only
tells others who holds it, and deleting it unlocks nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import threading
import weakref
from pathlib import Path

from imrgold.core.files import open_private
from imrgold.store.errors import StoreError, StoreLocked

_HELD: weakref.WeakSet[WriterLock] = weakref.WeakSet()
# A fork from another thread must not land between opening the descriptor and registering it
# (the child would keep a copy nobody closes) nor between closing it and forgetting it (the
# child would close whatever reused that number); fork waits for this guard.
_GUARD = threading.Lock()


def _drop_in_child() -> None:
    """A forked child must not keep the lock alive after its parent dies: the flock belongs to
    the open file, shared by every copy of the descriptor, so the child closes its copy."""
    for lock in list(_HELD):
        for fd in (lock._fd, lock._folder_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        lock._fd = lock._folder_fd = None
    _GUARD.release()


os.register_at_fork(
    before=_GUARD.acquire, after_in_parent=_GUARD.release, after_in_child=_drop_in_child
)


class WriterLock:
    def __init__(self, path: Path, store: Path) -> None:
        self.path = path
        self.store = store
        self._fd: int | None = None
        self._folder_fd: int | None = None

    def acquire(self, annotator: str | None = None) -> None:
        with _GUARD:
            self._acquire(annotator)

    def _acquire(self, annotator: str | None) -> None:
        # The lock is held on the store folder itself: deleting or replacing the lock file
        # (which only tells others who holds it) cannot let a second writer in.
        try:
            folder = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as err:
            raise StoreError(f"cannot lock {self.path.parent}: {err.strerror or err}") from None
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(folder)
            raise self._locked_error() from None
        try:
            fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        except OSError as err:
            os.close(folder)
            raise StoreError(f"cannot lock the store: {err}") from None
        self._folder_fd = folder
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "annotator": annotator,
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
        except OSError:
            # A full disk must not leave the lock held by a descriptor nobody has.
            os.close(fd)
            os.close(folder)
            self._folder_fd = None
            raise
        self._fd = fd
        _HELD.add(self)

    def release(self) -> None:
        with _GUARD:
            if self._fd is None:
                return
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None
            if self._folder_fd is not None:
                fcntl.flock(self._folder_fd, fcntl.LOCK_UN)
                os.close(self._folder_fd)
                self._folder_fd = None
            _HELD.discard(self)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def _locked_error(self) -> StoreLocked:
        info = self.holder()
        pid, since = info.get("pid"), info.get("since")
        who = f"process {pid}" if pid else "another process"
        if info.get("host") and info.get("host") != socket.gethostname():
            who += f" on {info['host']}"
        if info.get("annotator"):
            who += f" ({info['annotator']})"
        when = f" since {since}" if since else ""
        return StoreLocked(
            f"store {self.store} is being written by {who}{when}; "
            "open it read-only or close that one",
            pid=pid,
            since=since,
        )
