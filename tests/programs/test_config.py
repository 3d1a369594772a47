"""Programs, hours and units from a YAML file and through the admin API; settings that refuse to be unsafe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import Settings
from heart.db import transaction, utcnow
from heart.programs.models import Program, Unit
from heart.programs.service import is_open, load_programs, read_programs_file
from heart.yamlfile import YamlFileError
from tests.conftest import REPO_ROOT

DURHAM = REPO_ROOT / "cities" / "durham" / "programs.yaml"


def test_loading_the_durham_file_twice_adds_nothing_the_second_time(sessions: sessionmaker[Session]) -> None:
    config = read_programs_file(DURHAM)
    with transaction(sessions) as session:
        first = load_programs(session=session, config=config, now=utcnow(), actor_id=None)
    with transaction(sessions) as session:
        second = load_programs(session=session, config=config, now=utcnow(), actor_id=None)
    assert (first.programs_added, first.units_added) == (6, 9)
    assert (second.programs_added, second.units_added, second.programs_updated) == (0, 0, 6)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Unit)) == 9
        cor = session.scalars(select(Program).where(Program.code == "COR")).one()
    # Co-Response works 06:00-21:00 Durham time; 20:30 EST is 01:30 UTC the next day.
    assert is_open(cor, datetime(2026, 1, 15, 1, 30, tzinfo=UTC))
    assert not is_open(cor, datetime(2026, 1, 15, 2, 30, tzinfo=UTC))


def test_a_bad_file_names_the_line_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "programs.yaml"
    bad.write_text("programs:\n  - code: CRT\n    name: Teams\n    kind: field\n"
                   "    hours: {daily: [[\"22:00\", \"06:00\"]]}\nunits:\n  - {call_sign: X-1, program: NOPE}\n")
    with pytest.raises(YamlFileError) as error:
        read_programs_file(bad)
    assert "line 5" in str(error.value) and "start before end" in str(error.value)
    bad.write_text("programs:\n  - {code: CRT, name: T, kind: field, hours: {daily: [['10:00', '22:00']]}}\n"
                   "units:\n  - {call_sign: X-1, program: NOPE}\n")
    with pytest.raises(YamlFileError, match=r"line 4: units.0.program: unit X-1 names unknown program 'NOPE'"):
        read_programs_file(bad)
    bad.write_text("programs: [\n")
    with pytest.raises(YamlFileError, match="not valid YAML"):
        read_programs_file(bad)


def test_the_admin_api_creates_programs_and_units(signed_in: Callable[..., TestClient]) -> None:
    admin = signed_in(Role.ADMIN)
    put = admin.put("/api/programs/CRT", json={"code": "CRT", "name": "Community Response", "kind": "field",
                                               "hours": {"daily": [["10:00", "22:00"]]},
                                               "crew_roles": ["licensed clinician", "EMT"]})
    assert put.status_code == 200, put.text
    assert put.json()["hours"]["sun"] == [["10:00", "22:00"]]
    unit = admin.post("/api/units", json={"call_sign": "CRT-7", "program_code": "CRT"})
    assert unit.status_code == 201 and unit.json()["status"] == "off_duty"
    assert admin.post("/api/units", json={"call_sign": "CRT-7", "program_code": "CRT"}).status_code == 409
    unknown = admin.post("/api/units", json={"call_sign": "Z-1", "program_code": "ZZZ"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "program_code"


def test_a_unit_goes_on_duty_only_with_a_complete_crew(signed_in: Callable[..., TestClient]) -> None:
    admin = signed_in(Role.ADMIN)
    admin.put("/api/programs/CRT", json={"code": "CRT", "name": "CRT", "kind": "field",
                                         "hours": {"daily": [["00:00", "24:00"]]},
                                         "crew_roles": ["licensed clinician", "EMT"]})
    unit_id = admin.post("/api/units", json={"call_sign": "CRT-1", "program_code": "CRT"}).json()["id"]
    clinician = admin.post("/api/staff", json={"name": "A. Clinician", "role": "licensed clinician"}).json()["id"]
    emt = admin.post("/api/staff", json={"name": "B. Medic", "role": "EMT"}).json()["id"]
    ends = "2999-01-01T00:00:00Z"
    short = admin.post(f"/api/units/{unit_id}/on-duty",
                       json={"crew": [{"staff_id": clinician, "role": "licensed clinician"}], "ends_at": ends})
    assert short.status_code == 409 and short.json()["detail"] == "CRT-1 needs a full crew; missing: EMT"
    full = admin.post(f"/api/units/{unit_id}/on-duty", json={"ends_at": ends, "crew": [
        {"staff_id": clinician, "role": "licensed clinician"}, {"staff_id": emt, "role": "EMT"}]})
    assert full.status_code == 200 and full.json()["status"] == "available"
    assert admin.post(f"/api/units/{unit_id}/off-duty", json={}).json()["status"] == "off_duty"


def test_settings_refuse_the_development_secret_outside_development() -> None:
    with pytest.raises(ValidationError, match="HEART_SECRET_KEY"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", secret_key="short")
    assert Settings(env="development").secure_cookies is False
    assert Settings(env="production", secret_key="k" * 40).secure_cookies is True
