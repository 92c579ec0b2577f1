"""Reading one letter file: encodings, PDFs, identity and every way a file can be unusable."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imrgold.core.reading import (
    LetterError,
    check_letter_text,
    decode_text,
    pdf_text,
    read_letter,
    strip_page_furniture,
)
from tests.letter_files import damaged_pdf, encrypted_pdf, pdf_bytes, write

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED_PDFS = sorted((ROOT / "fixtures" / "pdf").glob("*.pdf"))
LETTERS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "letters").glob("*.txt"))


@pytest.fixture(scope="module")
def letter_text() -> str:
    # A letter with non-ASCII text, so encodings make a difference.
    for path in LETTERS:
        text = path.read_text(encoding="utf-8")
        if any(ord(c) > 127 for c in text):
            return text
    pytest.skip("no fixture letter with non-ASCII text")


@pytest.fixture(scope="module")
def clean_text() -> str:
    """A fixture letter's text made representable in Windows-1252 and Latin-1."""
    text = LETTERS[0].read_text(encoding="utf-8")
    return text.encode("latin-1", "replace").decode("latin-1") + "\nCafé §5 ± ½\n"


def test_every_fixture_letter_reads_with_sha256_of_its_bytes():
    for path in LETTERS:
        letter = read_letter(path)
        assert letter.letter_id == hashlib.sha256(path.read_bytes()).hexdigest()
        assert letter.name == path.name
        assert letter.n_bytes == path.stat().st_size
        assert letter.text == path.read_text(encoding="utf-8").replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("codec", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("cp1252", "cp1252"),
    ],
)
def test_encodings_decode_to_the_same_text(tmp_path, clean_text, codec, expected):
    path = write(tmp_path / f"letter-{codec}.txt", clean_text.encode(codec))
    letter = read_letter(path)
    assert letter.text == clean_text
    assert letter.encoding == expected
    assert not letter.text.startswith("\ufeff")


def test_windows_1252_punctuation_is_read_as_such(tmp_path, clean_text):
    text = clean_text + "The patient\u2019s \u201cpain\u201d \u2013 7/10\u2026\n"
    letter = read_letter(write(tmp_path / "smart.txt", text.encode("cp1252")))
    assert letter.encoding == "cp1252"
    assert "patient\u2019s \u201cpain\u201d \u2013 7/10\u2026" in letter.text


def test_latin1_only_bytes_fall_back_to_latin1(tmp_path, clean_text):
    # 0x81 is undefined in Windows-1252, so only Latin-1 can read this file.
    data = clean_text.encode("latin-1") + b"\x81\n"
    letter = read_letter(write(tmp_path / "latin.txt", data))
    assert letter.encoding == "latin-1"
    assert letter.text == clean_text + "\x81\n"


def test_mojibake_is_kept_for_the_extractor_to_repair(tmp_path, letter_text):
    damaged = letter_text + "\nLabor Code Â§Â§ 4610.5\n"
    letter = read_letter(write(tmp_path / "moji.txt", damaged))
    assert "Â§Â§ 4610.5" in letter.text


def test_crlf_becomes_lf_and_hash_stays_on_bytes(tmp_path, letter_text):
    data = letter_text.replace("\n", "\r\n").encode("utf-8")
    letter = read_letter(write(tmp_path / "dos.txt", data))
    assert "\r" not in letter.text
    assert letter.text == letter_text
    assert letter.letter_id == hashlib.sha256(data).hexdigest()


def test_pdf_text_layer_is_read_with_page_breaks(tmp_path):
    text = LETTERS[0].read_text(encoding="utf-8").encode("ascii", "ignore").decode()
    path = write(tmp_path / "letter.pdf", pdf_bytes(text, pages=2))
    letter = read_letter(path)
    assert letter.encoding == "pdf"
    assert letter.text.count("\f") == 1
    assert "IMR ISSUES, DECISIONS AND RATIONALES" in letter.text
    assert letter.letter_id == hashlib.sha256(path.read_bytes()).hexdigest()


def _problem(path: Path, **kwargs) -> str:
    with pytest.raises(LetterError) as caught:
        read_letter(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return caught.value.problem


def test_bad_files_each_get_one_line(tmp_path, letter_text):
    head, _, _ = letter_text.partition("IMR ISSUES")
    issues_only = head + "IMR ISSUES, DECISIONS AND RATIONALES\nThe Final Determination was"
    ascii_text = letter_text.encode("ascii", "ignore").decode()
    cases = {
        "empty.txt": (b"", "empty file"),
        "blank.md": (b"\n  \n\t\n", "empty file"),
        "binary.txt": (os.urandom(4096) + b"\x00" * 64, "binary file"),
        "recipe.txt": (b"Pancakes\n\nMix flour, eggs.\n", "not an IMR determination letter"),
        "cut.txt": (head.encode(), "truncated letter: no IMR ISSUES"),
        "undecided.txt": (issues_only.encode(), "truncated letter: no Upheld/Overturned"),
        "scan.pdf": (pdf_bytes(None), "needs OCR"),
        "cut.pdf": (pdf_bytes(ascii_text)[:400], "truncated PDF: the file ends before"),
        "damaged.pdf": (damaged_pdf(pdf_bytes(ascii_text)), "broken PDF: damaged structure"),
        "locked.pdf": (
            encrypted_pdf(pdf_bytes(ascii_text), password="s3cret", algorithm="AES-256"),
            "encrypted PDF: needs a password",
        ),
        "fake.pdf": (letter_text.encode(), "not a PDF: no %PDF- header"),
    }
    for name, (data, expected) in cases.items():
        problem = _problem(write(tmp_path / name, data))
        assert problem.startswith(expected), (name, problem)


def test_size_limit(tmp_path, letter_text):
    path = write(tmp_path / "big.txt", letter_text)
    assert _problem(path, max_bytes=1000).startswith("too large: over the 1000 bytes limit")
    assert read_letter(path, max_bytes=len(letter_text.encode()))


def test_missing_and_folder(tmp_path):
    assert _problem(tmp_path / "nope.txt") == "no such file"
    (tmp_path / "dir.txt").mkdir()
    assert _problem(tmp_path / "dir.txt") == "is a folder, not a file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path, letter_text):
    path = write(tmp_path / "locked.txt", letter_text)
    path.chmod(0)
    assert _problem(path) == "cannot read: permission denied"


def test_unreadable_file_as_the_os_reports_it(tmp_path, letter_text, monkeypatch):
    path = write(tmp_path / "locked.txt", letter_text)
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    assert _problem(path) == "cannot read: permission denied"


def test_check_can_be_turned_off_for_extraction_of_fragments(tmp_path):
    path = write(tmp_path / "note.txt", "Pancakes\n")
    assert read_letter(path, check=False).text == "Pancakes\n"


def test_letter_error_survives_pickling_for_worker_processes():
    err = pickle.loads(pickle.dumps(LetterError("/x/y.txt", "empty file")))
    assert str(err) == "/x/y.txt: empty file"
    assert err.path == "/x/y.txt" and err.problem == "empty file"


def test_check_accepts_markdown_layout_with_mixed_case():
    text = "### imr issues, decisions and rationales\n**Norco 10/325 #60:** overturned\nMAXIMUS\n"
    check_letter_text(text)


def test_decode_text_rejects_control_heavy_latin1():
    with pytest.raises(LetterError, match="binary file"):
        decode_text(bytes(range(1, 32)) * 50 + b"\x81\x8d" * 50)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert _problem(fifo) == "not a regular file"


def test_encrypted_pdf_needs_a_password(tmp_path):
    text = LETTERS[0].read_text(encoding="utf-8").encode("ascii", "ignore").decode()
    for algorithm in ("RC4-128", "AES-128", "AES-256"):
        locked = encrypted_pdf(pdf_bytes(text), password="secret", algorithm=algorithm)
        path = write(tmp_path / f"locked-{algorithm}.pdf", locked)
        assert _problem(path) == "encrypted PDF: needs a password", algorithm


def test_aes_pdf_with_an_empty_password_opens_as_the_state_publishes_it(tmp_path):
    text = LETTERS[0].read_text(encoding="utf-8").encode("ascii", "ignore").decode()
    plain = read_letter(write(tmp_path / "plain.pdf", pdf_bytes(text, pages=2)))
    for algorithm in ("AES-128", "AES-256"):
        data = encrypted_pdf(pdf_bytes(text, pages=2), password="", algorithm=algorithm)
        letter = read_letter(write(tmp_path / f"open-{algorithm}.pdf", data))
        assert letter.text == plain.text


def test_real_published_pdfs_are_encrypted_and_read_in_page_order():
    for path in PUBLISHED_PDFS:
        data = path.read_bytes()
        assert b"/Encrypt" in data, path
        letter = read_letter(path)
        pages = letter.text.split("\f")
        assert len(pages) >= 2, path
        assert pages[0].startswith("Case Number:"), path
        assert all(page.endswith("\n") for page in pages[:-1]), path
        assert "\r" not in letter.text and "\x02" not in letter.text, path
        # Page order: the issues section comes after the summary, the last rationale last.
        assert letter.text.index("CLINICAL CASE SUMMARY") < letter.text.index("IMR ISSUES")
        assert "medically necessary" in pages[-1] or "guideline" in pages[-1].lower(), path


def test_a_word_hyphenated_at_a_line_end_keeps_its_hyphen():
    # PDFium marks it with U+0002 and joins the lines; the letter wrote "follow-up".
    letter = read_letter(ROOT / "fixtures" / "pdf" / "CM16-0249536.pdf")
    assert "follow-\nup visit" in letter.text


def test_page_furniture_is_dropped_and_text_kept():
    bodies = [[f"page {n} line {i}: is not medically necessary." for i in range(5)] for n in "abcd"]
    pages = [
        "\n".join(["MAXIMUS Federal Services  CM16-0000001", *body, f"Page {n} of 4", ""])
        for n, body in enumerate(bodies, start=1)
    ]
    out = strip_page_furniture(pages)
    for page, body in zip(out, bodies, strict=True):
        assert page.split("\n") == [*body, ""]
    # Two pages that merely end alike keep their lines; only a page's own number goes.
    two = ["a\nis not medically necessary.\n1", "b\nis not medically necessary.\n7"]
    assert strip_page_furniture(two) == ["a\nis not medically necessary.", two[1]]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_decode_or_raise_a_letter_error(data):
    try:
        text, encoding = decode_text(data)
    except LetterError as err:
        assert "\n" not in str(err)
    else:
        assert encoding in {"utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"}
        assert "\r" not in text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1))
def test_utf8_text_reads_back_unchanged(text):
    if not text.strip() or text.startswith("\ufeff"):
        return
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=1024))
def test_any_bytes_after_a_pdf_header_raise_only_letter_errors(tail):
    try:
        pdf_text(b"%PDF-1.4\n" + tail)
    except LetterError as err:
        assert "\n" not in str(err)
