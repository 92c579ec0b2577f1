"""`imrgold ingest` as a user runs it: mixed folders, bad files, duplicates, PDFs, interruptions."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from imrgold.cli.main import main
from tests.letter_files import damaged_pdf, encrypted_pdf, pdf_bytes, write

ROOT = Path(__file__).resolve().parent.parent
LETTERS = sorted((ROOT / "fixtures" / "letters").glob("*.txt"))


@pytest.fixture(autouse=True)
def _isolated(tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("IMRGOLD_DB", str(tmp_path / "env-store" / "imrgold.json"))
    # The drug lexicon takes seconds to build: once a session (and worker processes share it).
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "lexicon-cache"))
    monkeypatch.setenv("IMRGOLD_DATA_DIR", str(tmp_path / "imrgold-data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "store" / "imrgold.json"


def ingest(capsys, db: Path, *args: str | Path) -> tuple[int, str, list[str]]:
    """Exit code, summary (stdout) and the per-file lines (stderr) of one run."""
    code = main(["ingest", "--db", str(db), *map(str, args)])
    out, err = capsys.readouterr()
    return code, out.strip(), [line for line in err.splitlines() if line]


def stored(db: Path) -> dict[str, tuple[str, bool]]:
    """letter_id -> (name, has a proposal) for every letter in the store."""
    from imrgold.store import Store

    if not db.exists():
        return {}
    store = Store.open(db, read_only=True)
    try:
        result = {}
        for summary in store.summaries():
            letter = store.get_letter(summary.letter_id)
            proposal = store.get_proposal(summary.letter_id)
            result[summary.letter_id] = (letter.name, proposal is not None)
        return result
    finally:
        store.close()


def snapshot(db: Path) -> dict[str, tuple[str, str, str]]:
    """Every letter's summary, letter and proposal as JSON: to show a store was left as it was."""
    from imrgold.store import Store

    store = Store.open(db, read_only=True)
    try:
        return {
            s.letter_id: (
                s.model_dump_json(),
                store.get_letter(s.letter_id).model_dump_json(),
                store.get_proposal(s.letter_id).model_dump_json(),
            )
            for s in store.summaries()
        }
    finally:
        store.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_letters(folder: Path, letters: list[Path]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, folder / p.name)) for p in letters]


def ascii_text(path: Path) -> str:
    return path.read_text(encoding="utf-8").encode("ascii", "ignore").decode()


def bad_files(folder: Path) -> dict[Path, str]:
    """Every kind of unusable file, with the problem each must be reported with."""
    text = LETTERS[0].read_text(encoding="utf-8")
    head = text.partition("IMR ISSUES")[0]
    cases = {
        "empty.txt": (b"", "empty file"),
        "binary.txt": (bytes(range(256)) * 16, "binary file, not text"),
        "shopping.md": (b"# Shopping\n\n- eggs\n- milk\n", "not an IMR determination letter"),
        "cut-short.txt": (
            head.encode(),
            "truncated letter: no IMR ISSUES, DECISIONS AND RATIONALES section",
        ),
        "no-decision.txt": (
            (head + "IMR ISSUES, DECISIONS AND RATIONALES\nThe Final").encode(),
            "truncated letter: no Upheld/Overturned decision under IMR ISSUES",
        ),
        "huge.txt": (text.encode() + b" " * (1024 * 1024), "too large: over the 1 MB limit"),
        "scan.pdf": (pdf_bytes(None), "needs OCR: the PDF has no text layer"),
        "cut.pdf": (pdf_bytes(ascii_text(LETTERS[1]))[:500], "truncated PDF:"),
        "damaged.pdf": (damaged_pdf(pdf_bytes(ascii_text(LETTERS[1]))), "broken PDF:"),
        "locked.pdf": (
            encrypted_pdf(pdf_bytes(ascii_text(LETTERS[1])), password="s3cret"),
            "encrypted PDF: needs a password",
        ),
        "not-a.pdf": (b"<html><body>Access denied</body></html>\n", "not a PDF:"),
    }
    expected = {}
    for name, (data, problem) in cases.items():
        expected[write(folder / name, data)] = problem
    return expected


def test_fixture_letters_are_added_with_proposals(capsys, db):
    code, summary, lines = ingest(capsys, db, ROOT / "fixtures" / "letters")
    assert code == 0, lines
    assert summary == f"{len(LETTERS)} files: {len(LETTERS)} added, 0 duplicate, 0 skipped"
    assert lines == []
    contents = stored(db)
    assert set(contents) == {sha(p) for p in LETTERS}
    assert all(has_proposal for _, has_proposal in contents.values())


def test_a_letter_the_extractor_fails_on_is_added_flagged_with_the_rule(
    capsys, caplog, db, monkeypatch
):
    """The machine proposing nothing is never silent: the run says so on the letter's line,
    once (the extractor's own log line would say it twice), and the queue shows it flagged,
    with the rule that failed (issue 15: failures are loud)."""
    import imrgold.core.extract as extract_module
    from imrgold.store import Store

    def tripping(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(extract_module, "_reviewer", tripping)
    letter = LETTERS[0]
    with caplog.at_level(logging.DEBUG):
        code, summary, lines = ingest(capsys, db, letter)
    assert not [r for r in caplog.records if "extraction failed" in r.getMessage()]
    assert code == 0 and summary == "1 file: 1 added, 0 duplicate, 0 skipped"
    assert lines == [
        f"{letter}: added, but the machine proposed nothing (extraction failed in _extract: "
        "IndexError: list index out of range); flagged for a person"
    ]
    with Store.open(db, read_only=True) as store:
        [summary_row] = store.summaries()
        assert summary_row.status == "flagged"
        assert summary_row.comment == (
            "extraction failed in _extract: IndexError: list index out of range"
        )
        assert store.get_proposal(summary_row.letter_id).failure is not None


def _deny_reading(path: Path, monkeypatch) -> None:
    """Make ``path`` unreadable: by its mode, or, for root (who reads anything), as the OS
    would report it."""
    if os.geteuid() != 0:
        path.chmod(0)
        return
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)


def test_every_bad_file_gets_its_line_and_the_store_is_untouched(capsys, db, tmp_path, monkeypatch):
    assert ingest(capsys, db, LETTERS[3])[0] == 0
    before = snapshot(db)
    assert len(before) == 1
    expected = bad_files(tmp_path / "bad")
    locked = write(tmp_path / "bad" / "locked.txt", LETTERS[2].read_bytes())
    _deny_reading(locked, monkeypatch)
    expected[locked] = "cannot read: permission denied"
    code, summary, lines = ingest(capsys, db, tmp_path / "bad", "--max-size", "1")
    assert code == 1
    assert len(lines) == len(expected)
    for path, problem in expected.items():
        assert sum(line.startswith(f"{path}: {problem}") for line in lines) == 1, path
    n = len(expected)
    assert summary.startswith(f"{n} files: 0 added, 0 duplicate, {n} skipped (")
    for count_reason in (
        "1 empty file",
        "1 binary file",
        "2 truncated letter",
        "1 needs OCR",
        "1 broken PDF",
        "1 truncated PDF",
        "1 encrypted PDF",
        "1 not a PDF",
        "1 too large",
        "1 not an IMR determination letter",
        "1 cannot read",
    ):
        assert count_reason in summary
    assert snapshot(db) == before


def test_a_mixed_folder_adds_the_good_and_reports_the_bad(capsys, db, tmp_path):
    folder = tmp_path / "mixed"
    good = copy_letters(folder / "text", LETTERS[:4])
    pdf = write(folder / "pdf" / "from-pdf.pdf", pdf_bytes(ascii_text(LETTERS[4]), pages=2))
    # As the state publishes letters: AES, empty user password; it opens without asking.
    aes = write(
        folder / "pdf" / "published.pdf",
        encrypted_pdf(pdf_bytes(ascii_text(LETTERS[5]), pages=3), password=""),
    )
    renamed = write(folder / "zz-copy-of-first.txt", good[0].read_bytes())
    write(folder / "gold.json", "{}")
    expected = bad_files(folder / "junk")

    code, summary, lines = ingest(capsys, db, folder, "--max-size", "1")

    assert code == 1
    n_bad = len(expected)
    total = len(good) + 2 + 1 + n_bad
    assert summary.startswith(f"{total} files: {len(good) + 2} added, 1 duplicate, {n_bad} skipped")
    assert summary.endswith("; 1 other file ignored")
    assert f"{renamed}: duplicate of {good[0]}, not added" in lines
    for path, problem in expected.items():
        assert sum(line.startswith(f"{path}: {problem}") for line in lines) == 1, path
    contents = stored(db)
    assert set(contents) == {sha(p) for p in [*good, pdf, aes]}
    assert contents[sha(pdf)] == ("from-pdf.pdf", True)
    assert contents[sha(aes)] == ("published.pdf", True)


def test_same_letters_again_or_renamed_add_nothing(capsys, db, tmp_path):
    first = copy_letters(tmp_path / "a", LETTERS[:3])
    assert ingest(capsys, db, *first)[0] == 0
    renamed = write(tmp_path / "b" / "renamed.md", first[1].read_bytes())

    code, summary, lines = ingest(capsys, db, *first, renamed)

    assert code == 0
    assert summary == "4 files: 0 added, 4 duplicate, 0 skipped"
    assert f"{renamed}: duplicate of {first[1].name}, already in the store" in lines
    assert len(stored(db)) == 3
    assert ingest(capsys, db, "-q", *first)[2] == []


def test_a_changed_file_is_a_new_letter(capsys, db, tmp_path):
    (path,) = copy_letters(tmp_path, LETTERS[:1])
    ingest(capsys, db, path)
    path.write_bytes(path.read_bytes().replace(b"Upheld", b"Overturned", 1))
    code, summary, _ = ingest(capsys, db, path)
    assert (code, summary) == (0, "1 file: 1 added, 0 duplicate, 0 skipped")
    assert len(stored(db)) == 2


def test_encodings_and_globs(capsys, db, tmp_path):
    text = LETTERS[0].read_text(encoding="utf-8").encode("latin-1", "replace").decode("latin-1")
    text += "\nThe patient\u2019s pain.\n"
    write(tmp_path / "in" / "win.txt", text.encode("cp1252"))
    write(tmp_path / "in" / "bom.txt", b"\xef\xbb\xbf" + (text + "x").encode("utf-8"))
    write(tmp_path / "in" / "skip.md", "not matched by the glob")
    code, summary, lines = ingest(capsys, db, str(tmp_path / "in" / "*.txt"))
    assert (code, summary, lines) == (0, "2 files: 2 added, 0 duplicate, 0 skipped", [])


def test_missing_path_and_unsupported_file(capsys, db, tmp_path):
    doc = write(tmp_path / "letter.docx", b"PK\x03\x04")
    code, summary, lines = ingest(capsys, db, tmp_path / "nope.txt", doc, str(tmp_path / "*.pdf"))
    assert code == 1
    assert lines == [
        f"{tmp_path / 'nope.txt'}: no such file",
        f"{doc}: not a .txt, .md or .pdf file",
        f"{tmp_path / '*.pdf'}: matches no file",
    ]
    assert summary.startswith("3 files: 0 added, 0 duplicate, 3 skipped")
    assert not db.exists()


def test_parallel_jobs_store_the_same_letters(capsys, tmp_path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    folder = tmp_path / "in"
    copy_letters(folder, LETTERS[::3])
    write(folder / "empty.txt", b"")
    assert ingest(capsys, one, folder)[:2] == ingest(capsys, two, folder, "--jobs", "2")[:2]
    assert stored(one) == stored(two)


def test_an_exception_midway_leaves_whole_letters_and_a_rerun_completes(
    capsys, db, tmp_path, monkeypatch
):
    import imrgold.core.ingest as core_ingest

    files = copy_letters(tmp_path / "in", LETTERS[:6])
    real = core_ingest.process
    calls = []

    def interrupted_after_three(path):
        calls.append(path)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(path)

    monkeypatch.setattr(core_ingest, "process", interrupted_after_three)
    code, summary, _ = ingest(capsys, db, tmp_path / "in")
    assert code == 130
    assert summary == (
        "3 files: 3 added, 0 duplicate, 0 skipped; interrupted, run again to add the rest"
    )
    contents = stored(db)
    assert set(contents) == {sha(p) for p in files[:3]}
    assert all(has for _, has in contents.values())

    monkeypatch.setattr(core_ingest, "process", real)
    code, summary, _ = ingest(capsys, db, tmp_path / "in")
    assert (code, summary) == (0, "6 files: 3 added, 3 duplicate, 0 skipped")
    assert set(stored(db)) == {sha(p) for p in files}


# The ingest command, held (until killed) just before it settles the file named ~stuck.
_HELD_INGEST = """
import sys
import imrgold.core.ingest as core_ingest
from imrgold.cli.main import main

settle = core_ingest._settle

def held(work, *args):
    if work.path.endswith("~stuck.txt"):
        sys.stdin.read()
    return settle(work, *args)

core_ingest._settle = held
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_ingest_leaves_a_consistent_store_and_a_rerun_completes(db, tmp_path):
    # Empty files between good ones make the run print as it goes, so we know how far it got;
    # the run is held further on, so the kill always lands midway. Worker processes too: the
    # kill also shows they leave the store unlocked.
    folder = tmp_path / "in"
    good = copy_letters(folder, LETTERS)
    empties = [write(folder / f"{p.stem}~empty.txt", b"") for p in good[::3]]
    stuck = write(folder / f"{good[12].stem}~stuck.txt", b"")
    env = {**os.environ, "IMRGOLD_DB": str(db), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HELD_INGEST, "ingest", str(folder), "--jobs", "2"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = [proc.stderr.readline() for _ in range(3)]
        assert all(b"empty file" in line for line in lines), lines
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            pipe.close()
    assert proc.returncode == -signal.SIGKILL

    contents = stored(db)
    # Every letter before the third empty file was saved before that line was printed; none
    # after the held file could be, since results are settled in order.
    assert {sha(p) for p in good[:7]} <= set(contents) <= {sha(p) for p in good[:13]}
    assert all(has for _, has in contents.values())

    stuck.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "imrgold", "ingest", str(folder), "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1  # the empty files are still skipped
    n_empty = len(empties)
    assert result.stdout.strip() == (
        f"{len(good) + n_empty} files: {len(good) - len(contents)} added, "
        f"{len(contents)} duplicate, {n_empty} skipped ({n_empty} empty file)"
    )
    assert set(stored(db)) == {sha(p) for p in good}


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run with stderr on a pseudo-terminal; its exit code and everything it drew there."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imrgold", *args],
        cwd=ROOT,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "100"},
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    drawn = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    return proc.wait(timeout=120), bytes(drawn)


def test_progress_bar_on_a_terminal_only(db, tmp_path, capsys):
    folder = tmp_path / "in"
    copy_letters(folder, LETTERS[:4])
    empty = write(folder / "empty.txt", b"")
    env = {**os.environ, "IMRGOLD_DB": str(db)}
    code, drawn = _run_on_a_terminal(["ingest", str(folder)], env)
    assert code == 1
    assert b"ingesting" in drawn and b"/5" in drawn
    assert f"{empty}: empty file".encode() in drawn

    code, _, lines = ingest(capsys, tmp_path / "other.json", folder)
    assert code == 1
    assert lines == [f"{empty}: empty file"]


def test_a_folder_without_letters_is_a_user_error(capsys, db, tmp_path):
    write(tmp_path / "empty-folder" / "notes.docx", b"x")
    code = main(["ingest", "--db", str(db), str(tmp_path / "empty-folder")])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err == f"imrgold ingest: error: no .txt, .md or .pdf files in {tmp_path / 'empty-folder'}\n"
    )
    assert not db.exists()


def test_a_store_held_by_another_writer_is_reported_and_left_alone(capsys, db, tmp_path):
    from imrgold.store import Store

    copy_letters(tmp_path / "in", LETTERS[:2])
    holder = Store.open(db, annotator="alice")
    try:
        code = main(["ingest", "--db", str(db), str(tmp_path / "in")])
    finally:
        holder.close()
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("imrgold ingest: error: store ") and "alice" in err
    assert "\n" not in err
    assert stored(db) == {}


@pytest.mark.parametrize(
    ("option", "message"),
    [(["--jobs", "-1"], "--jobs must be 0 or more"), (["--max-size", "0"], "--max-size must be")],
)
def test_bad_options_are_one_line_errors(capsys, db, option, message):
    code = main(["ingest", "--db", str(db), *option, str(LETTERS[0])])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"imrgold ingest: error: {message}") and err.count("\n") == 1
    assert not db.exists()


def test_outside_ingest_a_failed_extraction_is_logged_naming_letter_and_rule(caplog, monkeypatch):
    """Callers that do not tell the person themselves (agreement's cache, the interface) rely
    on the extractor's own log line."""
    import imrgold.core.extract as extract_module

    def tripping(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(extract_module, "_reviewer", tripping)
    with caplog.at_level(logging.ERROR, logger="imrgold.core.extract"):
        proposal = extract_module.extract("Dear Sir,", "ab" * 32)
    assert proposal.failure == "_extract: IndexError: list index out of range"
    assert caplog.messages == [
        "extraction failed on letter abababababababab in _extract: IndexError: list index out of "
        "range"
    ]
