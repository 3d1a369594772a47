"""The programs' working hours are written twice — in config/durham.yaml (operations: shifts, the board) and in
policies/durham.yaml (decisions). If they drift apart, triage would send calls to a team that is not on shift, or
fall back while it is. This test keeps them in step."""

from __future__ import annotations

from heart.programs.schemas import DAYS
from heart.programs.service import read_programs_file
from heart.triage.policy import load_policy
from tests.conftest import REPO_ROOT


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def test_every_program_keeps_the_same_hours_in_the_configuration_and_the_policy() -> None:
    config = read_programs_file(REPO_ROOT / "config" / "durham.yaml")
    policy = load_policy(REPO_ROOT / "policies" / "durham.yaml")
    checked = []
    for program in config.programs:
        if program.code not in policy.programs:
            continue  # e.g. Care Navigation: not a triage pathway
        in_policy = set(policy.programs[program.code].hours)
        for day in DAYS:
            in_config = {(_minutes(start), _minutes(end)) for start, end in program.hours.get(day, [])}
            assert in_config == in_policy, f"{program.code} on {day}: config {in_config} != policy {in_policy}"
        checked.append(program.code)
    assert sorted(checked) == ["CCD", "COR", "CRT"]
