"""Riverton, the second city that ships, on unchanged code: its demo builds from its own files, a call in its words is
decided by its policy and worked through the API, and every screen opens in its words, as each role."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.models import Call
from heart.config import Settings
from heart.db import transaction, utcnow
from heart.demo.history import build_history
from heart.demo.setup import load_demo_configuration, start_open_shifts
from heart.dispatch.models import Response
from heart.main import create_app
from heart.metrics.backends import open_database
from heart.metrics.definitions import Period
from heart.metrics.service import compute_metrics
from heart.programs.models import Program, Unit
from heart.triage.engine import CallFacts, decide
from heart.triage.policy import load_policy_by_name
from tests.conftest import Account, login

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SAFE = {"weapon": "no", "medical_emergency": "no", "danger_to_others": "no", "threatened_violence": "no",
        "line_ok": "no"}


@pytest.fixture
def riverton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEART_CITY", "riverton")


@pytest.fixture
def app_settings(database_url: str, riverton: None) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, map_tiles_url="")


@pytest.fixture
def client(app_settings: Settings) -> Iterator[TestClient]:
    app = create_app(app_settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()
    app.state.read_engine.dispose()


def test_rivertons_policy_decides_in_its_own_words(riverton: None) -> None:
    policy = load_policy_by_name("riverton")
    noon = datetime(2025, 6, 3, 18, 0, tzinfo=UTC)  # 12:00 in Riverton (MDT)
    night = datetime(2025, 6, 4, 8, 0, tzinfo=UTC)  # 02:00
    camp = CallFacts(nature_code="CAMP CHECK", priority="3", screening=SAFE)
    assert decide(camp, policy, noon).pathway == "SUPPORT"
    at_night = decide(camp, policy, night)  # the street team is off: the 24/7 mobile team takes it
    assert (at_night.pathway, at_night.fallback_program) == ("MOBILE", "SUPPORT")
    crisis = CallFacts(nature_code="PERSON IN CRISIS", priority="2", screening={**SAFE, "weapon": "yes"})
    assert decide(crisis, policy, noon).pathway == "RPD"  # no co-response team in Riverton
    line = CallFacts(nature_code="PERSON IN CRISIS", priority="3", screening={**SAFE, "line_ok": "yes"})
    decided = decide(line, policy, noon)
    assert (decided.pathway, decided.escalates_to) == ("LINE", "MOBILE")
    overdose = CallFacts(nature_code="OVERDOSE", priority="1", screening=SAFE)
    assert decide(overdose, policy, noon).pathway == "RFR"


@SQLITE
def test_the_demo_builds_rivertons_year(riverton: None, sessions: sessionmaker[Session], database_url: str) -> None:
    with transaction(sessions) as session:
        load_demo_configuration(session=session, now=utcnow(), rng=random.Random(2))
        summary = build_history(session=session, seed=2, years=0.1, end=date(2025, 6, 2))
    assert set(summary.responses) == {"MOBILE", "SUPPORT"} and summary.phone_contacts > 0
    with sessions() as session:
        codes = set(session.scalars(select(Program.code)))
        assert codes == {"MOBILE", "SUPPORT", "LINE", "PEER"}  # outside services are not HEART's to run
        assert session.scalar(select(func.count()).select_from(Unit)) == 7
        pathways = set(session.scalars(select(Call.pathway).distinct()))
        assert pathways <= {"MOBILE", "SUPPORT", "LINE", "RPD", "RFR"} and {"RPD", "RFR", "LINE"} <= pathways
        numbers = session.scalars(select(Call.external_id).limit(3)).all()
        assert all(number.startswith("R25-") for number in numbers)
    with open_database(database_url) as source:
        report = compute_metrics(source=source, period=Period())
    assert report.programs["MOBILE"].responses > report.programs["SUPPORT"].responses > 0


@SQLITE
def test_a_call_is_worked_and_every_screen_opens_in_rivertons_words(
    client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        load_demo_configuration(session=session, now=utcnow(), rng=random.Random(4))
        build_history(session=session, seed=4, years=0.03, end=date(2025, 6, 2))
        start_open_shifts(session=session, now=utcnow())
        mobile_1 = session.scalars(select(Unit.id).where(Unit.call_sign == "MOBILE-1")).one()

    login(client, make_user(Role.CALL_TAKER).username)
    made = client.post("/api/calls", json={"nature_code": "WELL BEING CHECK", "priority": "3", "screening": SAFE,
                                           "address": "300 Mulberry St"})
    assert made.status_code == 201, made.text
    call_id = made.json()["id"]
    decided = client.post(f"/api/calls/{call_id}/triage", json={})
    assert decided.status_code == 201, decided.text
    assert decided.json()["pathway"] in {"MOBILE", "SUPPORT"}  # SUPPORT is first for the street in its hours
    override = client.post(f"/api/calls/{call_id}/triage/override", json={"pathway": "STAR", "reason": "wrong city"})
    assert override.status_code == 422 and "pathway must be one of LINE, MOBILE, SUPPORT, RPD, RFR" in override.text
    client.post(f"/api/calls/{call_id}/triage/override", json={"pathway": "MOBILE", "reason": "the clinician asked"})
    assert client.post(f"/api/calls/{call_id}/hand-off").status_code in (200, 201)

    client.cookies.clear()
    login(client, make_user(Role.DISPATCHER).username)
    sent = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": mobile_1})
    assert sent.status_code == 201, sent.text
    response_id = sent.json()["id"]
    for step in ("en-route", "on-scene"):
        assert client.post(f"/api/responses/{response_id}/{step}", json={}).status_code == 200
    board = client.get("/dispatch")
    assert board.status_code == 200 and "MOBILE-1" in board.text and "With a phone clinician (LINE)" in board.text

    client.cookies.clear()
    login(client, make_user(Role.RESPONDER, unit_id=mobile_1).username)
    phone = client.get("/responder")
    assert phone.status_code == 200
    for words in ("transported to crisis center", "medical check", "danger to others", "Peer Follow-up"):
        assert words in phone.text, words
    assert "Care Navigation" not in phone.text and "handed to PD" not in phone.text

    for role, path, words in [
        (Role.CALL_TAKER, "/calls/new", "threatened violence"),
        (Role.SUPERVISOR, "/metrics", 'data-program="MOBILE"'),
        (Role.SUPERVISOR, "/programs", "Street Support Team"),
        (Role.NAVIGATOR, "/follow-ups", "Follow-ups"),
        (Role.SUPERVISOR, "/familiar-neighbors/report", "Flags are raised at 4+, 8+, 16+ responses in 365 days"),
        (Role.ADMIN, "/admin/units", "SUPPORT-2"),
        (Role.SUPERVISOR, "/simulation", "riverton-2025"),  # the city's own scenarios
    ]:
        client.cookies.clear()
        login(client, make_user(role).username)
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert words in page.text, (path, words)
        assert "durham" not in page.text.lower() and "CRT" not in page.text, path
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Response).where(Response.call_id == call_id)) == 1
