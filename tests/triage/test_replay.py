"""Replaying the Durham policy over imported CAD history, on SQLite and PostgreSQL: counts, hours, what-ifs."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from heart.calls.models import CadRecord, ImportBatch
from heart.config import get_settings
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.db import make_engine, transaction
from heart.triage.cli import app
from heart.triage.compiler import OUTPUT_COLUMNS
from heart.triage.policy import load_policy, load_policy_by_name
from heart.triage.replay import (
    GROUP_KEYS,
    OWN_ANSWERS,
    RECORDED,
    SCREENED,
    SCREENED_PHONE_OK,
    Assumptions,
    ReplayError,
    classify,
    engine_decisions,
    load_batch,
    prepare_calls,
    replay_batch,
    replay_calls,
    scenarios_for,
)
from tests.conftest import REPO_ROOT, shared_data
from tests.factories import write_programs

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

DURHAM = load_policy_by_name("durham")
EDT = timedelta(hours=-4)  # Durham in June
ALL_SCENARIOS = scenarios_for(assume_screened=True, assume_phone_ok=True)

# (agency, incident type, nature code, priority, local time in June or None)
SAMPLE = [
    ("POLICE", "suicide_threat", "SUICIDAL", "2", "14:00"),
    ("POLICE", "welfare_check", "CHECK WELFARE", "3", "23:30"),
    ("POLICE", "mental_health_crisis", "MENTAL", "2", "08:00"),
    ("POLICE", "assault", "ASSAULT", "1", "12:00"),
    ("EMS", "overdose", "OD", "1", "12:00"),
    ("FIRE", "fire", "STRUCTURE FIRE", "1", "12:10"),
    ("POLICE", "person_with_weapon", "MAN WITH GUN", "1", "16:00"),
    ("POLICE", None, "PANHANDLER", "4", "15:00"),  # no incident type stored: the policy's nature codes map it
    ("POLICE", "suicide_threat", "SUICIDAL", "2", "02:00"),
    ("POLICE", "trespass_unwanted", "TRESPASS", "3", None),  # a date-only record
    ("POLICE", "mental_health_crisis", "MENTAL", "1", "12:00"),
]


def add_batch(sessions: sessionmaker[Session], label: str, rows: list[dict[str, Any]]) -> None:
    """An import batch with these records, inserted directly (as `heart cad import` would leave them)."""
    with transaction(sessions) as session:
        batch = ImportBatch(label=label, profile="test-cad", profile_version=1, created_at=datetime.now(UTC))
        session.add(batch)
        session.flush()
        values = [{"batch_id": batch.id, "profile": "test-cad", "row_key": f"{label}-{i}", "source_file": "t.csv",
                   "source_line": i + 2, **row} for i, row in enumerate(rows)]
        session.execute(insert(CadRecord), values)


def sample_rows() -> list[dict[str, Any]]:
    rows = []
    for agency, incident_type, nature_code, priority, clock in SAMPLE:
        received_at = None
        if clock:
            hour, minute = map(int, clock.split(":"))
            received_at = datetime(2025, 6, 3, hour, minute, tzinfo=UTC) - EDT
        rows.append({"agency": agency, "incident_type": incident_type, "nature_code": nature_code,
                     "priority": priority, "received_at": received_at, "received_on": "2025-06-03"})
    return rows


@pytest.fixture
def sample(sessions: sessionmaker[Session], engine: Engine) -> Engine:
    add_batch(sessions, "sample", sample_rows())
    return engine


def pathways(result: Any) -> dict[str, int]:
    return {k: v for k, v in result.pathways().items() if v}


def test_replay_counts_each_pathway_under_each_assumption(sample: Engine) -> None:
    report = replay_batch(engine=sample, batch="sample", policy=DURHAM, scenarios=ALL_SCENARIOS)
    assert (report.calls, report.without_time, report.zone.key) == (11, 1, "America/New_York")
    recorded, screened, phone_ok = report.results
    # Unknown answers never count as no: nothing for the unarmed teams; crisis calls go to Co-Response.
    assert pathways(recorded) == {"COR": 3, "PD": 6, "EMS": 1, "FIRE": 1}
    assert pathways(screened) == {"CRT": 3, "COR": 1, "PD": 5, "EMS": 1, "FIRE": 1}
    assert pathways(phone_ok) == {"CCD": 3, "CRT": 1, "PD": 5, "EMS": 1, "FIRE": 1}
    assert recorded.closed() == {"COR": 1}
    assert screened.closed() == {"CRT": 4}  # 23:30, 08:00, 02:00 and the call without a time
    assert phone_ok.closed() == {"CCD": 2, "CRT": 1}
    assert recorded.by("local_hour")[12] == {"PD": 1, "EMS": 1, "FIRE": 1, "COR": 1}
    assert recorded.by("local_hour")[None] == {"PD": 1}
    assert screened.by("incident_type")["panhandling"] == {"CRT": 1}
    assert {r.program: (r.calls, r.outside_hours) for r in report.reach} == {
        "CCD": (5, 2), "CRT": (7, 4), "COR": (4, 1)}


def test_replay_filters_an_agency_and_reads_a_priority_as_p(sample: Engine) -> None:
    police = replay_batch(engine=sample, batch="sample", policy=DURHAM, agency="POLICE",
                          scenarios=(RECORDED, SCREENED), priority_p=["1"])
    assert police.calls == 9
    recorded, screened = police.results
    assert pathways(recorded) == {"COR": 2, "PD": 7}
    assert pathways(screened) == {"CRT": 2, "COR": 1, "PD": 6}


def test_compare_shows_what_changes_between_two_policies(sample: Engine, tmp_path: Path) -> None:
    text = re.sub(r"\nversion: \d+\n", "\nversion: 2\n", Path(DURHAM.source).read_text(encoding="utf-8"))
    (tmp_path / "crt-all-day.yaml").write_text(text, encoding="utf-8")
    programs = write_programs(tmp_path / "programs.yaml", {"CRT": "00:00-24:00"})
    all_day = load_policy(tmp_path / "crt-all-day.yaml", programs=programs)
    report = replay_batch(engine=sample, batch="sample", policy=DURHAM, compare=all_day, scenarios=(SCREENED,))
    matrix = report.results[0].transitions()
    assert matrix == {"CRT": {"CRT": 3}, "COR": {"CRT": 1}, "PD": {"CRT": 2, "PD": 3}, "EMS": {"EMS": 1},
                      "FIRE": {"FIRE": 1}}
    document = report.to_json()
    assert document["compare"] == {"policy": "durham", "version": 2}
    assert document["scenarios"][0]["compare_pathways"]["CRT"] == 6


def random_rows(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    focus = sorted(DURHAM.type_sets["crt_eligible"] | DURHAM.type_sets["crisis"] | {"ivc_order"})
    types = [*sorted(INCIDENT_TYPES), None]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [{
        "agency": rng.choice(["POLICE", "EMS", "FIRE"]),
        "incident_type": rng.choice(focus) if rng.random() < 0.5 else rng.choice(types),
        "nature_code": rng.choice(["PANHANDLER", "SUICIDE THREAT", "DRUNK", "IVC", "NOTHING KNOWN", None]),
        "priority": rng.choice(["P", "1", "2", "3", "4", "8", None]),
        "received_at": start + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
    } for _ in range(count)]


def test_a_replayed_batch_agrees_with_the_engine_call_for_call(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    add_batch(sessions, "random", random_rows(seed=5, count=1500))
    loaded = load_batch(engine=engine, batch="random")
    calls = prepare_calls(loaded.records, DURHAM, zone=DURHAM.timezone)
    con = ibis.duckdb.connect()
    table = ibis.memtable(calls)
    for scenario in ALL_SCENARIOS:
        with_answers = table.mutate(**Assumptions.of(DURHAM).columns(table, scenario))
        frame = con.execute(classify(with_answers, DURHAM))
        compiled = [tuple(None if value is None or value != value else value for value in row)
                    for row in frame[list(OUTPUT_COLUMNS)].itertuples(index=False)]
        expected = engine_decisions(calls, DURHAM, scenario)
        wrong = [(i, e, c) for i, (e, c) in enumerate(zip(expected, compiled, strict=True)) if e != c]
        assert not wrong, f"{scenario.name}: {len(wrong)} calls disagree, first {wrong[0]}"
        reached = {pathway for pathway, *_ in compiled}
        assert reached >= ({"CRT", "CCD", "COR", "PD"} if scenario is SCREENED_PHONE_OK else {"COR", "PD"})
        # The replay classifies each distinct combination of facts once and sums: the same counts.
        hours = calls["local_hour"].astype(int).tolist()
        types = calls["incident_type"].tolist()
        expected_counts = Counter((e[0], t, h, e[2], e[3]) for e, t, h in zip(expected, types, hours, strict=True))
        (result,) = replay_calls(calls, DURHAM, scenarios=(scenario,), con=con)
        replayed = Counter({tuple(None if v is None or v != v else v for v in row[:-1]): row[-1]
                            for row in result.counts[[*GROUP_KEYS, "calls"]].itertuples(index=False)})
        assert replayed == expected_counts


def test_an_unknown_batch_is_a_clear_error(sample: Engine) -> None:
    with pytest.raises(ReplayError, match="no import batch labelled 'nope' \\(recent batches: sample\\)"):
        replay_batch(engine=sample, batch="nope", policy=DURHAM)


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HEART_DATABASE_URL", database_url)
    monkeypatch.setenv("HEART_ENV", "development")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_replay_command_prints_tables_and_json(sample: Engine, configured: None) -> None:
    runner = CliRunner()
    table = runner.invoke(app, ["replay", "--batch", "sample", "--assume-screened"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Calls per pathway" in table.stdout and "By hour of day" in table.stdout
    assert "Outside program hours" in table.stdout and "1 calls have no time of day" in table.stdout
    as_json = runner.invoke(app, ["replay", "--batch", "sample", "--agency", "POLICE", "--format", "json"])
    document = json.loads(as_json.stdout)
    assert document["calls"] == 9 and document["scenarios"][0]["pathways"]["COR"] == 3
    assert document["scenarios"][0]["by_hour"]["none"] == {"PD": 1}
    missing = runner.invoke(app, ["replay", "--batch", "nope"])
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1 and "no import batch" in missing.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_alexandria_history_replays_with_pathway_counts(tmp_path: Path, database_url: str) -> None:
    files = sorted((shared_data() / "cfs" / "alexandria_va").glob("week[0-9]*.csv"))
    if not files:
        pytest.skip("the Alexandria CAD export is not present")
    heart = Path(sys.executable).parent / "heart"
    imported = subprocess.run([str(heart), "cad", "import", "--profile", "alexandria-decc", *map(str, files),
                               "--batch", "alexandria", "--format", "json", "--rejects", str(tmp_path / "r.csv")],
                              capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                              env={**os.environ, "HEART_ENV": "development", "HEART_DATABASE_URL": database_url})
    assert imported.returncode == 0, imported.stderr
    engine = make_engine(database_url)
    try:
        report = replay_batch(engine=engine, batch="alexandria", policy=DURHAM, agency="POLICE",
                              scenarios=ALL_SCENARIOS)
    finally:
        engine.dispose()
    assert report.calls > 5000 and report.zone.key == "America/New_York"
    recorded, screened, phone_ok = (result.pathways() for result in report.results)
    assert sum(recorded.values()) == sum(screened.values()) == report.calls
    assert recorded["CRT"] == recorded["CCD"] == 0 and recorded["COR"] > 0
    assert screened["CRT"] > 0 and phone_ok["CCD"] > 0
    assert phone_ok["CRT"] + phone_ok["CCD"] >= screened["CRT"]



def test_calls_with_their_own_answers_replay_as_the_engine_decides_them() -> None:
    rng = random.Random(16)
    focus = sorted(DURHAM.type_sets["crt_eligible"] | DURHAM.type_sets["crisis"] | {"ivc_order"})
    rows = []
    for _ in range(3000):
        row: dict[str, Any] = {
            "incident_type": rng.choice(focus) if rng.random() < 0.6 else rng.choice(sorted(INCIDENT_TYPES)),
            "priority": rng.choice(["P", "1", "2", "3", "4", None]),
            "local_minute": rng.randrange(24 * 60),
        }
        for question in DURHAM.question_ids:
            row[question] = rng.choice(["no", "no", "no", "yes"]) if rng.random() < 0.7 else rng.choice(
                ["yes", "no", "unknown", None, " No", "YES"])
        rows.append(row)
    calls = pd.DataFrame(rows)
    calls["local_hour"] = calls["local_minute"] // 60
    expected = engine_decisions(calls, DURHAM, OWN_ANSWERS)
    assert {pathway for pathway, *_ in expected} == {"CRT", "CCD", "COR", "PD", "EMS", "FIRE"}
    counts = Counter((e[0], t, h, e[2], e[3])
                     for e, t, h in zip(expected, calls["incident_type"], calls["local_hour"], strict=True))
    con = ibis.duckdb.connect()
    (result,) = replay_calls(calls, DURHAM, scenarios=(OWN_ANSWERS,), con=con)
    replayed = Counter({tuple(None if v is None or v != v else v for v in row[:-1]): row[-1]
                        for row in result.counts[[*GROUP_KEYS, "calls"]].itertuples(index=False)})
    assert replayed == counts
    # Against a second policy, each call is decided by both: every call stays where it was under the same policy.
    (both,) = replay_calls(calls, DURHAM, scenarios=(OWN_ANSWERS,), compare=DURHAM, con=con)
    matrix = both.transitions()
    assert matrix is not None
    assert all(set(after) == {before} for before, after in matrix.items())
    assert both.pathways() == result.pathways() == dict(Counter(e[0] for e in expected)) | {
        code: 0 for code in DURHAM.codes() if code not in {e[0] for e in expected}}


def test_calls_with_their_own_answers_against_a_second_policy_move_as_the_engine_moves_them(tmp_path: Path) -> None:
    text = re.sub(r"\nversion: \d+\n", "\nversion: 2\n", Path(DURHAM.source).read_text(encoding="utf-8"))
    (tmp_path / "crt-all-day.yaml").write_text(text, encoding="utf-8")
    programs = write_programs(tmp_path / "programs.yaml", {"CRT": "00:00-24:00"})
    all_day = load_policy(tmp_path / "crt-all-day.yaml", programs=programs)
    rng = random.Random(1616)
    rows = []
    for _ in range(2000):
        row: dict[str, Any] = {"incident_type": rng.choice([*sorted(DURHAM.type_sets["crt_eligible"]), None, "x"]),
                               "priority": rng.choice(["P", "2", None, " p"]), "local_minute": rng.randrange(1440)}
        for question in DURHAM.question_ids:
            row[question] = rng.choice(["no", "no", "no", "yes", None, "Unknown", " NO"])
        rows.append(row)
    calls = pd.DataFrame(rows)
    calls["local_hour"] = calls["local_minute"] // 60
    before = engine_decisions(calls, DURHAM, OWN_ANSWERS)
    after = engine_decisions(calls, all_day, OWN_ANSWERS)
    (both,) = replay_calls(calls, DURHAM, scenarios=(OWN_ANSWERS,), compare=all_day)
    expected: dict[str, dict[str, int]] = {}
    for first, second in zip(before, after, strict=True):
        expected.setdefault(first[0], {}).setdefault(second[0], 0)
        expected[first[0]][second[0]] += 1
    assert both.transitions() == expected
    assert expected["PD"].get("CRT", 0) > 0  # calls at night that CRT takes once it works around the clock
    assert both.closed() == dict(Counter(e[3] for e in before if e[2] == "program_closed"))
