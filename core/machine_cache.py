"""The extractor's proposals kept between runs, so `imrgold agreement` (machine as it is now)
extracts a letter once, not on every run: 10,000 letters took a minute, nearly all of it
extracting letters whose text and extractor had not changed.

Each letter's proposed values (what ``Proposal.fields`` holds as ``value``s: JSON-shaped, dates
as ISO strings) are kept under the sha256 of its text, in one JSON Lines file in the user's
cache folder (0600, folder 0700; never a pickle), named after the extractor's fingerprint: a
hash of the extraction code and data (every ``core`` module and ``core/data`` file), the
versions of the drug dictionary and ICD-10-CM packages, and the user's own drug names (learned
and supplement), which change what is proposed.  A changed extractor reads another file, and the
old one is removed when the new one is written.  A file that does not read as one is ignored
with a warning and rewritten; the cache can only cost speed, never a wrong proposal.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

from imrgold.core.files import atomic_write, private_dir, user_cache_dir

log = logging.getLogger(__name__)

FORMAT = 1
_CORE = Path(__file__).resolve().parent
_PACKAGES = ("drug-named-entity-recognition", "simple-icd-10-cm")
Values = dict[str, Any]


def _user_drug_files() -> list[Path]:
    from imrgold.core.lexicon import learned_path, user_supplement_path

    return [learned_path(), user_supplement_path()]


@functools.cache
def _code_digest() -> str:
    """The extraction code and data, read once a process."""
    digest = hashlib.sha256()
    for path in sorted([*_CORE.glob("*.py"), *(_CORE / "data").glob("*")]):
        digest.update(f"{path.relative_to(_CORE)}\0".encode())
        digest.update(path.read_bytes())
    for package in _PACKAGES:
        try:
            digest.update(f"{package}={version(package)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{package} missing\0".encode())
    digest.update(os.environ.get("IMRGOLD_DRUG_DICTIONARY", "").encode())
    return digest.hexdigest()


def fingerprint() -> str:
    """What the proposals depend on besides the letter's text."""
    digest = hashlib.sha256(_code_digest().encode())
    for path in _user_drug_files():
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


class ProposalCache:
    """Proposed values by letter text, read from the cache file when the extractor is the one
    that wrote it, extracted (and kept for `save`) otherwise."""

    def __init__(
        self,
        folder: Path | None = None,
        extract: Callable[[str, str], Values] | None = None,
    ) -> None:
        self.folder = folder or user_cache_dir()
        self.path = self.folder / f"proposals-{fingerprint()}.jsonl"
        self._extract = extract or _extract_values
        self._lines: dict[str, bytes] = {}
        self._changed = False
        self.hits = self.misses = 0
        self._read()

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as err:
            self._damaged(f"unreadable ({err})")
            return
        lines = data.splitlines()
        try:
            header = orjson.loads(lines[0]) if lines else None
        except ValueError:
            header = None
        if header != {"format": FORMAT}:
            self._damaged("not a proposal cache of this version")
            return
        # Each entry is parsed when its letter is asked for: 10,000 letters' values held as
        # bytes take a fifth of the memory of the parsed dicts.
        for line in lines[1:]:
            if line[:2] != b'["' or line[66:68] != b'",':
                self._damaged("an entry is not [text digest, values]")
                return
            self._lines[line[2:66].decode("ascii")] = line

    def _damaged(self, why: str) -> None:
        log.warning("proposal cache %s %s; extracting again", self.path, why)
        self._lines.clear()
        self._changed = True

    def _cached(self, digest: str) -> Values | None:
        line = self._lines.get(digest)
        if line is None:
            return None
        try:
            found, values = orjson.loads(line)
            if found != digest or not isinstance(values, dict):
                raise ValueError("an entry is not [text digest, values]")
        except (ValueError, TypeError) as err:
            # That entry alone: the others are read and checked on their own.
            log.warning("proposal cache %s damaged (%s); extracting again", self.path, err)
            del self._lines[digest]
            self._changed = True
            return None
        return values

    def values(self, text: str, letter_id: str) -> Values:
        """The machine's proposed values for this letter text."""
        digest = text_digest(text)
        found = self._cached(digest)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        values = self._extract(text, letter_id)
        # Kept only when JSON gives back the same values (anything else is extracted each time).
        try:
            line = orjson.dumps([digest, values])
            same = orjson.loads(line)[1] == values
        except TypeError:
            same = False
        if same:
            self._lines[digest] = line
            self._changed = True
        return values

    def save(self) -> None:
        """Write the file when anything was added (or the old one was damaged), removing the
        files of other extractor versions; a folder it cannot write only costs speed."""
        if not self._changed:
            return
        body = b"\n".join([orjson.dumps({"format": FORMAT}), *self._lines.values()]) + b"\n"
        try:
            private_dir(self.folder)
            for stale in self.folder.glob("proposals-*.jsonl"):
                if stale != self.path:
                    stale.unlink(missing_ok=True)
            atomic_write(self.path, body, durable=False)
        except OSError as err:
            log.warning(
                "proposal cache not written to %s (%s); only speed is lost", self.folder, err
            )
            return
        self._changed = False
