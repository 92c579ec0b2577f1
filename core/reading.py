"""Reading one letter file into a `Letter`, or saying in one line why it cannot be used.

What `Letter.text` is, since every span indexes into it: the file's bytes decoded (UTF-8, UTF-8
or UTF-16 with a BOM, else Windows-1252, else Latin-1), the BOM dropped and ``\\r\\n`` / ``\\r``
turned into ``\\n``; nothing else.  Mojibake such as ``Â§`` is *kept*: repairing it here would
make the text differ from what the file says, and the extractor repairs values while keeping
offsets into this text.  For a PDF it is pypdf's text layer, pages joined by form feeds
(``\\f``, as pdftotext does).

`letter_id` is the sha256 of the file's bytes, so the same letter under another name is the
same letter and a changed file is a new one.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
import stat
from pathlib import Path

from core.models import Letter

SUFFIXES: tuple[str, ...] = (".txt", ".md", ".pdf")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Real letters are 3-30 kB as text and well under 1 MB as PDF; 20 MB leaves room for scans."""

# Unicode's control characters (category Cc) except the whitespace a letter may hold: tab, line
# breaks, vertical tab and the form feeds pdftotext puts between pages.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_BINARY_CONTROL_RATIO = 0.01

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Evidence that a text is an IMR determination letter; OCR and markup vary, so any two will do.
_IMR_MARKERS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bMAXIMUS\b",
        r"\bIndependent\s+Medical\s+Review\b|\bIMR\b",
        r"\bCLINICAL\s+CASE\s+SUMMARY\b",
        r"\bCase\s+Number\b|\bCM\d{2}-\d{7}\b",
        r"\bFINAL\s+DETERMINATION\b",
        r"\b(?:physician|expert)\s+reviewer\b",
    )
)
_ISSUES_HEADING = re.compile(r"\bIMR\s+ISSUES\b", re.IGNORECASE)
_DECISION = re.compile(r"\b(?:upheld|overturned)\b", re.IGNORECASE)


class LetterError(Exception):
    """A file that cannot be ingested; ``str()`` is one line: ``PATH: problem``."""

    def __init__(self, path: Path | str, problem: str, reason: str | None = None) -> None:
        self.path = str(path)
        self.problem = " ".join(problem.split())
        # The short kind ("empty file", "broken PDF") a run's summary counts skipped files by.
        self.reason = reason or re.split(r"[:,]", self.problem, maxsplit=1)[0]
        super().__init__(f"{self.path}: {self.problem}")

    def __reduce__(self):  # keep it picklable across worker processes
        return (type(self), (self.path, self.problem, self.reason))


def read_letter(
    path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, check: bool = True
) -> Letter:
    """Read, decode and (with ``check``) vet one letter file.

    Raises `LetterError` for an unreadable, empty, oversized, binary, broken or image-only file,
    and, with ``check``, for a text that is not an IMR letter or is cut short.
    """
    path = Path(path)
    data = _read_bytes(path, max_bytes)
    if path.suffix.lower() == ".pdf":
        text, encoding = pdf_text(data, path), "pdf"
    else:
        text, encoding = decode_text(data, path)
    if check:
        check_letter_text(text, path)
    return Letter(
        letter_id=hashlib.sha256(data).hexdigest(),
        name=path.name,
        source_path=str(path),
        text=text,
        encoding=encoding,
        n_bytes=len(data),
    )


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    too_large = LetterError(path, f"too large: over the {_size(max_bytes)} limit")
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        # A FIFO or device would block or never end: only plain files are letters.
        if not stat.S_ISREG(info.st_mode):
            raise LetterError(path, "not a regular file")
        if info.st_size > max_bytes:
            raise too_large
        with path.open("rb") as fh:
            # Read one byte past the limit rather than trusting stat(): files can grow.
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise LetterError(path, "no such file") from None
    except IsADirectoryError:
        raise LetterError(path, "is a folder, not a file") from None
    except PermissionError:
        raise LetterError(path, "cannot read: permission denied") from None
    except OSError as err:
        raise LetterError(path, f"cannot read: {err.strerror or err}") from None
    if len(data) > max_bytes:
        raise too_large
    if not data.strip():
        raise LetterError(path, "empty file")
    return data


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.4g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def decode_text(data: bytes, path: Path | str = "<bytes>") -> tuple[str, str]:
    """``(text, encoding)`` of a text file's bytes; `LetterError` if they are not text."""
    text, encoding = _decode(data)
    if encoding not in ("utf-16",) and b"\x00" in data:
        raise LetterError(path, "binary file, not text")
    if _control_ratio(text) > _BINARY_CONTROL_RATIO:
        raise LetterError(path, "binary file, not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LetterError(path, "empty file")
    return text, encoding


def _decode(data: bytes) -> tuple[str, str]:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: a Windows export is far likelier than ISO-8859-1, whose 0x80-0x9F are controls;
    # cp1252 leaves five bytes undefined, and a file using them can only be Latin-1.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:65536]
    return len(_CONTROLS.findall(sample)) / len(sample)


def pdf_text(data: bytes, path: Path | str = "<bytes>") -> str:
    """The text layer of a PDF, pages joined by form feeds; `LetterError` when there is none."""
    if b"%PDF-" not in data[:1024]:
        raise LetterError(path, "broken PDF: no PDF header")
    from pypdf import PdfReader

    # pypdf logs every repair it makes to a damaged file; the one-line error is enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LetterError(path, "encrypted PDF: needs a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LetterError:
        raise
    except Exception as err:  # pypdf raises many types for malformed files
        raise LetterError(path, f"broken PDF: {_first_line(err)}") from None
    if not pages:
        raise LetterError(path, "broken PDF: no pages")
    text = "\f".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LetterError(path, "needs OCR: the PDF has no text layer")
    return text


def _first_line(err: BaseException) -> str:
    message = str(err).strip().splitlines()
    return message[0] if message and message[0] else type(err).__name__


def check_letter_text(text: str, path: Path | str = "<text>") -> None:
    """`LetterError` unless the text is an IMR letter with its issues and at least one decision."""
    heading = _ISSUES_HEADING.search(text)
    if heading is None:
        if sum(1 for pattern in _IMR_MARKERS if pattern.search(text)) < 2:
            raise LetterError(path, "not an IMR determination letter")
        raise LetterError(path, "truncated letter: no IMR ISSUES, DECISIONS AND RATIONALES section")
    if not _DECISION.search(text, heading.end()):
        raise LetterError(path, "truncated letter: no Upheld/Overturned decision under IMR ISSUES")
