"""The extractor's proposals kept between runs, so `imrgold agreement` (machine as it is now)
extracts a letter once, not on every run: 10,000 letters took a minute, nearly all of it
extracting letters whose text and extractor had not changed.

Each letter's proposed values (what ``Proposal.fields`` holds as ``value``s: JSON-shaped, dates
as ISO strings) are kept under the sha256 of its text, in one JSON Lines file in the user's
cache folder (0600, folder 0700; never a pickle), named after the extractor's fingerprint: a
hash of the extraction code and data (the ``core`` modules `core.extract` imports, directly or
through each other, and every ``core/data`` file), the
versions of the drug dictionary and ICD-10-CM packages, and the user's own drug names (learned
and supplement), which change what is proposed.  A changed extractor reads another file, and the
old one is removed when the new one is written.  A file that does not read as one is ignored
with a warning and rewritten; the cache can only cost speed, never a wrong proposal.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from imrgold.core import environment
from imrgold.core.environment import Var
from imrgold.core.files import (
    atomic_write,
    learned_path,
    new_private_file,
    open_private,
    os_problem,
    private_dir,
    user_cache_dir,
    user_supplement_path,
)
from imrgold.core.parallel import ordered_map

log = logging.getLogger(__name__)

FORMAT = 1
_CORE = Path(__file__).resolve().parent
_PACKAGES = ("drug-named-entity-recognition", "simple-icd-10-cm")
Values = dict[str, Any]


def _core_imports(path: Path) -> set[str]:
    """The ``core`` modules one module imports, anywhere in it (a function's lazy import too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # "from . import x", "from .x import y"
                names.update([module] if module else (a.name for a in node.names))
            elif module == "imrgold.core":
                names.update(a.name for a in node.names)
            elif module.startswith("imrgold.core."):
                names.add(module.split(".")[2])
        elif isinstance(node, ast.Import):
            names.update(
                a.name.split(".")[2] for a in node.names if a.name.startswith("imrgold.core.")
            )
    return {n for n in names if (_CORE / f"{n}.py").is_file()}


def extraction_modules() -> list[Path]:
    """The ``core`` modules extraction runs: `core.extract` and what it imports, transitively.
    A change to another module (export, agreement, de-identification) proposes nothing new, so
    it keeps the proposals already extracted."""
    seen: set[str] = set()
    todo = ["extract"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_core_imports(_CORE / f"{name}.py") - seen)
    return sorted(_CORE / f"{name}.py" for name in seen)


@functools.cache
def _code_digest() -> str:
    """The extraction code and data, read once a process."""
    digest = hashlib.sha256()
    for path in sorted([*extraction_modules(), *(_CORE / "data").glob("*")]):
        digest.update(f"{path.relative_to(_CORE)}\0".encode())
        digest.update(path.read_bytes())
    for package in _PACKAGES:
        try:
            digest.update(f"{package}={version(package)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{package} missing\0".encode())
    digest.update((environment.get(Var.DRUG_DICTIONARY) or "").encode())
    return digest.hexdigest()


def fingerprint() -> str:
    """What the proposals depend on besides the letter's text."""
    digest = hashlib.sha256(_code_digest().encode())
    for path in (learned_path(), user_supplement_path()):
        try:
            digest.update(path.read_bytes())
        except FileNotFoundError:
            digest.update(b"absent")
        except OSError:
            digest.update(b"unreadable")
        digest.update(b"\0")
    return digest.hexdigest()[:20]


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _extract_values(text: str, letter_id: str) -> Values:
    from imrgold.core.extract import extract

    return {path: f.value for path, f in extract(text, letter_id).fields.items()}


def _extracted_entry(entry: tuple[str, str, str]) -> tuple[str, Values]:
    digest, text, letter_id = entry
    return digest, _extract_values(text, letter_id)


class ProposalCache:
    """Proposed values by letter text, read from the cache file when the extractor is the one
    that wrote it, extracted (and kept for `save`) otherwise.  Use it in a ``with`` block (its
    files are closed at the end) and call `save` when the run went well.

    Memory stays flat at any size: the file is indexed (text digest -> where its line is) and
    each entry read when its letter is asked for; the entries added are appended to a private
    temporary file beside it, merged with the old ones by `save`."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or user_cache_dir()
        self.fingerprint = fingerprint()
        self.path = self.folder / f"proposals-{self.fingerprint}.jsonl"
        self._old: int | None = None  # the file as read
        self._added: tuple[int, Path] | None = None  # the entries added since, and its name
        self._added_size = 0
        self._where: dict[str, tuple[bool, int, int]] = {}  # digest -> (added?, offset, size)
        self._changed = False
        self.hits = self.misses = 0
        self._read_yet = False  # read at the first letter asked for: often none is

    def __enter__(self) -> ProposalCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._old is not None:
            os.close(self._old)
            self._old = None
        if self._added is not None:
            fd, name = self._added
            os.close(fd)
            name.unlink(missing_ok=True)
            self._added = None

    def _read(self) -> None:
        try:
            self._old = open_private(self.path, os.O_RDONLY)
            with open(self._old, "rb", closefd=False) as lines:
                self._index(lines)
        except FileNotFoundError:
            pass
        except OSError as err:
            self._damaged(f"unreadable ({os_problem(err)})")
        except ValueError as err:
            self._damaged(str(err))

    def _index(self, lines: BinaryIO) -> None:
        header = lines.readline()
        if not header:
            return  # empty: nothing kept yet
        try:
            if orjson.loads(header) != {"format": FORMAT}:
                raise ValueError
        except ValueError:
            raise ValueError("is not a proposal cache of this version") from None
        offset = len(header)
        for line in lines:
            if line[:2] != b'["' or line[66:68] != b'",':
                raise ValueError("has an entry that is not [text digest, values]")
            self._where[line[2:66].decode("ascii")] = (False, offset, len(line.rstrip(b"\n")))
            offset += len(line)

    def _damaged(self, why: str) -> None:
        log.warning("proposal cache %s %s; extracting again", self.path, why)
        self._where.clear()
        self._changed = True

    def _entry(self, digest: str) -> bytes:
        added, offset, size = self._where[digest]
        fd = self._added[0] if added and self._added else self._old
        assert fd is not None
        return os.pread(fd, size, offset)

    def _cached(self, digest: str) -> Values | None:
        if digest not in self._where:
            return None
        try:
            found, values = orjson.loads(self._entry(digest))
            if found != digest or not isinstance(values, dict):
                raise ValueError("an entry is not [text digest, values]")
        except (OSError, ValueError, TypeError) as err:
            # That entry alone: the others are read and checked on their own.
            log.warning("proposal cache %s damaged (%s); extracting again", self.path, err)
            del self._where[digest]
            self._changed = True
            return None
        return values

    def _ensure_read(self) -> None:
        if not self._read_yet:
            self._read_yet = True
            self._read()

    def holds(self, digest: str) -> bool:
        """Whether the values of the letter text of this digest (`text_digest`) are kept."""
        self._ensure_read()
        return digest in self._where

    def kept(self, digest: str) -> Values | None:
        """The kept values of the letter text of this digest, None when there are none (a
        damaged entry is dropped with a warning)."""
        self._ensure_read()
        found = self._cached(digest)
        if found is not None:
            self.hits += 1
        return found

    def prefetch(self, letters: Iterable[tuple[str, str, str]], *, jobs: int) -> None:
        """Extract ``letters`` (text digest as `text_digest` gives it, text, letter id) in
        ``jobs`` processes and keep their values: the letters a run will ask for that the cache
        lacks (`holds`: the caller has their digests already), read as they are sent."""
        self._ensure_read()
        for digest, values in ordered_map(
            _extracted_entry, letters, jobs=jobs, chunk=8, preload=["imrgold.core.extract"]
        ):
            self.misses += 1
            self._keep(digest, values)

    def values(self, text: str, letter_id: str) -> Values:
        """The machine's proposed values for this letter text."""
        digest = text_digest(text)
        found = self.kept(digest)
        if found is not None:
            return found
        self.misses += 1
        values = _extract_values(text, letter_id)
        self._keep(digest, values)
        return values

    def _keep(self, digest: str, values: Values) -> None:
        # Kept only when JSON gives back the same values (anything else is extracted each time).
        try:
            line = orjson.dumps([digest, values])
            if orjson.loads(line)[1] != values:
                return
            if self._added is None:
                private_dir(self.folder)
                self._added = new_private_file(self.folder, self.path.name, readable=True)
            os.write(self._added[0], line)
        except (TypeError, OSError):
            return  # not kept: extracted again next time
        self._where[digest] = (True, self._added_size, len(line))
        self._added_size += len(line)
        self._changed = True

    def _body(self) -> Iterator[bytes]:
        """The file: its header, then every entry a line, in pieces of about a megabyte."""
        piece = bytearray(orjson.dumps({"format": FORMAT}) + b"\n")
        for digest in self._where:
            piece += self._entry(digest)
            piece += b"\n"
            if len(piece) >= 1 << 20:
                yield bytes(piece)
                piece.clear()
        yield bytes(piece)

    def save(self) -> None:
        """Write the file when anything was added (or the old one was damaged), removing the
        files of other extractor versions; a folder it cannot write only costs speed."""
        if not self._changed:
            return
        try:
            private_dir(self.folder)
            for stale in self.folder.glob("proposals-*.jsonl"):
                if stale != self.path:
                    stale.unlink(missing_ok=True)
            atomic_write(self.path, self._body(), durable=False)
        except OSError as err:
            log.warning(
                "proposal cache not written to %s (%s); only speed is lost", self.folder, err
            )
            return
        self._changed = False
