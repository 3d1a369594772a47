"""`heart simulate`: a scenario's figures as a table or JSON, two scenarios compared with intervals, and
one clear line when the scenario is wrong."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from heart.cli import app
from heart.simulation.model import city_files

runner = CliRunner()


def _short(tmp_path: Path, name: str, extra: str = "") -> Path:
    """Two weeks of durham-2025 (plus ``extra``), so the command runs in seconds."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"scenario: {name}\nextends: {city_files('durham').scenarios / 'durham-2025.yaml'}\n"
                    "city: durham\nperiod: {start: 2025-06-02, days: 14, warmup_days: 1}\n" + extra,
                    encoding="utf-8")
    return path


NIGHT_CRT = """programs:
  CRT:
    hours: ["00:00-24:00"]
    shifts:
      - {start: "10:00", end: "22:00", teams: 1}
      - {start: "11:00", end: "21:00", teams: 1}
      - {start: "22:00", end: "10:00", teams: 1}
"""


def test_a_scenario_as_json_has_every_figure_with_its_interval(tmp_path: Path) -> None:
    path = _short(tmp_path, "short")
    result = runner.invoke(app, ["simulate", "--scenario", str(path), "--replications", "3", "--seed", "5",
                                 "--workers", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scenario"] == "short" and report["replications"] == 3 and report["seed"] == 5
    crt = report["programs"]["CRT"]
    assert crt["hours"] == "10:00-22:00" and [s["teams"] for s in crt["shifts"]] == [1, 1]
    reach = crt["figures"]["reach_pct"]
    assert reach["low"] <= reach["mean"] <= reach["high"] and 0 < reach["mean"] < 100
    for name in ("avg_minutes_to_scene", "median_minutes_to_scene", "p90_minutes_to_scene", "missed_closed",
                 "missed_no_unit", "utilization_pct", "overtime_hours"):
        assert crt["figures"][name]["mean"] is not None, name
    assert len(crt["by_hour"]["reach_pct"]) == 24 and crt["by_hour"]["reach_pct"][3]["mean"] == 0
    assert report["programs"]["CCD"]["figures"]["contacts"]["mean"] > 0


def test_the_table_shows_each_program_by_hour_and_the_published_figures() -> None:
    result = runner.invoke(app, ["simulate", "--scenario", "durham-2025", "--replications", "2", "--workers", "2"])
    assert result.exit_code == 0, result.output
    for words in ("Reach of eligible calls", "CRT by hour the call came in", "Published figures", "reproduced",
                  "Overtime hours"):
        assert words in result.stdout, words


def test_compare_prints_the_differences_with_intervals(tmp_path: Path) -> None:
    day, nights = _short(tmp_path, "day"), _short(tmp_path, "nights", NIGHT_CRT)
    result = runner.invoke(app, ["simulate", "compare", str(day), str(nights), "--replications", "3",
                                 "--workers", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    compared = json.loads(result.stdout)
    closed = compared["programs"]["CRT"]["missed_closed"]
    assert closed["second"]["mean"] == 0 and closed["difference"]["high"] < 0  # fewer missed for being closed
    reach = compared["programs"]["CRT"]["reach_pct"]["difference"]
    assert reach["low"] > 0  # 24-hour coverage reaches more, and the interval says so
    table = runner.invoke(app, ["simulate", "compare", str(day), str(nights), "--replications", "2",
                                "--workers", "1"])
    assert table.exit_code == 0 and "difference (95 % CI)" in table.stdout and "nights − day" in table.stdout


def test_mistakes_get_one_clear_line(tmp_path: Path) -> None:
    unknown = runner.invoke(app, ["simulate", "--scenario", "durham-1999"])
    assert unknown.exit_code == 1 and "no scenario named 'durham-1999'" in unknown.output
    assert "Traceback" not in unknown.output
    missing = runner.invoke(app, ["simulate"])
    assert missing.exit_code == 1 and "name a scenario" in missing.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("scenario: b\ncity: durham\nperiod: {start: 2025-01-01, days: 7}\nreplications: 1\n")
    refused = runner.invoke(app, ["simulate", "--scenario", str(broken)])
    assert refused.exit_code == 1 and "line 4" in refused.output and "replications" in refused.output
    listed = runner.invoke(app, ["simulate", "scenarios"])
    assert listed.exit_code == 0 and "durham-24x7" in listed.stdout
