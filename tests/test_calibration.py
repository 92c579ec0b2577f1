"""Calibrated confidences: the fit (monotone, bounded, smoothed), the shipped table, the
extractor's use of it, and `imrgold eval`'s figures on letters held out of the fit."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imrgold.cli.main import main
from imrgold.core.calibration import (
    DATA_PATH,
    FLAG_BELOW,
    MACHINE_CEILING,
    Calibration,
    default_calibration,
    field_key,
    fit,
    interpolate,
    pav,
)
from imrgold.core.evaluate import Sample, held_out
from imrgold.core.extract import extract
from imrgold.core.models import Proposal

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(autouse=True)
def _no_user_store(tmp_path, monkeypatch):
    monkeypatch.setenv("IMRGOLD_DB", str(tmp_path / "store" / "imrgold.json"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def test_pav_pools_a_violation_by_weight_and_keeps_an_ordered_run():
    assert pav([(1, 1.0, 1), (2, 0.0, 3), (3, 1.0, 1)]) == ((1, 0.25), (2, 0.25), (3, 1.0))
    assert pav([(1, 0.2, 1), (2, 0.5, 1), (3, 0.9, 2)]) == ((1, 0.2), (2, 0.5), (3, 0.9))


def test_interpolate_runs_from_zero_between_knots_and_levels_off():
    knots = ((0.5, 0.8), (0.9, 0.96))
    assert interpolate(knots, 0.0) == 0.0
    assert interpolate(knots, 0.25) == pytest.approx(0.4)
    assert interpolate(knots, 0.7) == pytest.approx(0.88)
    assert interpolate(knots, 0.99) == 0.96
    assert interpolate((), 0.3) == 0.3  # nothing learned: the rule's own strength


def test_smoothing_keeps_a_rare_rule_off_zero_and_one_and_lets_a_common_one_speak():
    rare = fit([("x", 0.5, True)] * 3 + [("y", 0.5, False)] * 3)
    assert 0.5 < rare.confidence("x", 0.5) < 0.8  # 3 of 3 right: more than 0.5, far from 1
    assert 0.0 < rare.confidence("y", 0.5) < 0.4  # 0 of 3 right: less, but not 0
    common = fit([("x", 0.5, True)] * 400 + [("x", 0.5, False)] * 100)
    assert common.confidence("x", 0.5) == pytest.approx(0.8, abs=0.01)


def test_a_stronger_rule_is_never_less_sure_than_a_weaker_one_for_a_field():
    samples = [("x", 0.9, i % 2 == 0) for i in range(40)] + [("x", 0.6, True)] * 40
    calibration = fit(samples)
    assert calibration.confidence("x", 0.9) >= calibration.confidence("x", 0.6)


def test_a_machine_value_is_never_certain_and_an_unseen_field_takes_the_pooled_curve():
    calibration = fit([("x", 0.9, True)] * 5000)
    assert calibration.confidence("x", 0.9) == MACHINE_CEILING
    assert calibration.confidence("never-seen", 0.9) == calibration.confidence("x", 0.9)
    assert calibration.confidence("x", 0.0) == 0.0  # a field the machine could not propose


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.sampled_from([0.1, 0.3, 0.5, 0.75, 0.9, 0.98]),
            st.booleans(),
        ),
        max_size=80,
    )
)
def test_any_fit_is_monotone_bounded_and_survives_its_data_file(samples):
    calibration = fit(samples)
    again = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    grid = [i / 50 for i in range(51)]
    for key in ("a", "b", "c"):
        values = [calibration.confidence(key, x) for x in grid]
        assert all(0.0 <= v <= MACHINE_CEILING for v in values)
        assert values == sorted(values)
        assert values == [again.confidence(key, x) for x in grid]


def test_held_out_figures_never_use_the_letter_they_score():
    # Letter A is wrong on "x" wherever it appears; B is right.  Fitted on both, A's fields
    # would be flagged; held out, A is scored by B's fit alone and its errors go unflagged.
    samples = [Sample("A", "x", 0.9, False)] * 20 + [Sample("B", "x", 0.9, True)] * 60
    result = held_out(samples)
    assert result.folds == 2
    assert (result.errors, result.errors_flagged) == (20, 0)
    assert fit((s.key, s.confidence, s.right) for s in samples).confidence("x", 0.9) < FLAG_BELOW


def test_letters_of_one_case_are_left_out_together():
    samples = [Sample("A-text", "x", 0.9, False)] * 20 + [Sample("A-pdf", "x", 0.9, False)] * 20
    samples += [Sample("B", "x", 0.9, True)] * 60
    together = held_out(samples, {"A-text": "A", "A-pdf": "A"})
    apart = held_out(samples)
    assert (together.folds, apart.folds) == (2, 3)
    # Apart, each copy of A would tell the fit about the other's errors.
    assert (together.errors_flagged, apart.errors_flagged) == (0, 40)


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_calibration", ROOT / "scripts" / "make_calibration.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_table_is_what_fitting_the_fixtures_gives():
    script = _script()
    data, samples, group_of = script.build()
    assert script.render(data) == DATA_PATH.read_text(encoding="utf-8")
    # Text copies, the published PDFs and the held-out letters all count, as letters.
    assert data["letters"] >= 60 and len(group_of) > data["letters"]
    assert any(s.key == "diagnosis_codes" and not s.right for s in samples)


def test_the_extractor_proposes_calibrated_confidences():
    letter = FIXTURES / "letters" / "CM16-0237844.txt"
    text = letter.read_text(encoding="utf-8")
    raw = extract(text, "0" * 64, calibrated=False)
    proposal = extract(text, "0" * 64)
    table = default_calibration()
    assert proposal.paths() == raw.paths()
    changed = 0
    for path in proposal.paths():
        want = table.confidence(field_key(path), raw.get(path).confidence)
        assert proposal.get(path).confidence == want, path
        changed += want != raw.get(path).confidence
    assert changed > len(proposal.paths()) // 2


def test_the_flag_threshold_has_one_definition():
    from imrgold.tui import fields

    assert fields.LOW_CONFIDENCE is FLAG_BELOW


def _figure(out: str, section: str, label: str) -> float:
    block = out[out.index(section) :]
    found = re.search(rf"{label} ([\d.]+)", block)
    assert found, (section, label, block)
    return float(found.group(1))


def test_eval_prints_held_out_figures_that_meet_the_targets(capsys):
    """On the 20 real letters, calibration refitted without each letter in turn: ECE at most 5
    points, at most 10% of fields flagged, and the flagged fields hold at least 80% of the
    machine's errors."""
    assert main(["eval", "--gold", str(FIXTURES / "gold")]) == 0
    out = capsys.readouterr().out
    held = "Held out (calibration refitted without each letter, 20 folds)"
    assert held in out and "As shipped" in out
    assert _figure(out, held, "ECE") <= 5.0
    assert _figure(out, held, "flag share") <= 10.0
    assert _figure(out, held, "flag recall") >= 80.0
    errors = re.search(r"flag recall [\d.]+% of the machine's errors \((\d+) of (\d+)\)", out)
    assert errors and int(errors.group(2)) > 0  # there are errors to find: the test can fail


def test_eval_json_carries_the_held_out_figures(capsys):
    assert main(["eval", "--gold", str(FIXTURES / "gold"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    held = report["held_out"]
    assert held["folds"] == 20 and held["flag_below"] == FLAG_BELOW
    assert held["ece"] <= 0.05 and held["flag_share"] <= 0.10 and held["flag_recall"] >= 0.8
    assert report["flags"]["fields"] == held["fields"]


def test_a_proposal_stored_before_calibration_is_calibrated_when_read():
    from imrgold.core.calibration import calibrated, default_calibration, field_key

    text = (Path(__file__).resolve().parent.parent / "fixtures" / "letters").glob("CM16-*.txt")
    letter = next(iter(sorted(text))).read_text(encoding="utf-8")
    raw = extract(letter, "x", calibrated=False)
    # As a store from before calibration holds it: no mark, the rules' own strengths.
    old = raw.model_copy(update={"calibrated": False})
    assert Proposal.model_validate_json(old.model_dump_json(exclude={"calibrated"})) == old
    fixed = calibrated(old)
    assert fixed.calibrated and fixed == extract(letter, "x")
    table = default_calibration()
    for path, field in fixed.fields.items():
        assert field.confidence == table.confidence(field_key(path), raw.fields[path].confidence)
    assert calibrated(fixed) is fixed  # once is enough


def test_an_extraction_failure_is_logged_with_the_letter_and_the_rule(monkeypatch, caplog):
    import imrgold.core.extract as extract_module

    def tripping(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(extract_module, "_reviewer", tripping)
    with caplog.at_level("ERROR", logger="imrgold.core.extract"):
        proposal = extract("Case Number: CM16-0000001\nsome letter", "ab" * 32)
    assert proposal.fields and all(not f.value for f in proposal.fields.values())
    [record] = caplog.records
    # The innermost function of the extractor it passed through (the stand-in is not one).
    assert "abababababababab" in record.getMessage() and "in _extract:" in record.getMessage()
    assert "IndexError" in record.getMessage()
