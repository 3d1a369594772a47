"""The Involuntary Commitment unit on the same machinery: a petition opens a case (it stands on the petition, not on
consent); only a certified first examiner of the unit records the first examination in the field; criteria met closes
with a facility of the program's list, not met with a community plan — each refused without what it requires."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.events import Event
from heart.navigation.followups.models import FollowUp
from tests.conftest import Account
from tests.navigation.cases.pilots import as_user, field, load_programs, open_case, staff

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
RESPONDENT = {"first_name": "Dorian", "last_name": "Featherstone-Ames", "address": "1412 Alston Ave",
              "note": "Petition by his sister: has not slept in four days, talking about the river."}
PLAN = "Daily check-in with the mobile crisis team; his sister stays with him; outpatient appointment Thursday 10:00."


def petition(client: TestClient, **changes: object) -> int:
    opened = open_case(client, "IVC", intake="family_petition", reference="Petition 25-SP-0142, custody order issued",
                       neighbor=RESPONDENT, needs=[], consent_to_follow_up=False, **changes)
    assert opened.status_code == 201, opened.text
    assert opened.json()["program"] == "IVC" and opened.json()["intake"] == "family_petition"
    return int(opened.json()["id"])


def examine(client: TestClient, case: int, token: str) -> int:
    return client.post(f"/api/follow-ups/{case}/attempts", json={
        "method": "field_examination", "result": "examined", "client_token": token}).status_code


def test_a_petition_is_examined_in_the_field_by_a_certified_examiner_and_closes_with_a_facility(
    client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    load_programs(sessions, "CN", "IVC")
    examiner = staff(sessions, make_user, Role.NAVIGATOR, "IVC", "certified first examiner")
    peer = staff(sessions, make_user, Role.NAVIGATOR, "IVC", "peer support specialist")
    navigator = make_user(Role.NAVIGATOR)  # Care Navigation's; IVC's cases are open to read, not to examine
    case = petition(as_user(client, peer))
    for account in (peer, navigator):
        assert examine(as_user(client, account), case, f"exam-{account.user_id}-token") == 409
    user = as_user(client, examiner)
    assert examine(user, case, "exam-token-1") == 201
    assert user.get(f"/api/follow-ups/{case}").json()["status"] == "in_contact"
    unnamed = user.post(f"/api/follow-ups/{case}/close", json={"outcome": "criteria_met"})
    assert unnamed.status_code == 422 and field(unnamed) == "facility"
    elsewhere = user.post(f"/api/follow-ups/{case}/close", json={"outcome": "criteria_met", "facility": "my house"})
    assert elsewhere.status_code == 422 and field(elsewhere) == "facility"
    closed = user.post(f"/api/follow-ups/{case}/close", json={"outcome": "criteria_met",
                                                              "facility": "durham_recovery_response_center"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome_facility"] == "durham_recovery_response_center"
    page = user.get(f"/follow-ups/{case}")
    assert "Meets commitment criteria" in page.text and "Durham Recovery Response Center" in page.text
    assert "stands on its petition by a family member" in page.text


def test_criteria_not_met_needs_a_community_plan_whose_words_stay_in_the_case(
    client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    load_programs(sessions, "CN", "IVC")
    examiner = staff(sessions, make_user, Role.NAVIGATOR, "IVC", "certified first examiner")
    user = as_user(client, examiner)
    case = petition(user)
    assert examine(user, case, "exam-token-2") == 201
    no_plan = user.post(f"/api/follow-ups/{case}/close", json={"outcome": "criteria_not_met", "plan": "  "})
    assert no_plan.status_code == 422 and field(no_plan) == "plan"
    closed = user.post(f"/api/follow-ups/{case}/close", json={"outcome": "criteria_not_met", "plan": PLAN})
    assert closed.status_code == 200, closed.text
    assert user.get(f"/api/follow-ups/{case}").json()["outcome_plan"] == PLAN
    assert PLAN in user.get(f"/follow-ups/{case}").text
    with sessions() as session:
        assert session.get_one(FollowUp, case).consent_id is None  # the petition, not consent
        events = " ".join(str(e.after) for e in session.scalars(select(Event)))
    for words in ("mobile crisis", "Featherstone", "25-SP-0142", "river"):
        assert words not in events
