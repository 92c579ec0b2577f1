"""Diagnoses linked to ICD-10-CM: the linker, its cache, the command and older records."""

from __future__ import annotations

import functools
import heapq
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imrgold.cli.main import main
from imrgold.core import icd10
from imrgold.core.models import Diagnosis, GoldRecord


@pytest.mark.parametrize(
    ("written", "code"),
    [
        # Phrases of the curated supplement, with the side and encounter applied.
        ("lumbar strain", "S39.012A"),
        ("cervical sprain, subsequent encounter", "S13.4XXD"),
        ("right carpal tunnel syndrome", "G56.01"),
        ("bilateral CTS", "G56.03"),
        ("left shoulder impingement syndrome", "M75.42"),
        ("pain in right arm", "M79.601"),
        # Abbreviations and spinal levels spelled out.
        ("L/S radiculopathy", "M54.17"),
        ("disc protrusion at L4-L5", "M51.26"),
        # The code set's own wording, read through the index.
        ("strain of muscle, fascia and tendon of lower back", "S39.012A"),
        ("contusion of right hand", "S60.221A"),
    ],
)
def test_link_reads_diagnoses_as_letters_write_them(written, code):
    assert icd10.link(written)[0] == code


def test_link_proposes_nothing_rather_than_a_stretch():
    for vague in ("industrial injury", "status post right knee arthroscopy", "multiple complaints"):
        assert icd10.link(vague) == (None, 0.5), vague


def test_suggest_ranks_billable_codes_with_descriptions():
    found = icd10.suggest("right knee medial meniscus tear", limit=5)
    assert len(found) == 5
    assert all(icd10.is_code(c.code) for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert any(c.code.startswith("S83.2") and "right" in c.description.lower() for c in found)


@pytest.mark.parametrize(
    "damage",
    [
        "[1, 2",  # cut short
        "[1, 2]",  # not the table
        '{"format": 1}',  # an older version's cache
        "out of range",  # the right shape, an index pointing past the codes
    ],
)
def test_a_damaged_code_cache_is_rebuilt_loudly(tmp_path, monkeypatch, caplog, damage):
    from importlib.metadata import version

    cached = tmp_path / f"icd10cm-{version('simple-icd-10-cm')}.json"
    if damage == "out of range":
        table = icd10._table()
        data = {"format": icd10.CACHE_FORMAT, **{f: getattr(table, f) for f in table.CACHED}}
        data["postings"] = {**data["postings"], "pain": [len(table.codes) + 5]}
        damage = json.dumps(data)
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path))
    cached.write_text(damage)
    icd10._table.cache_clear()
    icd10._codes.cache_clear()
    try:
        with caplog.at_level("WARNING"):
            assert icd10._codes()["M54.2"] == "Cervicalgia"
        assert "rebuilding" in caplog.text
        assert json.loads(cached.read_text())["format"] == icd10.CACHE_FORMAT
        assert (cached.stat().st_mode & 0o777) == 0o600
    finally:
        icd10._table.cache_clear()
        icd10._codes.cache_clear()


def test_the_cached_table_reads_back_as_built():
    """The cache is a faster way to the same table: built afresh and read back, alike."""
    built = icd10._build(icd10._codes())
    data = {"format": icd10.CACHE_FORMAT, **{f: getattr(built, f) for f in built.CACHED}}
    read = icd10._valid(json.loads(json.dumps(data)))
    assert read is not None
    for name in (*built.CACHED, "weight", "number"):
        assert getattr(read, name) == getattr(built, name), name


def test_the_side_a_letter_names_picks_the_sibling_code():
    assert icd10.suggest("right knee medial meniscus tear", limit=1)[0].description.count("right")
    assert "left" in icd10.suggest("left shoulder sprain", limit=1)[0].description.lower()
    assert (
        "bilateral"
        in icd10.suggest("bilateral carpal tunnel syndrome", limit=1)[0].description.lower()
    )


def test_the_model_accepts_billable_codes_only():
    assert Diagnosis(text="neck pain", icd10="M54.2").icd10 == "M54.2"
    for bad in ("M54", "m54.2", "M54.5", "ZZZ.99", "M542"):
        with pytest.raises(ValueError):
            Diagnosis(text="x", icd10=bad)


def test_a_record_written_before_codes_reads_with_null_codes():
    record = GoldRecord.model_validate(
        {"letter_id": "a" * 64, "diagnoses": ["lumbar strain", "insomnia"]}
    )
    assert [d.model_dump() for d in record.diagnoses] == [
        {"text": "lumbar strain", "icd10": None},
        {"text": "insomnia", "icd10": None},
    ]


def test_diagnoses_suggest_command(capsys):
    assert main(["diagnoses", "suggest", "lumbar strain", "--json", "--limit", "3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and set(lines[0]) == {"code", "description", "score"}
    assert lines[0]["code"] == "S39.012A"
    assert main(["diagnoses", "suggest", "  "]) == 2
    assert "give a diagnosis" in capsys.readouterr().err


def test_a_store_of_plain_diagnoses_exports_them_as_objects(tmp_path, monkeypatch):
    """A store written before the change keeps every record and exports the new shape."""
    from imrgold.core.reading import read_letter
    from imrgold.store import Store

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    letters = Path(__file__).resolve().parent.parent / "fixtures" / "letters"
    letter = read_letter(next(letters.glob("*.txt")))
    record = GoldRecord.model_validate(
        {"letter_id": letter.letter_id, "diagnoses": ["lumbar strain"]}
    )
    db = tmp_path / "old.json"
    with Store.open(db, annotator="ann") as store:
        store.add_letter(letter)
        store.put_gold(record, "ann")
    # As the older imrgold wrote them: plain strings in the record and the gold shard.
    for path in (tmp_path / "old.d").rglob("*.json"):
        if not path.is_file():
            continue
        raw = path.read_text()
        old = raw.replace('{"text":"lumbar strain","icd10":null}', '"lumbar strain"')
        path.write_text(old)
    stored = [p.read_text() for p in (tmp_path / "old.d").rglob("*.json") if p.is_file()]
    assert any('"lumbar strain"]' in raw for raw in stored)
    out = tmp_path / "gold.jsonl"
    assert main(["export", "--db", str(db), "--out", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert exported["diagnoses"] == [{"text": "lumbar strain", "icd10": None}]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # an "other ..." code is for a variant the code set does not name: the bare condition
        # is the unspecified code on a near-tie
        ("sleep disorder", "G47.9"),
        ("unspecified internal derangement of the left knee", "M23.92"),
        # the side a letter writes goes to the phrase's code, wherever it stands
        ("status post left total knee arthroplasty", "Z96.652"),
        ("right shoulder full-thickness rotator cuff tear", "M75.121"),
        ("left shoulder partial thickness rotator cuff tear", "M75.112"),
        # "X sprain/strain" is the strain (GOLD_CONVENTIONS.md)
        ("cervical sprain/strain", "S16.1XXA"),
        # a sprain is of ligaments: of a muscle or tendon it is coded as the strain
        ("sprain of the muscle, fascia, and tendon of the left hip", "S76.012A"),
        ("sprain of ligaments of lumbar spine", "S33.5XXA"),
        # "not elsewhere classified" is boilerplate: "stress" is Z73.3, not a stress fracture
        ("stress", "Z73.3"),
        # a chapter M fracture takes the encounter as written, initial by default
        ("stress fracture", "M84.30XA"),
        ("stress fracture, subsequent", "M84.30XD"),
        # the Index's "Radiculitis - see Radiculopathy": the condition, not the limb's arteries
        ("lower extremity radiculitis", "M54.10"),
        ("cervical radiculitis", "M54.12"),
        # a closing "without mention of X" marks the default variant; it does not ask for X
        ("lumbar degeneration of intervertebral disc", "M51.369"),
        ("lumbar disc degeneration with lower extremity pain", "M51.361"),
        # letters write the adjective where the code set has the noun
        ("degenerative lumbar intervertebral disc", "M51.369"),
        # the Index's "Disease, joint, degenerative - see Osteoarthritis"
        ("degenerative joint disease of the left shoulder", "M19.012"),
        ("right knee degenerative joint disease", "M17.9"),
        # a contusion or sprain with no site is the Index's T14.8, not the first site's code
        # (CM17-0008519, published: "diagnosed with a contusion" was a hand's)
        ("contusion", "T14.8XXA"),
        ("sprain", "T14.8XXA"),
        ("contusion of the left knee", "S80.02XA"),
        ("sprain of the left wrist", "S63.502A"),
        ("head contusion", "S00.93XA"),
    ],
)
def test_linking_rules(text, code):
    assert icd10.link(text)[0] == code


@pytest.mark.parametrize(
    "written",
    ["left thumb non-displaced fracture", "left thumb non displaced fracture",
     "left thumb nondisplaced fracture"],
)  # fmt: skip
def test_non_displaced_is_the_code_sets_nondisplaced_not_displaced(written):
    # CM17-0010728 (published): split in two, "displaced" ranked the displaced fractures first
    found = icd10.suggest(written, 3)
    assert [c.code for c in found] == [
        c.code for c in icd10.suggest("nondisplaced fracture of left thumb", 3)
    ]
    assert found[0].description.startswith("Nondisplaced fracture")
    assert all(not c.description.startswith("Displaced") for c in found)
    # the code set's own hyphenated words still read as written
    assert icd10.suggest("non-follicular lymphoma", 1)[0].code == "C83.80"


def test_what_a_diagnosis_rules_out_is_not_its_code():
    found = icd10.suggest("displacement of lumbar intervertebral disc without myelopathy", 3)
    assert found[0].code == "M51.26"
    assert all("with myelopathy" not in c.description for c in found[:1])
    assert icd10.suggest("lumbar disc disorder with myelopathy", 1)[0].code == "M51.06"


def test_a_side_the_diagnosis_leaves_open_comes_from_the_letter_when_it_gives_one():
    letter = "Diagnoses: shoulder impingement. Request: Right shoulder arthroscopy."
    assert icd10.link("shoulder impingement")[0] == "M75.40"
    assert icd10.link("shoulder impingement", context=letter)[0] == "M75.41"
    both = letter + " The left shoulder also hurts."
    assert icd10.link("shoulder impingement", context=both)[0] == "M75.40"
    # Written as unspecified, it stays unspecified whatever else the letter says.
    assert icd10.link("pain in unspecified knee", context="right knee pain")[0] == "M25.569"
    # A side written in the diagnosis wins over the letter's.
    assert icd10.link("left shoulder impingement", context=letter)[0] == "M75.42"


@pytest.mark.parametrize("damage", ["[1, 2", '{"format": 1, "codes": ["M54.2"]}', '{"codes": 3}'])
def test_the_code_list_validation_reads_is_the_tables_and_rebuilt_loudly(
    tmp_path, monkeypatch, caplog, damage
):
    """Validating a record reads a list of the codes alone (not the 80 MB table): the same
    codes as the table's, and a damaged list is rebuilt from the table with a warning."""
    from importlib.metadata import version

    everything = set(icd10._codes())
    monkeypatch.setenv("IMRGOLD_CACHE_DIR", str(tmp_path))
    cached = tmp_path / f"icd10cm-codes-{version('simple-icd-10-cm')}.json"
    cached.write_text(damage)
    icd10._code_set.cache_clear()
    monkeypatch.setattr(icd10._table, "cache_info", lambda: functools._CacheInfo(0, 0, 1, 0))
    try:
        with caplog.at_level("WARNING"):
            assert icd10._code_set() == everything
        assert "code list" in caplog.text and "rebuilding" in caplog.text
        assert (cached.stat().st_mode & 0o777) == 0o600
        icd10._code_set.cache_clear()
        caplog.clear()
        assert icd10._code_set() == everything  # read back from the list, nothing said
        assert not caplog.text
        assert icd10.is_code("M54.2") and not icd10.is_code("M54") and not icd10.is_code("x")
    finally:
        icd10._code_set.cache_clear()


ROOT = Path(__file__).resolve().parent.parent
WORDS = re.findall(
    r"\S+",
    "right left bilateral lumbar cervical thoracic shoulder knee wrist hip other unspecified"
    " strain sprain pain fracture tear contusion radiculopathy disc displacement degeneration"
    " without with myelopathy subsequent sequela initial nondisplaced muscle tendon ligament"
    " syndrome impingement rotator cuff carpal tunnel depressive disorder insomnia headache",
)


def _fitting_checked(monkeypatch) -> list[int]:
    """`_best_fits` replaced by itself checked against fitting every candidate."""
    fast, checked = icd10._best_fits, []

    def both(table, scores, asked, k):
        quick = fast(table, scores, asked, k)
        every = [(icd10._fit(table, n, hit, asked), table.codes[n]) for n, hit in scores.items()]
        assert quick == heapq.nsmallest(k, every, key=lambda t: (-t[0], len(t[1]), t[1]))
        checked.append(len(scores))
        return quick

    monkeypatch.setattr(icd10, "_best_fits", both)
    return checked


def test_fitting_the_best_first_equals_fitting_every_candidate(monkeypatch):
    checked = _fitting_checked(monkeypatch)
    texts = {
        d["text"]
        for path in ROOT.glob("fixtures/**/gold/*.json")
        for d in json.loads(path.read_text())["diagnoses"]
    }
    for text in sorted(texts):
        icd10.suggest(text, 10)
    assert len(texts) > 100 and len(checked) == len(texts)
    assert sum(checked) > 50 * len(texts)  # candidates enough to prune


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=7), st.integers(1, 12))
def test_fitting_the_best_first_equals_fitting_every_candidate_for_any_words(words, limit):
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fitting_checked(monkeypatch)
        icd10.suggest(" ".join(words), limit)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # the code set's own encounter wording picks the 7th character
        ("Nondisplaced fracture of base of third metacarpal bone, left hand, initial encounter"
         " for open fracture", "S62.343B"),
        ("Nondisplaced fracture of proximal phalanx of right index finger, subsequent encounter"
         " for fracture with nonunion", "S62.640K"),
        ("Displaced transverse fracture of shaft of unspecified ulna, subsequent encounter for"
         " open fracture type I or II with delayed healing", "S52.223H"),
        # "with" is not a side of "without"
        ("Displaced fracture of olecranon process with intraarticular extension of right ulna,"
         " subsequent encounter for closed fracture with delayed healing", "S52.031G"),
        ("Contusion of left thumb with damage to nail, initial encounter", "S60.112A"),
        ("Contusion of left thumb without damage to nail, initial encounter", "S60.012A"),
        # "other" when the diagnosis says it, unspecified when it does not
        ("Other dislocation of right wrist and hand, initial encounter", "S63.094A"),
        ("Unspecified dislocation of right wrist and hand, initial encounter", "S63.004A"),
    ],
)  # fmt: skip
def test_a_code_sets_own_wording_links_to_its_code(text, code):
    assert icd10.link(text)[0] == code


def test_the_code_sets_names_link_to_their_own_codes():
    # Letters copy names from the code set: 300 names of the categories workers' compensation
    # letters use, picked evenly, come back as their own codes (53% did before the encounter
    # wording, "with"/"without" and "other" were read).
    table = icd10._table()
    listed = "S13 S16 S33 S39 S43 S46 S52 S62 S63 S82 S83 S93 M25 M47 M50 M51 M54 M65 M75 M77"
    categories = set(re.findall(r"\S+", listed + " M79 G56 S60 S70 S80 S90"))
    pairs = [(c, d) for c, d in zip(table.codes, table.descriptions, strict=True)
             if c[:3] in categories]  # fmt: skip
    sample = pairs[:: len(pairs) // 300][:300]
    wrong = [(c, d) for c, d in sample if icd10.link(d[0].lower() + d[1:])[0] != c]
    assert len(wrong) <= 9, wrong[:10]
