"""Baseline figures per agency on imported history: the dashboard's definitions, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.calls.cad.importer import import_files
from heart.calls.cad.profiles import load_profile_by_name
from heart.calls.models import CadRecord, ImportBatch
from heart.db import make_engine, transaction
from heart.dispatch.models import Response
from heart.errors import NotFound
from heart.metrics.backends import open_database
from heart.metrics.baseline import baseline_by_agency
from heart.metrics.definitions import Period
from heart.metrics.service import compute_metrics, round_half_up
from tests import factories
from tests.conftest import shared_data

ALEXANDRIA = shared_data() / "cfs" / "alexandria_va"
NOW = datetime(2025, 12, 1, tzinfo=UTC)


@pytest.fixture
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
    """The dashboard's figures computed straight from the CSV (these weeks have no clock change): exact means of the
    durations, rounded half-up to two decimals."""
    sums: dict[str, list[Fraction]] = defaultdict(lambda: [Fraction(0)] * 6)
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
                to_scene = Fraction((on_scene - dispatched) // timedelta(microseconds=1), 60_000_000)
                at_scene = Fraction((cleared - on_scene) // timedelta(microseconds=1), 60_000_000)
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
            "avg_minutes_to_scene": round_half_up(t[1] / t[0]),
            "avg_minutes_on_scene": round_half_up(t[2] / t[0]),
            "avg_total_minutes": round_half_up(t[3] / t[0]),
            "left_out": {"missing_timestamp": int(t[4]), "negative_duration": int(t[5])},
        }
        for agency, t in sorted(sums.items())
    }
    left_out = {"missing_timestamp": sum(int(t[4]) for t in sums.values()),
                "negative_duration": sum(int(t[5]) for t in sums.values())}
    return {"agencies": agencies, "left_out": left_out}


@pytest.mark.usefixtures("_real_data")
def test_the_figures_match_an_independent_count_of_the_export(database_url: str) -> None:
    load(database_url, "two-weeks", "week35.csv", "week40.csv")
    figures = baseline_by_agency(database_url=database_url, batch="two-weeks")
    assert figures == {"batch": "two-weeks", **expected_from_csv("week35.csv", "week40.csv")}
    assert set(figures["agencies"]) == {"POLICE", "EMS", "FIRE"}
    assert figures["left_out"]["missing_timestamp"] > 0 and figures["left_out"]["negative_duration"] > 0


@pytest.mark.usefixtures("_real_data")
def test_a_batch_counts_only_its_rows_and_an_unknown_batch_is_named(sqlite_url: str) -> None:
    load(sqlite_url, "week36", "week36.csv")
    load(sqlite_url, "week37", "week37.csv")
    one = baseline_by_agency(database_url=sqlite_url, batch="week36")
    both = baseline_by_agency(database_url=sqlite_url, batch=None)
    assert one == {"batch": "week36", **expected_from_csv("week36.csv")}
    assert both == {"batch": None, **expected_from_csv("week36.csv", "week37.csv")}
    with pytest.raises(NotFound, match="import batch 'nope' does not exist"):
        baseline_by_agency(database_url=sqlite_url, batch="nope")


@pytest.mark.usefixtures("_real_data")
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


MINUTE_US = 60_000_000
SAME_DATA = [  # (microseconds to the scene, microseconds on the scene); None: the time is missing
    (60_300_000, 10 * MINUTE_US),  # 1.005 minutes to the scene: a float mean prints 1.00, the exact one 1.01
    (60_300_000, 600_900_000),
    (None, 20 * MINUTE_US),  # cleared without an arrival time: left out of both
    (-MINUTE_US, 5 * MINUTE_US),  # arrival before dispatch: left out of both
]


def test_the_baseline_and_the_dashboard_print_the_same_digits_on_the_same_data(
    database_url: str, sessions: sessionmaker[Session],
) -> None:
    """The same four responses as HEART's own and as imported CAD rows: one formula, one rounding, the same digits."""
    start = datetime(2025, 3, 3, 12, tzinfo=UTC)
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=start)
        unit = factories.unit(session, crt, "CRT-1", now=start, on_duty=False)
        batch = ImportBatch(label="same", profile="test", profile_version=1, created_at=start, summary={})
        session.add(batch)
        session.flush()
        for i, (to_scene, on_scene) in enumerate(SAME_DATA):
            dispatched = start + timedelta(hours=i)
            arrived = None if to_scene is None else dispatched + timedelta(microseconds=to_scene)
            cleared = (arrived or dispatched) + timedelta(microseconds=on_scene)
            call = factories.call(session, now=dispatched)
            session.add(Response(call_id=call.id, unit_id=unit.id, program_id=crt.id, dispatched_at=dispatched,
                                 on_scene_at=arrived, cleared_at=cleared))
            session.add(CadRecord(batch_id=batch.id, profile="test", row_key=f"row-{i}", source_file="same.csv",
                                  source_line=i + 2, agency="CRT", dispatched_at=dispatched, on_scene_at=arrived,
                                  cleared_at=cleared))
    baseline = baseline_by_agency(database_url=database_url, batch="same")["agencies"]["CRT"]
    with open_database(database_url) as source:
        dashboard = compute_metrics(source=source, period=Period()).programs["CRT"]
    shown = ("responses", "avg_minutes_to_scene", "avg_minutes_on_scene", "avg_total_minutes")
    assert {key: f"{baseline[key]:.2f}" for key in shown} == {key: f"{getattr(dashboard, key):.2f}" for key in shown} \
        == {"responses": "2.00", "avg_minutes_to_scene": "1.01", "avg_minutes_on_scene": "10.01",
            "avg_total_minutes": "11.01"}
    assert baseline["left_out"] == {"missing_timestamp": 1, "negative_duration": 1}
    assert dashboard.data_quality.excluded_responses == 2
