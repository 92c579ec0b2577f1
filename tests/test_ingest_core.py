"""core.ingest on its own: finding files, outcomes, duplicates and parallel workers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imrgold.core.ingest import Summary, collect, ingest
from imrgold.core.models import Letter, Proposal, ProposedField
from tests.letter_files import write

LETTERS = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "letters").glob("*.txt"))


def stub_extract(text: str, letter_id: str) -> Proposal:
    """Stands in for core.extract so these tests check the orchestration alone."""
    return Proposal(
        letter_id=letter_id, fields={"case_number": ProposedField(value=str(len(text)))}
    )


def failing_extract(text: str, letter_id: str) -> Proposal:
    raise RuntimeError("boom")


class DictSink:
    def __init__(self) -> None:
        self.letters: dict[str, Letter] = {}
        self.proposals: dict[str, Proposal] = {}

    def known_name(self, letter_id: str) -> str | None:
        letter = self.letters.get(letter_id)
        return letter.name if letter else None

    def save(self, letter: Letter, proposal: Proposal) -> bool:
        if letter.letter_id in self.letters:
            return False
        self.letters[letter.letter_id] = letter
        self.proposals[letter.letter_id] = proposal
        return True

    def restore(self, letter: Letter) -> bool:
        return False  # a dictionary loses nothing


def _copy(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, folder / p.name)) for p in LETTERS[:n]]


def test_collect_walks_folders_globs_and_reports_the_rest(tmp_path):
    _copy(tmp_path / "a" / "deep", 2)
    write(tmp_path / "a" / "notes.docx", b"x")
    write(tmp_path / "a" / ".hidden.txt", b"x")
    write(tmp_path / "a" / ".git" / "x.txt", b"x")
    write(tmp_path / "b" / "one.md", "x")
    write(tmp_path / "c.json", "{}")
    found = collect(
        [
            tmp_path / "a",
            str(tmp_path / "b" / "*.md"),
            tmp_path / "c.json",
            str(tmp_path / "zz*.txt"),
            tmp_path / "a",
        ]
    )
    assert [p.name for p in found.files] == [p.name for p in LETTERS[:2]] + ["one.md"]
    assert found.ignored == 1
    assert [o.reason for o in found.skipped] == ["unsupported file type", "matches no file"]
    assert all(o.message.startswith(o.path + ": ") for o in found.skipped)


def test_recursive_glob(tmp_path):
    _copy(tmp_path / "x" / "y", 2)
    found = collect([str(tmp_path / "**" / "*.txt")])
    assert len(found.files) == 2


def test_added_then_duplicate_by_content_not_name(tmp_path):
    files = _copy(tmp_path / "in", 3)
    renamed = write(tmp_path / "in" / "zz-renamed.txt", files[0].read_bytes())
    sink = DictSink()
    outcomes = list(ingest([*files, renamed], sink, extract=stub_extract))
    assert [o.status for o in outcomes] == ["added"] * 3 + ["duplicate"]
    assert outcomes[3].message == f"{renamed}: duplicate of {files[0]}, not added"
    assert set(sink.letters) == set(sink.proposals)
    assert all(letter.ingested_at and letter.source_path for letter in sink.letters.values())

    again = list(ingest(files, sink, known=sink.letters, extract=failing_extract))
    # Known letters are recognised by hash without being extracted again.
    assert [o.status for o in again] == ["duplicate"] * 3
    assert again[0].message == f"{files[0]}: duplicate of {files[0].name}, already in the store"


def test_changed_file_is_a_new_letter(tmp_path):
    (path,) = _copy(tmp_path, 1)
    sink = DictSink()
    list(ingest([path], sink, extract=stub_extract))
    path.write_bytes(path.read_bytes() + b"\nAddendum.\n")
    (outcome,) = ingest([path], sink, extract=stub_extract)
    assert outcome.status == "added"
    assert len(sink.letters) == 2


def test_extractor_failure_is_a_skip_not_a_crash(tmp_path):
    files = _copy(tmp_path, 2)
    sink = DictSink()
    outcomes = list(ingest(files, sink, extract=failing_extract))
    assert [o.reason for o in outcomes] == ["extraction failed"] * 2
    assert "boom" in outcomes[0].message and "\n" not in outcomes[0].message
    assert sink.letters == {}


def test_parallel_jobs_give_the_same_outcomes_in_order(tmp_path):
    files = _copy(tmp_path / "in", len(LETTERS))
    files.append(write(tmp_path / "in" / "zz-empty.txt", b""))
    serial, parallel = DictSink(), DictSink()
    one = list(ingest(files, serial, extract=stub_extract))
    two = list(ingest(files, parallel, extract=stub_extract, jobs=2))
    assert [(o.path, o.status, o.message) for o in one] == [
        (o.path, o.status, o.message) for o in two
    ]
    assert serial.proposals == parallel.proposals
    assert two[-1].reason == "empty file"


def test_summary_line():
    summary = Summary(added=3, duplicate=1, ignored=2)
    summary.skipped.update({"needs OCR": 1, "empty file": 2})
    assert summary.line() == (
        "7 files: 3 added, 1 duplicate, 3 skipped (2 empty file, 1 needs OCR); "
        "2 other files ignored"
    )


# -- walking folders and globs: loops, depth, FIFOs -------------------------------------------


def _tree(root: Path) -> None:
    for rel in ("a/x.txt", "a/b/y.txt", "a/b/c/z.md", "a/b/c/d.pdf", "a/n.json", "e/f/g/h.txt",
                "top.txt", "a/.hidden/q.txt", "a/b/[x].txt"):  # fmt: skip
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


@pytest.mark.parametrize(
    "pattern",
    [
        "**/*.txt",
        "a/*.txt",
        "a/**/*.md",
        "*/b/*",
        "**",
        "a/b/?.txt",
        "**/[xy].txt",
        "e/**/h.*",
        "a/b/c/*.pdf",
        "a/**/*",
        "nothing/**/*.txt",
    ],
)
def test_the_loop_safe_glob_matches_the_standard_one_on_a_plain_tree(
    tmp_path, monkeypatch, pattern
):
    import glob

    from imrgold.core.ingest import _glob

    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    expected = sorted(
        p
        for p in glob.glob(pattern, recursive=True)
        if not any(s.startswith(".") for s in p.split("/"))
    )
    assert _glob(pattern) == expected


def test_a_recursive_glob_through_symlink_loops_ends_and_finds_each_file_once(tmp_path):
    from imrgold.core.ingest import collect

    _tree(tmp_path)
    (tmp_path / "a" / "b" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "e" / "f" / "up").symlink_to(tmp_path)
    found = collect([str(tmp_path / "**" / "*.txt")])
    names = sorted(p.name for p in found.files)
    assert names.count("x.txt") >= 1 and len(found.files) < 20
    folder = collect([tmp_path])
    assert len({p.resolve() for p in folder.files}) == len(folder.files)


def test_a_tree_thousands_of_folders_deep_is_walked(tmp_path):
    from imrgold.core.ingest import collect

    # Deeper than the interpreter's recursion limit, shallower than the OS's path limit.
    deep = tmp_path
    for _ in range(1500):
        deep = deep / "d"
        deep.mkdir()
    (deep / "letter.txt").write_text("x")
    try:
        found = collect([tmp_path])
        assert [p.name for p in found.files] == ["letter.txt"]
    finally:
        # Removed from the bottom up: pytest's own clean-up (shutil.rmtree) recurses.
        (deep / "letter.txt").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent


def test_fifos_in_a_folder_are_ignored_not_opened(tmp_path):
    import os

    from imrgold.core.ingest import collect

    (tmp_path / "letter.txt").write_text("x")
    os.mkfifo(tmp_path / "pipe.txt")
    found = collect([tmp_path])
    assert [p.name for p in found.files] == ["letter.txt"] and found.ignored == 1


def test_an_empty_argument_is_not_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "letter.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    found = collect(["", "  "])
    assert found.files == [] and [o.reason for o in found.skipped] == ["empty path"] * 2
