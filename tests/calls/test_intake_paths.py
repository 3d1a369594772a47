"""One table of call types, every intake path: the same words give the same incident type, and the same danger.

The call-taker's screen, the JSON API, a NENA EIDO document, a CAD history import and a policy replay all read a
nature code through ``heart.crosswalk.mapper``; a path that grew its own table again would fail here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.cad.importer import import_files
from heart.calls.cad.profiles import load_profile_by_name
from heart.calls.models import CadRecord
from heart.db import make_engine
from heart.triage.policy import load_policy_by_name
from heart.triage.replay import prepare_calls
from tests.calls.cad.test_importer import ALEXANDRIA, read_csv, write_csv
from tests.calls.eido.documents import eido
from tests.factories import UNARMED_TEAM_TYPES

pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
              pytest.mark.usefixtures("all_day_policy")]

# (nature code, incident type or None for "unknown type", kinds of danger its words name)
CASES: list[tuple[str, str | None, set[str]]] = [
    ("MENTAL HEALTH CASE", "mental_health_crisis", set()),
    ("SUICIDAL SUBJECT", "suicide_threat", set()),
    ("SUICIDE THREAT WITH WEAPON", "crisis_with_violence", {"weapon"}),
    ("SUICIDAL PERSON W/ KNIFE", "crisis_with_violence", {"weapon"}),
    ("SUBJECT ARMED WITH KNIFE", "person_with_weapon", {"weapon"}),
    ("MENTAL PERSON - ARMED", "crisis_with_violence", {"weapon"}),
    ("DIP - DRUNK/INTOX PERSON", "intoxicated_person", set()),
    ("DRUNK - OVERDOSE", "overdose", {"overdose"}),
    ("CHECK WELFARE - NOT BREATHING", "medical_emergency", {"threat_to_life"}),
    ("PANHANDLER THREATENING PEOPLE", "harassment", {"violence"}),
    ("PAPER SERVICE", "ivc_order", set()),  # a phrase of the call-type words (once the policy's own table)
    ("DISTURBANCE - NO WEAPONS", "disturbance", set()),  # "no weapons" is not a weapon report...
    ("SUICIDE THREAT - NO WEAPON", "crisis_with_violence", set()),  # ...but keeps the unarmed-team type away
    ("man talking to himself outside store", None, set()),
]
CODES = [code for code, _, _ in CASES]


def _screen(client: TestClient, code: str) -> dict[str, object]:
    saved = client.post("/calls/new", data={"nature_code": code, "priority": "3"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    return dict(client.get(f"/api/calls/{saved.headers['location'].split('/')[2]}").json())


def _api(client: TestClient, code: str) -> dict[str, object]:
    created = client.post("/api/calls", json={"nature_code": code, "priority": "3"})
    assert created.status_code == 201, created.text
    return dict(created.json())


def _eido(client: TestClient, code: str, number: int) -> dict[str, object]:
    document = eido(incidentTypeInternalText=code)
    document["$id"] = document["$id"].replace("a56e556d871", f"case{number:04d}")
    posted = client.post("/api/eido", json=document)
    assert posted.status_code == 201, posted.text
    return dict(posted.json()["call"])


def _cad(database_url: str, tmp_path: Path) -> dict[str, tuple[str | None, str | None]]:
    header, rows = read_csv(ALEXANDRIA / "week35.csv")
    problem, number = header.index("Problem"), header.index("Master_Incident_Number")
    made = []
    for i, code in enumerate(CODES):
        row = list(rows[0])
        row[problem], row[number] = code, f"25-9{i:05d}"
        made.append(row)
    path = write_csv(tmp_path / "cases.csv", header, made)
    engine = make_engine(database_url)
    try:
        summary = import_files(engine=engine, profile=load_profile_by_name("alexandria-decc"), paths=[path],
                               batch_label="cases", now=datetime(2025, 12, 1, tzinfo=UTC))
        assert summary.total("imported") == len(CODES)
        with engine.connect() as connection:
            found = connection.execute(select(CadRecord.nature_code, CadRecord.incident_type, CadRecord.category))
            return {code: (kind, category) for code, kind, category in found}
    finally:
        engine.dispose()


def test_every_intake_path_reads_a_call_type_the_same_way(
    signed_in: Callable[..., TestClient], database_url: str, tmp_path: Path, sessions: sessionmaker[Session],
) -> None:
    if not (ALEXANDRIA / "week35.csv").exists():
        pytest.skip("the Alexandria CAD sample is not in ../shared/data")
    client = signed_in(Role.CALL_TAKER)
    cad = _cad(database_url, tmp_path)
    replayed = prepare_calls(pd.DataFrame({"incident_type": [None] * len(CODES), "nature_code": CODES,
                                           "priority": ["3"] * len(CODES),
                                           "received_at": pd.to_datetime(["2025-06-03T14:00:00Z"] * len(CODES))}),
                             load_policy_by_name("durham"), zone=load_policy_by_name("durham").timezone)
    for number, (code, expected, danger) in enumerate(CASES):
        screen, api, document = _screen(client, code), _api(client, code), _eido(client, code, number)
        paths = {"screen": screen["incident_type"], "api": api["incident_type"],
                 "eido": document["incident_type"], "cad": cad[code][0]}
        assert set(paths.values()) == {expected}, f"{code!r}: {paths}"
        categories = {screen["category"], api["category"], document["category"], cad[code][1]}
        assert len(categories) == 1, f"{code!r}: {categories}"
        assert replayed["incident_type"][number] == (expected or "other"), code
        reading = client.get("/api/call-types/read", params={"text": code}).json()
        assert (reading["incident_type"], set(reading["danger"])) == (expected, danger), code
        if danger:
            assert expected not in UNARMED_TEAM_TYPES, code
        if expected is None:
            assert reading["suggestions"], f"{code!r} is unknown and gets no suggestion"


def test_an_unknown_type_gets_suggestions_not_a_default(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.CALL_TAKER)
    reading = client.get("/api/call-types/read", params={"text": "man talking to himself outside store"}).json()
    assert reading["incident_type"] is None and reading["source"] == "unknown"
    best = reading["suggestions"][0]
    assert (best["incident_type"], best["label"]) == ("mental_health_crisis", "Mental health crisis")
    assert 0 < best["confidence"] < 1
    armed = client.get("/api/call-types/read", params={"text": "man with a machete talking to himself"}).json()
    assert armed["incident_type"] is None and armed["danger"] == {"weapon": ["MACHETE"]}
    offered = [s["incident_type"] for s in armed["suggestions"]]
    assert offered[0] == "crisis_with_violence" and not set(offered) & UNARMED_TEAM_TYPES  # the same guard
    preview = client.post("/triage/preview", data={"nature_code": "man talking to himself outside store"}).text
    assert "Unknown type" in preview and 'data-pick-type="mental_health_crisis"' in preview
    assert "It blocks nothing" in preview
