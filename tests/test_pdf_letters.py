"""The letters as the state publishes them: real, AES-encrypted PDFs, ingested and extracted.

`fixtures/pdf/` holds the published PDFs of the 15 case-numbered letters of `fixtures/letters/`
(their gold is `fixtures/gold/<case number>.json`, written from the pdftotext copy) and of
letters that exist only as PDFs (gold in `fixtures/pdf/gold/`, written from the PDF's text).
Each PDF is ingested with the command line into a fresh store, and the machine's stored proposal
must equal the gold record field by field, with its spans on the right words of the PDF's text.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from imrgold.cli.main import main
from imrgold.core.models import GoldRecord, Proposal, flatten
from imrgold.core.reading import read_letter
from imrgold.core.text import fold, repair
from imrgold.store import Store
from tests.test_extract_layouts import linked

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PDFS = sorted((FIXTURES / "pdf").glob("*.pdf"))


def _gold_file(pdf: Path) -> Path:
    for folder in (FIXTURES / "gold", FIXTURES / "pdf" / "gold"):
        if (folder / f"{pdf.stem}.json").is_file():
            return folder / f"{pdf.stem}.json"
    raise AssertionError(f"{pdf.name}: no gold record")


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> dict[str, tuple[str, Proposal]]:
    """Every fixture PDF ingested by the command line: stem -> (letter text, stored proposal)."""
    home = tmp_path_factory.mktemp("pdf-store")
    db = home / "store.json"
    with pytest.MonkeyPatch.context() as env:
        for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "IMRGOLD_DATA_DIR"):
            env.setenv(name, str(home / name.lower()))
        env.setenv("IMRGOLD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "lexicon-cache"))
        env.setenv("IMRGOLD_ANNOTATOR", "test")
        assert main(["ingest", "--db", str(db), "-q", *map(str, PDFS)]) == 0
    store = Store.open(db, read_only=True)
    try:
        out = {}
        for pdf in PDFS:
            letter = read_letter(pdf)
            proposal = store.get_proposal(letter.letter_id)
            assert proposal is not None, pdf.name
            out[pdf.stem] = (store.get_letter(letter.letter_id).text, proposal)
        return out
    finally:
        store.close()


def test_every_fixture_pdf_has_gold_and_they_are_many():
    assert len(PDFS) >= 25
    assert all(_gold_file(pdf) for pdf in PDFS)
    only_pdf = [pdf for pdf in PDFS if not (FIXTURES / "gold" / f"{pdf.stem}.json").exists()]
    assert len(only_pdf) >= 10


# A line that ends in a hyphen: pdftotext, which made the text copies the older gold was written
# from, sometimes drops such a hyphen ("H2-" / "receptor" -> "H2receptor"); PDFium keeps it.
_LINE_END_HYPHEN = re.compile(r"(\w+)-\n(\w+)")


def _as_text_gold_writes(value: str, gold: str, pdf_text: str) -> str:
    """``value`` with the hyphens the PDF breaks a line at dropped where the text gold has the
    word without its hyphen, and nowhere else."""
    for left, right in set(_LINE_END_HYPHEN.findall(pdf_text)):
        joined = left + right
        if f"{left}-{right}" in value and f"{left}-{right}" not in gold and joined in gold:
            value = value.replace(f"{left}-{right}", joined)
    return value


@pytest.mark.parametrize("pdf", PDFS, ids=[p.stem for p in PDFS])
def test_extraction_from_the_pdf_equals_gold(pdf: Path, stored):
    text, proposal = stored[pdf.stem]
    gold_path = _gold_file(pdf)
    gold = GoldRecord.model_validate_json(gold_path.read_text(encoding="utf-8"))
    gold = gold.model_copy(update={"letter_id": proposal.letter_id})
    expected, got = linked(flatten(gold), text), flatten(proposal.to_record())
    from_text_copy = gold_path.parent == FIXTURES / "gold"
    wrong = {}
    for path in sorted(set(expected) | set(got)):
        value, want = got.get(path, "<absent>"), expected.get(path, "<absent>")
        if from_text_copy and path.endswith(".rationale") and isinstance(value, str):
            value = _as_text_gold_writes(value, want, text)
        if value != want:
            wrong[path] = (want, value)
    assert wrong == {}


def _span_text(original: str, start: int, end: int) -> str:
    return fold(repair(original[start:end]).text)


@pytest.mark.parametrize("pdf", PDFS, ids=[p.stem for p in PDFS])
def test_spans_point_at_the_words_of_the_pdf_text(pdf: Path, stored):
    text, proposal = stored[pdf.stem]
    for path, field in proposal.fields.items():
        if field.value in (None, []):
            continue
        assert field.spans, path
        for span in field.spans:
            assert 0 <= span.start < span.end <= len(text), path
        first = _span_text(text, field.spans[0].start, field.spans[0].end)
        if path.endswith((".request", ".rationale")) or path == "case_number":
            assert first == field.value, path
        elif path in ("diagnoses", "reviewer.specialties", "reviewer.subspecialties"):
            assert [_span_text(text, s.start, s.end).lower() for s in field.spans] == [
                v.lower() for v in field.value
            ], path
        elif path.endswith(".decision"):
            assert first.lower() == field.value, path
        elif path in ("date_assigned", "decision_date", "ur_denial_date", "application_received"):
            date = dt.date.fromisoformat(str(field.value))
            month, day, year = date.month, date.day, date.year
            assert re.fullmatch(rf"0?{month}/0?{day}/(?:{year}|{year % 100:02d})", first), path


def test_a_pdf_letter_reads_cleanly_in_the_interface_text():
    """No carriage returns, PDFium hyphen marks or control characters reach the letter pane."""
    for pdf in PDFS:
        letter = read_letter(pdf)
        assert not re.search(r"[\x00-\x08\x0b\x0d-\x1f\ufffe]", letter.text), pdf.name


SHARED = FIXTURES.parent.parent / "shared" / "letters-pdf"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared published letters are not beside")
def test_every_real_published_letter_ingests_with_every_item_decided(tmp_path, monkeypatch, capsys):
    """All 75 real PDFs the project was given (15 with gold, 60 unlabeled) are added, exit 0."""
    from imrgold.core.extract import extract

    pdfs = sorted(SHARED.glob("*.pdf")) + sorted((SHARED / "unlabeled").glob("*.pdf"))
    assert len(pdfs) >= 75
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("IMRGOLD_ANNOTATOR", "test")
    assert main(["ingest", "--db", str(tmp_path / "s.json"), "-q", *map(str, pdfs)]) == 0
    assert capsys.readouterr().out.startswith(f"{len(pdfs)} files: {len(pdfs)} added")
    for pdf in pdfs:
        letter = read_letter(pdf)
        record = extract(letter.text, letter.letter_id).to_record()
        assert record.items and all(i.decision for i in record.items), pdf.name
