"""Ingest: turn paths, folders and globs into letters with their proposals, file by file.

Pure orchestration: reading is `core.reading`, extraction `core.extract`, and storage whatever
`Sink` the caller passes (the command line passes the store).  Every input ends as exactly one
`Outcome` (added, duplicate, skipped with a one-line problem), so a bad file never stops a run,
and a letter reaches the sink only together with its proposal.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from imrgold.core.machine_cache import fingerprint
from imrgold.core.models import Letter, Proposal
from imrgold.core.parallel import ordered_map
from imrgold.core.reading import DEFAULT_MAX_BYTES, SUFFIXES, LetterError, read_letter

Status = Literal["added", "restored", "duplicate", "skipped"]
Extractor = Callable[[str, str], Proposal]

_GLOB_MAGIC = frozenset("*?[")


class Sink(Protocol):
    """Where letters go: the store, or anything that keeps letters with their proposals."""

    def known_name(self, letter_id: str) -> str | None:
        """The name a letter with this id was stored under, None if it is not stored."""

    def save(self, letter: Letter, proposal: Proposal) -> bool:
        """Store both or neither; False if the letter was already there."""

    def restore(self, letter: Letter) -> bool:
        """Put back the text of a stored letter whose text the store lost; False if it has it."""


@dataclass(frozen=True)
class Outcome:
    path: str
    status: Status
    message: str = ""
    reason: str = ""
    letter_id: str | None = None


@dataclass
class Summary:
    added: int = 0
    restored: int = 0
    """Letters already stored whose lost text was put back from the file."""
    duplicate: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    ignored: int = 0
    """Files inside folders that are not .txt, .md or .pdf: left alone, not counted as skipped."""

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    @property
    def total(self) -> int:
        return self.added + self.restored + self.duplicate + self.n_skipped

    def count(self, outcome: Outcome) -> None:
        if outcome.status == "added":
            self.added += 1
        elif outcome.status == "restored":
            self.restored += 1
        elif outcome.status == "duplicate":
            self.duplicate += 1
        else:
            self.skipped[outcome.reason] += 1

    def line(self) -> str:
        text = (
            f"{self.total} file{'' if self.total == 1 else 's'}: {self.added} added, "
            + (f"{self.restored} restored, " if self.restored else "")
            + f"{self.duplicate} duplicate, {self.n_skipped} skipped"
        )
        if self.skipped:
            reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.skipped.items()))
            text += f" ({reasons})"
        if self.ignored:
            text += f"; {self.ignored} other file{'' if self.ignored == 1 else 's'} ignored"
        return text


# ---------------------------------------------------------------------------------------------
# Finding the files.


@dataclass
class Inputs:
    files: list[Path] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    """Named paths that are not letter files or match nothing."""
    ignored: int = 0


def collect(args: Iterable[str | Path]) -> Inputs:
    """Files to ingest from files, folders (recursively) and globs, each once, in a stable order.

    A named file with an unsupported suffix, or a path that matches nothing, becomes a skipped
    `Outcome`; unsupported files met inside a folder are only counted.
    """
    found = Inputs()
    # Absolute, not resolved: resolving costs a syscall a path component, and a file reached
    # through a symlink is still caught, as a duplicate by its hash.
    seen: set[str] = set()

    def add(path: Path) -> None:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            found.files.append(path)

    def walk(folder: Path) -> None:
        key = os.path.abspath(folder)
        if key in seen:
            return
        seen.add(key)
        files, ignored = _walk(folder)
        found.ignored += ignored
        for f in files:
            add(f)

    for arg in args:
        text = str(arg)
        if not text.strip():
            # Path("") is the current folder: an empty argument (an unset variable) must not
            # ingest whatever folder the command was run from.
            found.skipped.append(Outcome(repr(text), "skipped", "'': empty path", "empty path"))
            continue
        path = Path(text).expanduser()
        if path.is_dir():
            walk(path)
        elif path.exists() or path.is_symlink() or not _GLOB_MAGIC & set(text):
            if not path.exists() and not path.is_symlink():
                found.skipped.append(
                    Outcome(text, "skipped", f"{text}: no such file", "no such file")
                )
            elif path.suffix.lower() in SUFFIXES:
                add(path)
            else:
                found.skipped.append(_unsupported(path))
        else:
            matches = _glob(os.path.expanduser(text))
            if not matches:
                found.skipped.append(
                    Outcome(text, "skipped", f"{text}: matches no file", "matches no file")
                )
            for match in matches:
                m = Path(match)
                if m.is_dir():
                    walk(m)
                elif m.suffix.lower() in SUFFIXES:
                    add(m)
                else:
                    found.ignored += 1
    return found


def _unsupported(path: Path) -> Outcome:
    problem = f"not a {', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]} file"
    return Outcome(str(path), "skipped", f"{path}: {problem}", "unsupported file type")


def _walk(folder: Path) -> tuple[list[Path], int]:
    """Letter files under ``folder`` in path order; hidden files and folders are left out, and
    so are FIFOs, devices and sockets (counted as ignored with other files)."""
    files: list[Path] = []
    ignored = 0
    for path, kind in _entries(folder):
        if kind == "file" and path.suffix.lower() in SUFFIXES:
            files.append(path)
        elif kind != "dir":
            ignored += 1
    return sorted(files), ignored


def _entries(root: Path, max_depth: int | None = None) -> Iterator[tuple[Path, str]]:
    """Every entry under ``root`` as (path, "dir" | "file" | "other"), hidden ones left out.

    Iterative (a tree thousands of folders deep needs no stack), and each folder is entered
    once, known by its device and inode: a symbolic link back up the tree is not followed
    round again.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            info = folder.stat()
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name, reverse=True)
        except OSError:
            if folder != root:
                yield folder, "other"  # a folder that cannot be read: counted, not entered
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    yield path, "dir"
                    if max_depth is None or depth + 1 < max_depth:
                        stack.append((path, depth + 1))
                elif entry.is_file():
                    yield path, "file"
                else:
                    yield path, "other"  # a FIFO, device or socket: never opened
            except OSError:
                yield path, "other"


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regular expression over '/'-separated paths: ``**`` any depth, ``*`` and
    ``?`` within one name, ``[...]`` a class."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (close := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : close].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _glob(pattern: str) -> list[str]:
    """Paths matching a glob, sorted, found by a loop-safe walk from the pattern's literal
    folder (`glob.glob` with ``**`` follows symbolic links round a loop forever)."""
    parts = pattern.split("/")
    literal = next((i for i, p in enumerate(parts) if _GLOB_MAGIC & set(p)), len(parts))
    root = "/".join(parts[:literal]) or ("/" if pattern.startswith("/") else ".")
    rest = parts[literal:]
    depth = None if any("**" in p for p in rest) else len(rest)
    regex = _glob_regex("/".join(rest))
    prefix = root.rstrip("/") + "/" if root not in (".", "/") else ("/" if root == "/" else "")
    found = []
    for path, _kind in _entries(Path(root), depth):
        relative = path.relative_to(root).as_posix()
        if regex.match(relative):
            found.append(prefix + relative)
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# Reading and extracting one file: runs in worker processes, so it is a plain top-level function.


@dataclass(frozen=True)
class Work:
    """What a worker hands back for one file."""

    path: str
    letter: Letter | None = None
    proposal: Proposal | None = None
    error: LetterError | None = None


@dataclass(frozen=True)
class _Config:
    max_bytes: int
    known: frozenset[str]
    extract: Extractor | None
    # The default extractor's fingerprint, stamped on its proposals (None for another one).
    extractor: str | None = None


_config = _Config(DEFAULT_MAX_BYTES, frozenset(), None)


def _configure(config: _Config) -> None:
    global _config
    _config = config


def _default_extract(text: str, letter_id: str) -> Proposal:
    from imrgold.core.extract import extract

    # The run says it on the letter's line (`Proposal.failure_note`): not logged as well.
    return extract(text, letter_id, log_failure=False)


def process(path: str) -> Work:
    """Read, vet and (unless the store already has it) extract one file."""
    try:
        letter = read_letter(Path(path), max_bytes=_config.max_bytes)
    except LetterError as err:
        return Work(path, error=err)
    if letter.letter_id in _config.known:
        return Work(path, letter=letter)
    letter.source_path = str(Path(path).resolve())
    extract = _config.extract or _default_extract
    try:
        proposal = extract(letter.text, letter.letter_id)
    except Exception as err:  # the contract says never, but one bad letter must not stop a run
        return Work(path, error=LetterError(path, f"extraction failed: {err!r}"))
    if _config.extractor is not None:
        proposal = proposal.model_copy(update={"extractor": _config.extractor})
    return Work(path, letter=letter, proposal=proposal)


def _results(files: Sequence[Path], config: _Config, jobs: int) -> Iterator[Work]:
    paths = [str(p) for p in files]
    # Chunks amortise the pickling round trip; small enough that progress still moves.
    chunk = max(1, min(32, len(paths) // (jobs * 8) or 1))
    yield from ordered_map(
        process,
        paths,
        jobs=jobs if len(paths) >= 2 else 1,
        chunk=chunk,
        initializer=_configure,
        initargs=(config,),
        preload=["imrgold.core.ingest", "imrgold.core.extract"],
    )


# ---------------------------------------------------------------------------------------------
# The run.


def ingest(
    files: Sequence[Path],
    sink: Sink,
    *,
    known: Iterable[str] = (),
    jobs: int = 1,
    max_bytes: int = DEFAULT_MAX_BYTES,
    extract: Extractor | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> Iterator[Outcome]:
    """One `Outcome` per file, in order, saving each new letter with its proposal as it comes.

    ``known`` are letter ids already stored (their files are read and hashed, not extracted);
    ``extract`` must be a top-level function when ``jobs > 1``.
    """
    clock = now or (lambda: dt.datetime.now(dt.UTC))
    stamp = fingerprint() if extract is None else None
    config = _Config(max_bytes, frozenset(known), extract, stamp)
    first_seen: dict[str, str] = {}
    for work in _results(files, config, jobs):
        yield _settle(work, sink, first_seen, clock)


def _settle(
    work: Work, sink: Sink, first_seen: dict[str, str], clock: Callable[[], dt.datetime]
) -> Outcome:
    if work.error is not None:
        return Outcome(work.path, "skipped", str(work.error), work.error.reason)
    letter = work.letter
    assert letter is not None
    if letter.letter_id in first_seen:
        return _duplicate(work.path, letter.letter_id, f"{first_seen[letter.letter_id]}, not added")
    stored_as = sink.known_name(letter.letter_id)
    if stored_as is None and work.proposal is not None:
        letter = letter.model_copy(update={"ingested_at": clock()})
        if sink.save(letter, work.proposal):
            first_seen[letter.letter_id] = work.path
            failure = work.proposal.failure_note
            message = (
                f"{work.path}: added, but the machine proposed nothing ({failure}); flagged "
                "for a person"
                if failure
                else ""
            )
            return Outcome(work.path, "added", message, letter_id=letter.letter_id)
        stored_as = sink.known_name(letter.letter_id)
    if stored_as is not None and sink.restore(letter):
        first_seen[letter.letter_id] = work.path
        message = f"{work.path}: restored the text of {stored_as}, which the store had lost"
        return Outcome(work.path, "restored", message, letter_id=letter.letter_id)
    return _duplicate(
        work.path, letter.letter_id, f"{stored_as or 'a letter'}, already in the store"
    )


def _duplicate(path: str, letter_id: str, of: str) -> Outcome:
    return Outcome(path, "duplicate", f"{path}: duplicate of {of}", "duplicate", letter_id)
