"""Program codes are the city's words, not HEART's: Durham with every program code renamed (CRT → STAR, PD → POLICE
…) decides every call the same way and publishes the same figures.

The renamed copy is Durham's folder written into a temporary folder with each code replaced in its programs, policy,
care rules, scenarios and demo files (the call-type words are left as they are: they are words of the CAD, not codes),
and served through ``HEART_CITY`` set to that folder. Nothing in Python knows either set of codes.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heart.city.folder import CITIES_DIR
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.db import make_engine, make_sessionmaker, transaction
from heart.metrics.backends import open_database
from heart.metrics.definitions import Period
from heart.metrics.service import compute_metrics
from heart.triage.engine import CallFacts, decide
from heart.triage.policy import PRIORITIES, Policy, load_policy

DURHAM = CITIES_DIR / "durham"
RENAMES = {"CRT": "STAR", "COR": "DUO", "CCD": "CALLDESK", "CN": "NAVIG", "IVC": "COMMIT", "OSC": "SURVIVOR",
           "PD": "POLICE", "EMS": "AMBULANCE", "FIRE": "BLAZE"}
BACK = {new: old for old, new in RENAMES.items()}
CALLS = 20_000


def _swap(text: str, table: dict[str, str]) -> str:
    pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(table, key=len, reverse=True)) + r")(?![A-Za-z0-9_])")
    return pattern.sub(lambda found: table[found.group(1)], text)


def renamed_durham(folder: Path) -> Path:
    """Durham's city folder with every program code renamed, in ``folder``."""
    target = folder / "renamed"
    shutil.copytree(DURHAM, target, ignore=shutil.ignore_patterns("directory"))
    for path in target.rglob("*.yaml"):
        if "crosswalks" in path.parts or "resources" in path.parts:
            continue
        path.write_text(_swap(path.read_text(encoding="utf-8"), RENAMES), encoding="utf-8")
    return target


@pytest.fixture
def renamed(tmp_path: Path) -> Path:
    return renamed_durham(tmp_path)


def test_every_code_is_renamed_and_none_of_durhams_is_left(renamed: Path) -> None:
    programs = load_policy(renamed / "policies" / "durham.yaml", programs=renamed / "programs.yaml").programs
    assert list(programs) == ["CALLDESK", "STAR", "DUO", "POLICE", "AMBULANCE", "BLAZE"]
    assert programs["CALLDESK"].escalates_to == "STAR"
    for path in (renamed / "programs.yaml", renamed / "policies" / "durham.yaml", renamed / "care_navigation.yaml"):
        assert _swap(path.read_text(encoding="utf-8"), BACK) != path.read_text(encoding="utf-8")
        assert not re.search(r"(?<![A-Za-z0-9_])(CRT|COR|CCD|IVC|OSC)(?![A-Za-z0-9_])", path.read_text()), path


def _calls(count: int, policy: Policy, seed: int) -> list[tuple[CallFacts, datetime, dict[str, bool]]]:
    """Generated calls: every incident type (and none), priority, answer and minute of the week, and which programs
    have a unit free."""
    rng = random.Random(seed)
    types = [*INCIDENT_TYPES, None]
    timed = [code for code, program in policy.programs.items() if not program.always_open]
    start = datetime(2025, 3, 3, tzinfo=UTC)
    found = []
    for _ in range(count):
        screening = {q: rng.choice(("yes", "no", "no", "no", "unknown")) for q in policy.question_ids
                     if rng.random() < 0.9}
        facts = CallFacts(incident_type=rng.choice(types), priority=rng.choice((*PRIORITIES, None)),
                          screening=screening)
        at = start + timedelta(minutes=rng.randrange(7 * 24 * 60))
        found.append((facts, at, {code: rng.random() < 0.8 for code in timed}))
    return found


def test_the_same_calls_get_the_same_decisions(renamed: Path) -> None:
    durham = load_policy(DURHAM / "policies" / "durham.yaml", programs=DURHAM / "programs.yaml")
    other = load_policy(renamed / "policies" / "durham.yaml", programs=renamed / "programs.yaml")
    pathways: set[str] = set()
    for facts, at, free in _calls(CALLS, durham, seed=11):
        expected = decide(facts, durham, at, free)
        got = decide(facts, other, at, {RENAMES[code]: value for code, value in free.items()})
        assert got.pathway == RENAMES[expected.pathway]
        expected_json = {**expected.to_json(), "escalates_to": expected.escalates_to}
        got_json = {**got.to_json(), "escalates_to": got.escalates_to}
        assert json.loads(_swap(json.dumps(got_json), BACK)) == expected_json, facts
        pathways.add(expected.pathway)
    assert pathways == set(RENAMES) - {"CN", "IVC", "OSC"}  # every pathway was reached
    assert durham.text != other.text  # a renamed policy is another document, kept as such


def _history(folder: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A month of the city's demo history in a fresh database, and its figures."""
    from heart.demo.history import build_history
    from heart.demo.setup import load_demo_configuration
    from heart.migrate import upgrade

    monkeypatch.setenv("HEART_CITY", str(folder))
    upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            load_demo_configuration(session=session, now=datetime(2025, 6, 2, tzinfo=UTC), rng=random.Random(5))
            summary = build_history(session=session, seed=5, years=0.08, end=date(2025, 6, 2))
        with open_database(url) as source:
            report = compute_metrics(source=source, period=Period())
    finally:
        engine.dispose()
    return {"responses": summary.responses, "calls": summary.calls, "phone": summary.phone_contacts,
            "figures": report.model_dump(mode="json")}


def test_the_same_history_gives_the_same_figures(renamed: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _history(DURHAM, f"sqlite:///{tmp_path / 'durham.db'}", monkeypatch)
    got = _history(renamed, f"sqlite:///{tmp_path / 'renamed.db'}", monkeypatch)
    assert set(got["figures"]["programs"]) == {RENAMES[code] for code in expected["figures"]["programs"]}
    assert expected["responses"]["CRT"] > 100 and expected["phone"] > 10
    assert json.loads(_swap(json.dumps(got, sort_keys=True), BACK)) == json.loads(json.dumps(expected,
                                                                                            sort_keys=True))
