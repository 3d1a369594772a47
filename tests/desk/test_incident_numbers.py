"""Incident numbers: every call gets the city's next number for its year, on every intake path, never twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.desk import DeskRules, IncidentNumber, load_desk_rules
from heart.calls.models import Call
from heart.calls.schemas import CallCreate
from heart.calls.service import create_call
from heart.db import transaction
from heart.yamlfile import YamlFileError
from tests.calls.eido.documents import eido

pytestmark = pytest.mark.usefixtures("all_day_policy")
NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def test_numbers_follow_the_configured_format_and_start_again_each_year(db: Session) -> None:
    desk = DeskRules(incident_number=IncidentNumber(format="HRT{year}-{seq:05d}"))
    made = [create_call(session=db, data=CallCreate(received_at=when), now=NOW, actor_id=None, desk=desk)
            for when in (datetime(2025, 12, 31, 12, tzinfo=UTC), datetime(2026, 1, 1, 4, 59, tzinfo=UTC),
                         datetime(2026, 1, 1, 5, 1, tzinfo=UTC), NOW)]
    # 2026-01-01 04:59 UTC is still New Year's Eve in Durham: the city's calendar decides the year.
    assert [c.incident_number for c in made] == ["HRT2025-00001", "HRT2025-00002", "HRT2026-00001",
                                                 "HRT2026-00002"]


def test_a_rolled_back_call_gives_its_number_back(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        create_call(session=session, data=CallCreate(), now=NOW, actor_id=None)
        session.rollback()
    with transaction(sessions) as session:
        call = create_call(session=session, data=CallCreate(), now=NOW, actor_id=None)
    assert call.incident_number == "2026-000001"


def test_two_intakes_at_once_get_two_numbers(sessions: sessionmaker[Session], database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite writers queue; the race needs two real connections at once")
    numbers: list[str] = []
    start = threading.Barrier(4)

    def intake() -> None:
        start.wait()
        with transaction(sessions) as session:
            numbers.append(create_call(session=session, data=CallCreate(), now=NOW, actor_id=None).incident_number
                           or "")

    threads = [threading.Thread(target=intake) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == [f"2026-00000{n}" for n in range(1, 5)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_intake_path_numbers_its_call(signed_in: Callable[..., TestClient], db: Session) -> None:
    client = signed_in(Role.CALL_TAKER)
    screen = client.post("/calls/new", data={"nature_code": "MENTAL HEALTH CASE", "priority": "3"},
                         follow_redirects=False)
    assert screen.status_code == 303
    api = client.post("/api/calls", json={"nature_code": "MENTAL HEALTH CASE", "priority": "3"})
    assert api.status_code == 201
    assert api.json()["incident_number"]
    document = client.post("/api/eido", json=eido())
    assert document.status_code in (201, 503), document.text
    numbers = list(db.scalars(select(Call.incident_number).order_by(Call.id)))
    assert None not in numbers
    assert len(set(numbers)) == len(numbers) >= 2


def test_a_bad_format_names_the_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "desk.yaml"
    file.write_text("incident_number:\n  format: \"{seq}-{unit}\"\n")
    with pytest.raises(YamlFileError, match=r"desk.yaml, line 2: incident_number.format: must contain {year}"):
        load_desk_rules(file)
