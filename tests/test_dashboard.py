"""The dashboard's figures (`core.dashboard`), what the store hands them
(`store.dashboard.gather_dashboard`), and `imrgold stats --json` printing the same figures."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from imrgold.cli.main import main
from imrgold.core.dashboard import (
    NOT_STATED,
    decisions_by_category,
    field_agreement,
    letters_per_day,
    machine_accuracy,
)
from imrgold.core.models import DisputedItem, GoldRecord, flatten
from imrgold.store import Store
from imrgold.store.dashboard import gather_dashboard
from imrgold.tui.widgets.bar_chart import _fit, cells, trend_text
from tests.dashboard_store import build_gold_store, bundled_gold

UTC = dt.UTC


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


def test_letters_a_day_count_each_annotator_by_utc_day_and_show_days_off_as_zero():
    pst = dt.timezone(dt.timedelta(hours=-8))
    days, counts = letters_per_day(
        [
            {"alice": at(2), "bob": at(5)},
            {"alice": at(2, 23)},
            # 20:00 in California on the 4th is the 5th in UTC.
            {"alice": dt.datetime(2026, 3, 4, 20, tzinfo=pst)},
        ]
    )
    assert days == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert counts == {"alice": [2, 0, 0, 1], "bob": [0, 0, 0, 1]}
    assert letters_per_day([]) == ([], {})


def test_machine_accuracy_per_field_splits_confirmed_and_corrected_and_keeps_periods():
    periods, fields = machine_accuracy(
        {
            "2026-W10": {"priority": [3, 4], "items.decision": [0, 0]},
            "2026-W09": {"priority": [1, 1], "items.decision": [1, 2]},
        }
    )
    assert periods == ["2026-W09", "2026-W10"]
    by = {f.field: f for f in fields}
    assert set(by) == {"priority", "items.decision"}  # fields without a unit are left out
    assert (by["priority"].confirmed, by["priority"].corrected) == (4, 1)
    assert by["priority"].shares == [1.0, 0.75]
    assert by["priority"].share == pytest.approx(0.8)
    assert by["items.decision"].shares == [0.5, None]  # no decision that week


def _record(lid: str, *items: tuple[str | None, str | None], age: int | None = 40) -> GoldRecord:
    return GoldRecord(
        letter_id=lid * 64,
        patient={"age": age},
        items=[
            DisputedItem(request=f"r{i}", category=c, decision=d) for i, (c, d) in enumerate(items)
        ],
    )


def test_decisions_by_category_in_the_schemas_order_with_not_stated_last():
    figures = decisions_by_category(
        [
            flatten(_record("a", ("therapy", "upheld"), ("medication", "overturned"))),
            flatten(_record("b", ("medication", "upheld"), (None, "upheld"), ("medication", None))),
        ]
    )
    assert list(figures) == ["medication", "therapy", NOT_STATED]
    assert figures["medication"] == {"upheld": 1, "overturned": 1, NOT_STATED: 1}
    assert figures[NOT_STATED] == {"upheld": 1}
    assert decisions_by_category([]) == {}


def test_agreement_per_field_pools_every_pair_of_annotators_that_share_letters():
    from imrgold.core.agreement import agreement_report, flat_of

    upheld = flat_of(_record("c", ("therapy", "upheld")))
    overturned = flat_of(_record("c", ("therapy", "overturned"), age=41))
    # Letter c done by alice and bob, letter d by alice and carol (never all three at once).
    report = agreement_report(
        {"c": {"alice": upheld, "bob": overturned}, "d": {"alice": upheld, "carol": upheld}}
    )
    pairs, fields = field_agreement(report)
    assert pairs == ["alice vs bob", "alice vs carol"]  # bob and carol share none: left out
    by = {f.field: f for f in fields}
    assert (by["items.decision"].same, by["items.decision"].compared) == (1, 2)
    assert by["items.category"].share == 1.0 and by["patient.age"].share == 0.5
    assert field_agreement(agreement_report({"c": {"alice": upheld}})) == ([], [])


def test_bars_are_drawn_to_the_width_and_trends_one_block_a_period():
    assert cells((1, 1, 1), 3, 10) == [3, 4, 3]  # rounded on the running sum: adds up to 10
    assert cells((5, 0), 10, 8) == [4, 0]  # against a longer bar: half the width
    assert cells((0, 0), 0, 8) == [0, 0]
    assert trend_text([0.0, 0.5, 1.0, None]) == "▁▅█·"
    assert (_fit("items.decision", 6), _fit("age", 6)) == ("items…", "age   ")


def test_the_store_hands_over_the_figures_of_its_gold_letters(tmp_path):
    path = build_gold_store(tmp_path / "db" / "imrgold.json")
    with Store.open(path, read_only=True) as store:
        figures = gather_dashboard(store)
        both = store.letter_ids()[1:3]
    assert (figures.letters, figures.gold) == (8, 6)
    assert figures.days == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert figures.letters_per_day == {"alice": [2, 2, 0, 2], "bob": [0, 0, 0, 2]}
    assert figures.periods == ["2026-03-02", "2026-03-03", "2026-03-05"]
    assert figures.pairs == ["alice vs bob"]
    by = {f.field: f for f in figures.agreement}
    # bob dropped the age of both letters: they agree where the letter states none
    stated = [bundled_gold(lid).patient.age is not None for lid in both]
    assert by["patient.age"].share == 1 - sum(stated) / 2
    # The flipped decisions of bob's versions (the latest, so the letters' records) are
    # machine corrections.
    accuracy = {f.field: f for f in figures.accuracy}
    assert accuracy["items.decision"].corrected >= 2
    assert sum(sum(c.values()) for c in figures.decisions.values()) == sum(
        f.total for f in figures.accuracy if f.field == "items.request"
    )


def test_stats_json_prints_the_dashboards_figures(tmp_path, capsys):
    path = build_gold_store(tmp_path / "db" / "imrgold.json")
    assert main(["stats", "--db", str(path), "--json", "--period", "day"]) == 0
    printed = json.loads(capsys.readouterr().out)
    with Store.open(path, read_only=True) as store:
        figures = gather_dashboard(store, period="day")
    assert printed["dashboard"] == json.loads(json.dumps(figures.to_dict()))
    assert printed["dashboard"]["letters_per_day"]["by_annotator"]["bob"] == [0, 0, 0, 2]
    assert printed["by_status"] == {"gold": 6, "new": 2}  # the figures stats printed before


def test_the_dashboard_of_an_empty_store(tmp_path, capsys):
    with Store.open(tmp_path / "db" / "imrgold.json", annotator="tester") as store:
        figures = gather_dashboard(store)
    assert figures.empty and figures.gold == 0 and figures.pairs == []
    assert main(["stats", "--db", str(tmp_path / "db" / "imrgold.json"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)["dashboard"]
    assert printed["letters_per_day"] == {"days": [], "by_annotator": {}}
    assert printed["decisions_by_category"] == {}


def test_the_one_pass_gives_the_figures_of_the_simple_way(tmp_path):
    """Riding on stats' pass, from the index, the dashboard says what reading the gold shards
    and validating every settled record says (`tests/dashboard_reference.py`)."""
    from imrgold.store.dashboard import stats_and_dashboard
    from tests.dashboard_reference import dashboard_the_simple_way

    path = build_gold_store(tmp_path / "db" / "imrgold.json")
    with Store.open(path, read_only=True) as store:
        stats, figures = stats_and_dashboard(store, period="day")
        assert figures == dashboard_the_simple_way(store, stats)
        assert figures.decisions and figures.pairs  # something to compare on both sides
        for lid in store.letter_ids():  # the index's times are the gold shard's
            doc = store.engine.shard_doc(lid) or {}
            versions = doc.get("versions", {})
            shard = {a: dt.datetime.fromisoformat(v["at"]) for a, v in sorted(versions.items())}
            assert store.gold_times(lid) == shard
