"""Scenarios as files: the shipped Durham baseline reproduces the published figures, the 24/7 one reads as
its changes, and a bad scenario is refused with its file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from heart.simulation.model import CITIES_DIR, city_files, load_city_model
from heart.simulation.report import target_checks
from heart.simulation.runner import replicate, summarise
from heart.simulation.scenario import ScenarioError, compile_scenario, load_scenario, scenario_paths


def test_durham_2025_reproduces_the_published_reach_and_minutes_to_scene() -> None:
    compiled = compile_scenario(load_scenario("durham-2025"))
    runs = replicate(compiled.simulation, replications=6, seed=compiled.scenario.seed, workers=2)
    summary = summarise(runs)
    for run in runs:  # every eligible call is answered or missed for one reason, never both
        for code in ("CRT", "COR", "CCD"):
            assert run[f"{code}.eligible"] == (run[f"{code}.answered"] + run[f"{code}.missed_closed"]
                                               + run[f"{code}.missed_no_unit"])
    checks = target_checks(compiled, summary)
    assert {c.figure for c in checks} == {"CRT.reach_pct", "COR.reach_pct", "CCD.reach_pct",
                                          "CRT.avg_minutes_to_scene", "COR.avg_minutes_to_scene"}
    for check in checks:
        assert check.met, f"{check.figure}: simulated {check.simulated.mean:.2f}, published {check.published}"
    # nobody answers from midnight to 6 a.m.: every eligible call then is missed as "closed"
    for code in ("CRT", "COR"):
        night = summary.by_hour(f"{code}.reach_pct_by_hour")[:6]
        assert all(hour.mean == 0 for hour in night if hour.replications)


def test_durham_24x7_is_the_2025_program_plus_night_teams() -> None:
    baseline = compile_scenario(load_scenario("durham-2025"))
    nights = compile_scenario(load_scenario("durham-24x7"))
    assert nights.hours["CRT"] == "00:00-24:00" and nights.hours["COR"] == baseline.hours["COR"]
    assert [s.teams for s in nights.shifts["CRT"]] == [1, 1, 1]
    assert nights.shifts["COR"] == baseline.shifts["COR"]
    assert nights.scenario.call_volume == baseline.scenario.call_volume  # inherited
    assert nights.scenario.targets == []  # the published figures belong to 2025
    spring = load_scenario("durham-24x7")  # two months are enough to see the night covered
    spring = spring.model_copy(update={"period": spring.period.model_copy(update={"days": 60})})
    summary = summarise(replicate(compile_scenario(spring).simulation, replications=2, seed=1, workers=1))
    assert summary.estimate("CRT.missed_closed").mean == 0
    assert summary.estimate("CRT.reach_pct").mean > 65


def test_the_city_files_are_found_in_one_place() -> None:
    files = city_files("durham")
    assert files.config == CITIES_DIR / "durham" / "programs.yaml" and files.config.is_file()
    assert files.model.is_file() and files.policy == "durham" and (files.policies / "durham.yaml").is_file()
    assert set(scenario_paths()) >= {"durham-2025", "durham-24x7"}
    model = load_city_model("durham")
    assert model.responses["CRT"].on_scene_minutes == 33.49  # published, one copy shared with the demo
    from heart.demo.calibration import calibration

    assert model.calls.mix == calibration("durham").CALL_MIX


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "line", "words"), [
    ("scenario: x\ncity: durham\nperiod: {start: 2025-01-01, days: 0}\n", 3, "period.days"),
    ("scenario: x\ncity: durham\nperiod: {start: 2025-01-01, days: 30}\nprograms:\n  CRT:\n"
     "    shifts:\n      - {start: '25:00', end: '10:00', teams: 1}\n", 7, "programs.CRT.shifts.0.start"),
    ("scenario: x\ncity: durham\nperiod: {start: 2025-01-01, days: 30}\ncall_volum: 2\n", 4, "call_volum"),
    ("scenario: x\ncity: durham\nperiod: {start: 2025-01-01, days: 30}\nprograms:\n  CRT:\n"
     "    hours: ['10:00-10:00']\n", 6, "same time"),
])
def test_a_bad_scenario_names_its_file_line_and_field(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(str(path))
    assert str(path) in str(raised.value) and f"line {line}" in str(raised.value) and words in str(raised.value)


def test_unknown_programs_and_scenarios_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "scenario: x\ncity: durham\nperiod: {start: 2025-01-01, days: 30}\n"
                            "programs:\n  PD:\n    hours: ['00:00-24:00']\n")
    with pytest.raises(ScenarioError, match="no program PD with hours"):
        compile_scenario(load_scenario(str(path)))
    with pytest.raises(ScenarioError, match="shipped scenarios: durham-2025"):
        load_scenario("durham-1999")
    looped = _write(tmp_path, "scenario: x\nextends: mine\ncity: durham\nperiod: {start: 2025-01-01, days: 3}\n")
    with pytest.raises(ScenarioError, match="cannot extend itself"):
        load_scenario(str(looped))
