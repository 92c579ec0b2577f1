"""Private files, written so that neither a crash nor a planted link can make them go wrong.

Letters carry health information, so every file the tool writes is its owner's alone (0600,
folders 0700) whatever the umask.  A file is replaced atomically: the data goes to a temporary
file with a random name in the target's folder, created exclusively (``O_EXCL``) and without
following links (``O_NOFOLLOW``), then renamed over the target.  A symbolic link planted at the
temporary name makes the creation fail instead of writing through it, and a link at the target
itself is replaced, never followed.  A target that is a device, FIFO or folder is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from imrgold.core import environment

FILE_MODE = 0o600
DIR_MODE = 0o700
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeTarget(OSError):
    """The path to write is not a regular file (a device, FIFO, folder or a link to one)."""


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents 0700 (whatever the umask); leave existing folders'
    modes alone.  Iterative: a deep path cannot exhaust the stack."""
    missing = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
            os.chmod(folder, DIR_MODE, follow_symlinks=False)
    return path


def check_target(path: Path) -> None:
    """Refuse a target that is not absent or a regular file (a symlink itself is fine: the
    rename replaces the link, it does not write through it)."""
    try:
        info = os.stat(path)  # what a link points at: /dev/stdout is a link to a device
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as err:
        if os.path.islink(path):
            return  # a dangling or looping link: the rename replaces the link itself
        raise err
    if stat.S_ISREG(info.st_mode):
        return
    kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device or FIFO, not a file"
    raise UnsafeTarget(f"{path} is {kind}")


def new_private_file(folder: Path, name: str, *, readable: bool = False) -> tuple[int, Path]:
    """A new 0600 file with a random name derived from ``name`` in ``folder``, created
    exclusively and without following links (open for reading too if ``readable``):
    (descriptor, path)."""
    flags = (_NEW & ~os.O_WRONLY) | os.O_RDWR if readable else _NEW
    for _ in range(16):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, flags, FILE_MODE)
        except FileExistsError:
            continue
        os.fchmod(fd, FILE_MODE)  # the umask cannot widen it, but an inherited ACL could
        return fd, tmp
    raise FileExistsError(f"{folder}: no free temporary name")


def atomic_write(
    path: Path,
    data: bytes | Iterable[bytes],
    *,
    durable: bool = True,
    sync_dir: bool = True,
) -> None:
    """Replace ``path`` with ``data`` (0600) so that any crash leaves the old or the new bytes.

    ``data`` may come in chunks (an export streams its lines): if producing them fails, the
    temporary file goes and ``path`` is untouched.  ``sync_dir=False`` leaves fsyncing the folder
    (which makes the rename durable) to the caller, who may write many files into one folder and
    sync it once.
    """
    check_target(path)
    private_dir(path.parent)
    fd, tmp = new_private_file(path.parent, path.name)
    try:
        for chunk in [data] if isinstance(data, bytes | bytearray) else data:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable and sync_dir:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` of a store-owned file (journal, lock) that never follows a link: a link
    planted there raises `UnsafeTarget` instead of truncating or appending to its target."""
    try:
        # O_NONBLOCK: a FIFO planted there must not hang the open; files ignore it.
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, FILE_MODE)
    except OSError as err:
        if os.path.islink(path):
            raise UnsafeTarget(f"{path} is a symbolic link; the store does not follow it") from err
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeTarget(f"{path} is not a regular file")
    os.set_blocking(fd, True)
    return fd


def os_problem(err: OSError) -> str:
    """An OS error in words, with the file it concerns: "/x/y: Read-only file system"."""
    what = err.strerror or type(err).__name__
    if err.filename is not None:
        return f"{err.filename}: {what}"
    return str(err) if err.strerror is None else what


def move_aside(path: Path) -> Path:
    """Rename a damaged file to ``<name>.damaged-<UTC time>`` beside it, so nothing writes over
    it and it can still be read; the new path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    return aside


APP = "imrgold"


def user_data_dir() -> Path:
    """The user's imrgold data folder (learned drug names, supplements): ``$IMRGOLD_DATA_DIR``,
    else the platform's data folder."""
    env = environment.get(environment.Var.DATA_DIR)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


# The user's own drug names, which the lexicon adds to the dictionary's (core.lexicon).
USER_SUPPLEMENT_FILE = "drug_supplement.json"
LEARNED_FILE = "learned_drugs.json"


def user_supplement_path() -> Path:
    return user_data_dir() / USER_SUPPLEMENT_FILE


def learned_path() -> Path:
    return user_data_dir() / LEARNED_FILE


def user_config_dir() -> Path:
    """The user's settings (the keymap): ``$IMRGOLD_CONFIG_DIR``, else the platform's config
    folder."""
    env = environment.get(environment.Var.CONFIG_DIR)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def user_cache_dir() -> Path:
    """Where derived tables are kept between runs: ``$IMRGOLD_CACHE_DIR``, else the platform's
    cache folder."""
    env = environment.get(environment.Var.CACHE_DIR)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))
