"""Baseline figures per agency on imported history: the dashboard's definitions, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from heart.calls.cad.baseline import baseline_by_agency
from heart.calls.cad.importer import import_files
from heart.calls.cad.profiles import load_profile_by_name
from heart.db import make_engine
from heart.errors import NotFound
from tests.conftest import shared_data

ALEXANDRIA = shared_data() / "cfs" / "alexandria_va"
NOW = datetime(2025, 12, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _real_data() -> None:
    if not (ALEXANDRIA / "week35.csv").is_file():
        pytest.skip(f"the Alexandria CAD exports are not in {ALEXANDRIA} (set HEART_SHARED_DATA)")


def load(url: str, label: str, *names: str) -> None:
    paths = [ALEXANDRIA / name for name in names]
    engine = make_engine(url)
    try:
        import_files(engine=engine, profile=load_profile_by_name("alexandria-decc"), paths=paths, batch_label=label,
                     now=NOW)
    finally:
        engine.dispose()


def expected_from_csv(*names: str) -> dict[str, object]:
    """The dashboard's figures computed straight from the CSV (these weeks have no clock change)."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0, 0])
    for name in names:
        with (ALEXANDRIA / name).open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                times = [row[c] for c in ("Incident_Dispatch_Time", "Incident_Arrival_Time",
                                          "Incident_First_Close_Time")]
                tally = sums[row["Agency"]]
                if "NULL" in times:
                    tally[4] += 1
                    continue
                dispatched, on_scene, cleared = (datetime.fromisoformat(t) for t in times)
                to_scene = (on_scene - dispatched).total_seconds() / 60
                at_scene = (cleared - on_scene).total_seconds() / 60
                if to_scene < 0 or at_scene < 0:
                    tally[5] += 1
                    continue
                tally[0] += 1
                tally[1] += to_scene
                tally[2] += at_scene
                tally[3] += to_scene + at_scene
    agencies = {
        agency: {
            "responses": int(t[0]),
            "avg_minutes_to_scene": round(t[1] / t[0], 2),
            "avg_minutes_on_scene": round(t[2] / t[0], 2),
            "avg_total_minutes": round(t[3] / t[0], 2),
            "left_out": {"missing_timestamp": int(t[4]), "negative_duration": int(t[5])},
        }
        for agency, t in sorted(sums.items())
    }
    left_out = {"missing_timestamp": sum(int(t[4]) for t in sums.values()),
                "negative_duration": sum(int(t[5]) for t in sums.values())}
    return {"agencies": agencies, "left_out": left_out}


def test_the_figures_match_an_independent_count_of_the_export(database_url: str) -> None:
    load(database_url, "two-weeks", "week35.csv", "week40.csv")
    figures = baseline_by_agency(database_url=database_url, batch="two-weeks")
    assert figures == {"batch": "two-weeks", **expected_from_csv("week35.csv", "week40.csv")}
    assert set(figures["agencies"]) == {"POLICE", "EMS", "FIRE"}
    assert figures["left_out"]["missing_timestamp"] > 0 and figures["left_out"]["negative_duration"] > 0


def test_a_batch_counts_only_its_rows_and_an_unknown_batch_is_named(sqlite_url: str) -> None:
    load(sqlite_url, "week36", "week36.csv")
    load(sqlite_url, "week37", "week37.csv")
    one = baseline_by_agency(database_url=sqlite_url, batch="week36")
    both = baseline_by_agency(database_url=sqlite_url, batch=None)
    assert one == {"batch": "week36", **expected_from_csv("week36.csv")}
    assert both == {"batch": None, **expected_from_csv("week36.csv", "week37.csv")}
    with pytest.raises(NotFound, match="import batch 'nope' does not exist"):
        baseline_by_agency(database_url=sqlite_url, batch="nope")


def test_date_only_history_is_left_out_as_missing_times(sqlite_url: str, tmp_path: Path) -> None:
    source = shared_data() / "cfs" / "sacramento" / "january_2019_dispatch.csv"
    lines = source.read_text(encoding="utf-8-sig").splitlines(keepends=True)[:51]
    path = tmp_path / "sacramento.csv"
    path.write_text("".join(lines), encoding="utf-8")
    engine = make_engine(sqlite_url)
    try:
        import_files(engine=engine, profile=load_profile_by_name("sacramento-opendata"), paths=[path],
                     batch_label="sac", now=NOW)
    finally:
        engine.dispose()
    figures = baseline_by_agency(database_url=sqlite_url, batch="sac")
    assert figures["agencies"] == {"POLICE": {
        "responses": 0, "avg_minutes_to_scene": None, "avg_minutes_on_scene": None, "avg_total_minutes": None,
        "left_out": {"missing_timestamp": 50, "negative_duration": 0}}}
