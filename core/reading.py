"""Reading one letter file into a `Letter`, or saying in one line why it cannot be used.

What `Letter.text` is, since every span indexes into it: the file's bytes decoded (UTF-8, UTF-8
or UTF-16 with a BOM, else Windows-1252, else Latin-1), the BOM dropped and ``\\r\\n`` / ``\\r``
turned into ``\\n``; nothing else.  Mojibake such as ``Â§`` is *kept*: repairing it here would
make the text differ from what the file says, and the extractor repairs values while keeping
offsets into this text.  For a PDF it is PDFium's text layer without page furniture, pages
joined by form feeds (``\\f``, as pdftotext does).

`letter_id` is the sha256 of the file's bytes, so the same letter under another name is the
same letter and a changed file is a new one.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import stat
import threading
from pathlib import Path
from typing import Any

from imrgold.core.models import Letter

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
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.4g} {unit}"
        size /= 1024
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


# PDFium replaces a hyphen at a line end that it takes to split a word ("follow-" / "up") with
# U+0002 (U+FFFE in its range text) and joins the two lines.  The hyphen is the letter's own
# ("follow-up", "FDA-approved", "anti-inflammatories"), so it goes back with its line break, and
# repair folds the break away as it does for every line-end hyphen.
_PDFIUM_HYPHEN = re.compile("[\x02\ufffe]")
# PDFium is not thread-safe; the interface reads letters from worker threads.
_PDFIUM_LOCK = threading.Lock()


def pdf_text(data: bytes, path: Path | str = "<bytes>") -> str:
    """The text layer of a PDF, pages joined by form feeds; `LetterError` when there is none.

    Read with PDFium (pypdfium2), which opens the state's AES-encrypted letters (empty user
    password) as they are.  Each page's text ends with a line break and the next page starts with
    ``\\f``, as pdftotext writes it; lines that repeat at the top or bottom of the pages (page
    numbers, running headers and footers) are dropped by `strip_page_furniture`.
    """
    if b"%PDF-" not in data[:1024]:
        raise LetterError(path, "not a PDF: no %PDF- header", "not a PDF")
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            raise _open_error(data, path, err) from None
        try:
            pages = [_page_text(document, i) for i in range(len(document))]
        except pdfium.PdfiumError as err:
            raise LetterError(path, f"broken PDF: {_first_line(err)}") from None
        finally:
            document.close()
    if not pages:
        raise LetterError(path, "broken PDF: no pages")
    pages = strip_page_furniture(pages)
    text = "\f".join(page if page.endswith("\n") or not page else page + "\n" for page in pages)
    if not text.strip():
        raise LetterError(path, "needs OCR: the PDF has no text layer")
    return text


def _page_text(document: Any, index: int) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            raw = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    return _PDFIUM_HYPHEN.sub("-\n", raw.replace("\r\n", "\n").replace("\r", "\n"))


def _open_error(data: bytes, path: Path | str, err: Exception) -> LetterError:
    """The one-line reason PDFium could not open a file (its error codes, in words)."""
    import pypdfium2.raw as pdfium_c

    code = getattr(err, "err_code", None)
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return LetterError(path, "encrypted PDF: needs a password")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return LetterError(path, "encrypted PDF: unsupported security handler")
    if b"%%EOF" not in data[-2048:]:
        return LetterError(path, "truncated PDF: the file ends before its end-of-file marker")
    if code == pdfium_c.FPDF_ERR_FORMAT:
        return LetterError(path, "broken PDF: damaged structure (not readable as a PDF)")
    return LetterError(path, f"broken PDF: {_first_line(err)}")


# A page number alone on a line, in the forms letters and word processors print; group 1 is the
# number, which must be the page's own for the line to go.
_PAGE_NUMBER = re.compile(
    r"(?:page\s*)?(\d{1,3})(?:\s*(?:of|/)\s*\d{1,3})?|-\s*(\d{1,3})\s*-|(\d{1,3})\s*\|\s*page",
    re.IGNORECASE,
)
_FURNITURE_LINES = 3
"""How many non-blank lines at each end of a page may be furniture."""


def _furniture_key(line: str) -> str:
    # A running header that carries the page number ("CM16-0237844  Page 2 of 4") differs only
    # in its digits from page to page.
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def _is_page_number(line: str, page_number: int) -> bool:
    match = _PAGE_NUMBER.fullmatch(line.strip())
    return match is not None and int(next(g for g in match.groups() if g)) == page_number


def strip_page_furniture(pages: list[str]) -> list[str]:
    """Pages without their page numbers and the running headers and footers.

    Within the first or last `_FURNITURE_LINES` non-blank lines of a page, a line goes when it is
    the page's own number ("3", "Page 3 of 4", "- 3 -"), or when a line of the same shape (digits
    aside) stands at the same end of every page but at most one, and of three pages at least.  Two
    pages are too few to tell a footer from two pages that happen to end alike ("is not medically
    necessary."), so there only page numbers go.
    """
    split = [page.split("\n") for page in pages]
    edges: list[tuple[list[int], list[int]]] = []
    for lines in split:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        edges.append((filled[:_FURNITURE_LINES], filled[-_FURNITURE_LINES:]))
    repeated: set[tuple[int, str]] = set()
    if len(pages) >= 3:
        for end in (0, 1):
            counts: dict[str, int] = {}
            for lines, edge in zip(split, edges, strict=True):
                for key in {_furniture_key(lines[i]) for i in edge[end]}:
                    counts[key] = counts.get(key, 0) + 1
            repeated |= {(end, key) for key, n in counts.items() if n >= max(3, len(pages) - 1)}
    out = []
    for number, (lines, edge) in enumerate(zip(split, edges, strict=True), start=1):
        drop = {
            i
            for end in (0, 1)
            for i in edge[end]
            if (end, _furniture_key(lines[i])) in repeated or _is_page_number(lines[i], number)
        }
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return out


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
