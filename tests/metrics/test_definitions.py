"""Every figure against values worked out by hand (see conftest.py for the rows), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from heart.errors import NotFound
from heart.metrics import definitions as d
from heart.metrics.backends import open_database, open_parquet
from heart.metrics.backends.duckdb import export_history
from heart.metrics.schemas import MetricsReport
from heart.metrics.service import compute_metrics, quantile_minutes, round_half_up
from tests.metrics.conftest import load_history

MARCH = d.Period(since=date(2024, 3, 1), until=date(2024, 3, 31))


def report(url: str, period: d.Period = MARCH, program: str | None = None) -> MetricsReport:
    with open_database(url) as source:
        return compute_metrics(source=source, period=period, program=program)


def test_march_figures_match_the_hand_computed_values(history_url: str) -> None:
    crt = report(history_url).programs["CRT"]
    # counted: rows 1, 2, 3, 4, 12, 13. To scene 10 + 12.5 + (20 min 0.5 s) + 15 + 20 + 0 = 77.5083 min;
    # on scene 30 + 40 + 30 + 45 + 30 + 0 = 175 min; total (77.5083 + 175) / 6 = 42.0847, not 12.92 + 29.17.
    assert crt.responses == 6
    assert (crt.avg_minutes_to_scene, crt.avg_minutes_on_scene, crt.avg_total_minutes) == (12.92, 29.17, 42.08)
    assert crt.pct_needed_transport == 33.33  # rows 1 and 4
    assert crt.pct_needed_pd_backup_for_team_safety == 16.67  # row 2
    assert crt.pct_needed_ems_support == 16.67  # row 3
    # call → on scene, row 12 left out: 2, 12, 16, 17, 21.0125 → median 16, p90 at 3.6: 17 + 0.6 × 4.0125
    assert (crt.median_minutes_received_to_scene, crt.p90_minutes_received_to_scene) == (16.0, 19.41)
    assert crt.cancelled_responses == 1  # row 10 (row 11 is February; row 15 was also cleared)
    assert crt.data_quality.model_dump() == {
        "excluded_responses": 4, "missing_on_scene": 1, "negative_minutes_to_scene": 1,
        "negative_minutes_on_scene": 1, "cleared_and_cancelled": 1, "negative_received_to_scene": 1}
    assert crt.responses_by_call_type == {"trespass_unwanted": 2, "welfare_check": 2, "assist_person": 1,
                                          "mental_health_crisis": 1}
    hours = {hour: n for hour, n in enumerate(crt.responses_by_hour) if n}
    assert hours == {10: 2, 14: 1, 12: 1, 21: 1, 22: 1}  # EST before March 10, EDT after
    assert crt.responses_by_month == {"2024-03": 6}  # row 4 cleared on April 1 UTC, March 31 in New York


def test_daylight_saving_time_and_a_second_time_zone(history_url: str) -> None:
    programs = report(history_url).programs
    cor, denver = programs["COR"], programs["DEN"]
    assert (cor.responses, cor.avg_minutes_to_scene, cor.avg_minutes_on_scene, cor.avg_total_minutes) == (
        2, 13.5, 54.0, 67.5)
    assert (cor.pct_needed_transport, cor.pct_needed_pd_backup_for_team_safety) == (50.0, 0.0)
    assert (cor.median_minutes_received_to_scene, cor.p90_minutes_received_to_scene) == (21.0, 21.8)
    assert {h: n for h, n in enumerate(cor.responses_by_hour) if n} == {1: 1, 3: 1}  # 06:30 and 07:30 UTC
    # Denver's second response clears at 23:30 on March 31 there (05:30 UTC April 1): in March.
    assert (denver.responses, denver.avg_minutes_to_scene, denver.avg_minutes_on_scene) == (2, 7.5, 37.5)
    assert {h: n for h, n in enumerate(denver.responses_by_hour) if n} == {21: 1, 23: 1}
    assert set(programs) == {"COR", "CRT", "DEN"}  # CCD has no responses


def test_all_time_rounds_half_up_and_counts_every_month(history_url: str) -> None:
    crt = report(history_url, d.Period()).programs["CRT"]
    # adds rows 5 (10 + 20 min, call → scene 15) and 6 (10 + 10, 15)
    assert crt.responses == 8
    assert (crt.avg_minutes_to_scene, crt.avg_minutes_on_scene, crt.avg_total_minutes) == (12.19, 25.63, 37.81)
    assert (crt.pct_needed_transport, crt.pct_needed_pd_backup_for_team_safety) == (25.0, 12.5)
    # 2, 12, 15, 15, 16, 17, 21.0125: median 15; p90 at 5.4: 17 + 0.4 × 4.0125 = 18.605 → 18.61
    assert (crt.median_minutes_received_to_scene, crt.p90_minutes_received_to_scene) == (15.0, 18.61)
    assert crt.cancelled_responses == 2
    assert crt.responses_by_month == {"2024-02": 1, "2024-03": 6, "2024-04": 1}


def test_period_boundaries_are_local_midnights(history_url: str) -> None:
    april_first = report(history_url, d.Period(since=date(2024, 4, 1), until=date(2024, 4, 1)))
    assert april_first.programs["CRT"].responses == 1  # row 6, cleared at 00:00 in New York
    assert april_first.programs["DEN"].responses == 0  # 23:30 on March 31 in Denver
    february = report(history_url, d.Period(until=date(2024, 2, 29))).programs["CRT"]
    assert (february.responses, february.cancelled_responses) == (1, 1)  # rows 5 and 11


def test_one_program_and_an_unknown_one(history_url: str) -> None:
    only = report(history_url, program="COR")
    assert list(only.programs) == ["COR"] and only.programs["COR"].responses == 2
    assert report(history_url, program="CCD").programs["CCD"].responses == 0  # exists, no responses
    with pytest.raises(NotFound):
        report(history_url, program="XYZ")


def test_sqlite_postgresql_and_duckdb_give_identical_reports(sqlite_url: str, postgres_url: str,
                                                             tmp_path: Path) -> None:
    reports = []
    for url in (sqlite_url, postgres_url):
        from heart.db import make_engine

        engine = make_engine(url)
        load_history(engine)
        engine.dispose()
        reports.append([report(url, period).model_dump() for period in (MARCH, d.Period())])
    with open_database(sqlite_url) as source:
        export_history(source, tmp_path / "history.parquet")
    with open_parquet(str(tmp_path / "history.parquet")) as source:
        reports.append([compute_metrics(source=source, period=period).model_dump() for period in (MARCH, d.Period())])
    assert reports[0] == reports[1] == reports[2]


def test_an_empty_history_has_no_programs(sqlite_url: str) -> None:
    assert report(sqlite_url).programs == {}


def test_rounding_and_quantiles_are_exact() -> None:
    assert round_half_up(Fraction(25625, 1000)) == 25.63  # a float 25.625 may round either way
    assert round_half_up(Fraction(-1, 8)) == -0.13
    neighbours = {"n": 5, "median_low": 960_000_000, "median_high": 960_000_000, "p90_low": 1_020_000_000,
                  "p90_high": 1_260_750_000}
    assert quantile_minutes(neighbours) == {"median": 16.0, "p90": 19.41}
    assert quantile_minutes({"n": 5, "median": 960_000_000.0, "p90": 1_164_450_000.0}) == {"median": 16.0,
                                                                                           "p90": 19.41}
    assert quantile_minutes({"n": 0, "median_low": None}) == {"median": None, "p90": None}


def test_zone_transitions_and_steps() -> None:
    first = d.to_micros(datetime(2024, 1, 1, tzinfo=UTC))
    last = d.to_micros(datetime(2024, 12, 31, tzinfo=UTC))
    offsets = d.zone_offsets("America/New_York", first, last)
    assert [(datetime.fromtimestamp(at / 1e6, UTC), off // 3_600_000_000) for at, off in offsets[1:]] == [
        (datetime(2024, 3, 10, 7, tzinfo=UTC), -4), (datetime(2024, 11, 3, 6, tzinfo=UTC), -5)]
    assert d.LocalClock(["America/New_York"], first, last).step_us == 3_600_000_000
    assert d.LocalClock(["Asia/Kolkata"], first, last).step_us == 1_800_000_000
    with pytest.raises(ValueError, match="before it starts"):
        d.Period(since=date(2024, 3, 2), until=date(2024, 3, 1))


def test_the_benchmark_engines_agree_on_a_small_history(tmp_path: Path) -> None:
    from benchmarks.metrics import disagreements, run_duckdb, run_pandas, synthesize

    path = tmp_path / "history.parquet"
    synthesize(path, 20_000)
    duckdb_figures = run_duckdb(path, threads=1)
    assert len(duckdb_figures) == 240  # two programs × ten years of months
    assert disagreements(duckdb_figures, run_pandas(path)) == []
