"""Files for the reading and ingest tests, built on the spot (no network, no binary fixtures)."""

from __future__ import annotations

from pathlib import Path


def _pdf_string(line: str) -> str:
    return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(text: str | None, *, pages: int = 1) -> bytes:
    """A minimal PDF: with ``text``, a Helvetica text layer holding its lines (split evenly over
    ``pages``); with None, pages that draw nothing, as a scan without OCR would look to pypdf."""
    lines = text.splitlines() if text is not None else []
    per_page = max(1, -(-len(lines) // pages))
    chunks = [lines[i * per_page : (i + 1) * per_page] for i in range(pages)]
    n_fixed = 3  # catalog, page tree, font
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in once page numbers are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for chunk in chunks:
        ops = ["BT", "/F1 9 Tf", "11 TL", "40 800 Td"]
        ops += [f"{_pdf_string(line)} Tj T*" for line in chunk]
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252", "replace") if text is not None else b""
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_ref = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % content_ref
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    assert len(objects) == n_fixed + 2 * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def encrypted_pdf(plain: bytes, *, password: str, algorithm: str = "AES-128") -> bytes:
    """``plain`` encrypted with the standard security handler as the state publishes letters
    (AES, empty user password) or, with a ``password``, as a PDF that needs one to open."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password=password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def damaged_pdf(plain: bytes) -> bytes:
    """``plain`` with its objects and cross-reference table overwritten, header and end kept."""
    body = bytearray(plain)
    for i in range(16, len(body) - 16):
        body[i] = 0x20 if body[i] in b"\n\r" else ord("x")
    return bytes(body)
