"""The Office of Survivor Care: a case opened from a referral (never a 911 call) that only its own staff see — not a
Care Navigation navigator, not a supervisor who is not on its staff, not an analyst — on every screen and answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.events import Event
from heart.navigation.followups.models import FollowUp
from heart.neighbors.models import Neighbor
from tests.conftest import Account
from tests.navigation.cases.pilots import SURVIVOR, as_user, field, load_programs, open_case, staff

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@dataclass
class Case:
    follow_up: int
    neighbor: int
    advocate: Account


@pytest.fixture
def case(client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session]) -> Case:
    load_programs(sessions, "CN", "OSC")
    advocate = staff(sessions, make_user, Role.NAVIGATOR, "OSC", "victim advocate")
    opened = open_case(as_user(client, advocate), "OSC")
    assert opened.status_code == 201, opened.text
    assert opened.json()["program"] == "OSC" and opened.json()["call_id"] is None
    return Case(opened.json()["id"], opened.json()["neighbor_id"], advocate)


def outsiders(sessions: sessionmaker[Session], make_user: Callable[..., Account]) -> dict[str, Account]:
    return {"Care Navigation navigator": staff(sessions, make_user, Role.NAVIGATOR, "CN", "care navigator"),
            "supervisor not on OSC's staff": make_user(Role.SUPERVISOR),
            "navigator on no staff": make_user(Role.NAVIGATOR),
            "analyst": make_user(Role.ANALYST)}


def test_an_osc_case_is_invisible_outside_osc(client: TestClient, make_user: Callable[..., Account],
                                              sessions: sessionmaker[Session], case: Case) -> None:
    ident, person = case.follow_up, case.neighbor
    reads = [f"/follow-ups/{ident}", f"/api/follow-ups/{ident}", f"/neighbors/{person}", f"/api/neighbors/{person}"]
    writes = [(f"/api/follow-ups/{ident}/notes", {"text": "hello", "client_token": "t" * 12}),
              (f"/api/follow-ups/{ident}/attempts", {"method": "phone", "result": "reached", "client_token": "u" * 12}),
              (f"/api/follow-ups/{ident}/needs", {"need": "food"}),
              (f"/api/follow-ups/{ident}/close", {"outcome": "declined"}),
              (f"/api/follow-ups/{ident}/alert/acknowledge", {})]
    for who, account in outsiders(sessions, make_user).items():
        user = as_user(client, account)
        for path in reads:
            answer = user.get(path)
            expected = {403} if account.role == Role.ANALYST else {404}
            assert answer.status_code in expected, (who, path, answer.status_code)
            assert SURVIVOR["last_name"] not in answer.text, (who, path)
        for listing in ("/follow-ups", "/api/follow-ups", "/follow-ups?program=OSC"):
            answer = user.get(listing)
            assert SURVIVOR["last_name"] not in answer.text and f'"id":{ident},' not in answer.text, (who, listing)
        for path, body in writes:
            answer = user.post(path, json=body)
            assert answer.status_code in {403, 404}, (who, path, answer.status_code, answer.text)
        assert user.get("/cases/new/OSC").status_code in {403, 404}, who
        refused = user.post("/api/programs/OSC/cases", json={
            "intake": "self", "neighbor": {"first_name": "X"}, "consent_to_follow_up": True,
            "client_token": "v" * 12})
        assert refused.status_code == 403, (who, refused.text)
    with sessions() as session:
        follow_up = session.get_one(FollowUp, ident)
        assert follow_up.status.value == "awaiting_contact"  # nothing an outsider sent changed it


def test_osc_staff_work_the_case_and_a_supervisor_on_its_staff_sees_it(
    client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session], case: Case,
) -> None:
    ident = case.follow_up
    lead = staff(sessions, make_user, Role.SUPERVISOR, "OSC")
    user = as_user(client, lead)
    queue = user.get("/follow-ups?program=OSC")
    assert queue.status_code == 200 and SURVIVOR["last_name"] in queue.text
    page = user.get(f"/follow-ups/{ident}")
    assert page.status_code == 200, page.text
    assert "SANE nurse R. Alvarez" in page.text and "from hospital (emergency department" in page.text
    reached = user.post(f"/api/follow-ups/{ident}/attempts", json={"method": "visit", "result": "reached",
                                                                   "client_token": "w" * 12})
    assert reached.status_code == 201, reached.text
    closed = user.post(f"/api/follow-ups/{ident}/close", json={"outcome": "safety_plan"})
    assert closed.status_code == 200 and closed.json()["outcome"] == "safety_plan"
    with sessions() as session:
        record = session.get_one(Neighbor, case.neighbor)
        assert record.restricted_to_program_id is not None
        words = " ".join(str(e.after) for e in session.scalars(select(Event)))
    for value in (SURVIVOR["last_name"], SURVIVOR["phone"], "SANE", "partner checks"):
        assert value not in words


def test_a_case_from_a_referral_needs_a_known_source_and_consent_and_opens_once(
    client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session], case: Case,
) -> None:
    user = as_user(client, case.advocate)
    unknown = open_case(user, "OSC", intake="911")
    assert unknown.status_code == 422 and field(unknown) == "intake"
    without = open_case(user, "OSC", consent_to_follow_up=False)
    assert without.status_code == 422 and field(without) == "consent_to_follow_up"
    first = open_case(user, "OSC", client_token="same-token-123")
    again = open_case(user, "OSC", client_token="same-token-123")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    care_navigation = open_case(user, "CN")
    assert care_navigation.status_code == 422 and field(care_navigation) == "program_code"
