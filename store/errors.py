"""What the store raises; every message is one line a user can act on."""

from __future__ import annotations

from pydantic import ValidationError


class StoreError(Exception):
    """Base class of the store's errors."""


class StoreLocked(StoreError):
    """Another process holds the store's single-writer lock."""

    def __init__(self, message: str, *, pid: int | None = None, since: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.since = since


class StoreDamaged(StoreError):
    """A store file is truncated, not JSON, or not the shape the store wrote."""

    def __init__(self, message: str, *, path: str | None = None, backup: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.backup = backup


class NotAStore(StoreError):
    """The file named as the store is some other file: it is never written as one."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ReadOnlyStore(StoreError):
    """A write was attempted on a store opened read-only."""


class UnknownLetter(StoreError, KeyError):
    """No letter with this id is in the store."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def validation_problem(err: ValidationError) -> str:
    """A pydantic error's first problem, one line: where (a field path) and what."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
