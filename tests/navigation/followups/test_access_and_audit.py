"""Who sees a neighbor, and that every read is logged: only roles with a need see personal fields (a responder only
their current call's neighbor, an analyst never), and every page or answer that shows a neighbor appends who, when
and why to the access log — never what was seen."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.dispatch import service as dispatch
from heart.navigation.followups.models import FollowUp
from heart.neighbors import service as neighbors
from heart.neighbors.models import NeighborRead
from heart.neighbors.schemas import NeighborDetails
from tests.auth.route_rules import FRAMEWORK, PUBLIC
from tests.auth.test_route_matrix import route_table
from tests.conftest import Account, login
from tests.navigation.followups.care import Care, care_world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NAME, PHONE = "Quennell-Marsh", "919-555-0142"


@pytest.fixture
def care(sessions: sessionmaker[Session]) -> Care:
    return care_world(sessions, now=utcnow() - timedelta(minutes=5))


def reads(sessions: sessionmaker[Session], **where: object) -> list[NeighborRead]:
    with sessions() as session:
        query = select(NeighborRead).order_by(NeighborRead.id)
        for name, value in where.items():
            query = query.where(getattr(NeighborRead, name) == value)
        return list(session.scalars(query))


def as_role(client: TestClient, make_user: Callable[..., Account], role: Role, **extra: object) -> Account:
    account = make_user(role, **extra)
    client.cookies.clear()
    login(client, account.username)
    return account


def test_every_screen_and_answer_that_shows_a_neighbor_logs_who_when_and_why(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    navigator = as_role(client, make_user, Role.NAVIGATOR)
    shown = {"/follow-ups": "follow-up queue", f"/follow-ups/{follow_up.id}": "follow-up page",
             f"/neighbors/{follow_up.neighbor_id}": "neighbor page", "/api/follow-ups": "follow-up queue (API)",
             f"/api/follow-ups/{follow_up.id}": "follow-up (API)",
             f"/api/neighbors/{follow_up.neighbor_id}": "neighbor (API)"}
    for path, purpose in shown.items():
        before = len(reads(sessions, reader_id=navigator.user_id))
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert NAME in answer.text, path
        logged = reads(sessions, reader_id=navigator.user_id)[before:]
        assert [(r.neighbor_id, r.purpose) for r in logged] == [(follow_up.neighbor_id, purpose)], path
    supervisor = as_role(client, make_user, Role.SUPERVISOR)
    log_page = client.get(f"/neighbors/{follow_up.neighbor_id}/reads")
    assert log_page.status_code == 200 and navigator.username in log_page.text and "neighbor page" in log_page.text
    assert NAME not in log_page.text and PHONE not in log_page.text  # the log says who read, not what
    log = client.get(f"/api/neighbors/{follow_up.neighbor_id}/reads").json()
    assert len(log) == len(shown) and {entry["reader_id"] for entry in log} == {navigator.user_id}
    assert set(log[0]) == {"at", "reader_id", "purpose"}
    assert reads(sessions, reader_id=supervisor.user_id) == []  # reading the log is not reading the record


def _concrete(path: str, ids: dict[str, str]) -> str | None:
    names = re.findall(r"{(\w+)}", path)
    if any(name not in ids for name in names):
        return None
    for name in names:
        path = path.replace(f"{{{name}}}", ids[name])
    return path


def test_no_page_or_answer_shows_a_neighbor_without_logging_the_read(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    """Every GET route of the app, with the ids of a real neighbor's call, encounter and follow-up: whatever shows
    their name or phone has logged a read by that person in the same request."""
    follow_up = care.clear_with()
    assert follow_up is not None
    with sessions() as session:
        row = session.get_one(FollowUp, follow_up.id)
        from heart.encounters.models import Encounter

        encounter = session.get_one(Encounter, row.encounter_id)
        ids = {"follow_up_id": str(row.id), "neighbor_id": str(row.neighbor_id), "call_id": str(encounter.call_id),
               "encounter_id": str(encounter.id), "response_id": str(encounter.response_id)}
    routes = sorted({entry.key.removeprefix("GET ") for entry in route_table(client.app)  # type: ignore[arg-type]
                     if entry.method == "GET" and entry.declared not in (PUBLIC, FRAMEWORK)
                     and not entry.path.endswith(("/stream", ".js"))})
    checked, showing = 0, set()
    for role in (Role.SUPERVISOR, Role.NAVIGATOR, Role.DISPATCHER, Role.CALL_TAKER, Role.ANALYST, Role.ADMIN):
        account = as_role(client, make_user, role)
        for path in routes:
            concrete = _concrete(path, ids)
            if concrete is None:
                continue
            before = len(reads(sessions, reader_id=account.user_id))
            body = client.get(concrete).text
            checked += 1
            if NAME in body or PHONE in body:
                showing.add(path)
                assert len(reads(sessions, reader_id=account.user_id)) > before, f"{path} as {role.value}"
    assert checked > 50
    assert {"/follow-ups", "/follow-ups/{follow_up_id}", "/neighbors/{neighbor_id}"} <= showing


def test_a_responder_reads_only_the_neighbor_of_their_units_current_call(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    earlier = care.clear_with()  # a neighbor of a call this unit already cleared
    assert earlier is not None
    call_id = care.w.add_call(when=utcnow())
    with transaction(sessions) as session:
        response = dispatch.assign_unit(session=session, call_id=call_id, unit_id=care.w.units["CRT-1"],
                                        at=utcnow(), now=utcnow(), by=care.w.dispatcher)
        response_id = response.id
        here = neighbors.create_neighbor(session=session, details=NeighborDetails(first_name="Ives", pronouns="he/him"),
                                         at=utcnow(), actor_id=None, rules=care.rules)
        neighbors.link_to_call(session=session, neighbor_id=here.id, call_id=call_id, encounter_id=None,
                               at=utcnow(), actor_id=None)
        here_id = here.id
    responder = as_role(client, make_user, Role.RESPONDER, unit_id=care.w.units["CRT-1"])
    mine = client.get(f"/api/neighbors/{here_id}")
    assert mine.status_code == 200 and mine.json()["first_name"] == "Ives"
    assert mine.json()["call_ids"] == [call_id] and mine.json()["follow_up_ids"] == []
    other = client.get(f"/api/neighbors/{earlier.neighbor_id}")
    assert other.status_code == 404 and NAME not in other.text  # another call's neighbor: "does not exist"
    assert [r.neighbor_id for r in reads(sessions, reader_id=responder.user_id)] == [here_id]
    for path in ("/follow-ups", f"/follow-ups/{earlier.id}", f"/neighbors/{here_id}", "/api/follow-ups"):
        assert client.get(path).status_code == 403, path
    with transaction(sessions) as session:  # the call clears: it is no longer theirs to read
        dispatch.mark_on_scene(session=session, response_id=response_id, at=utcnow(), now=utcnow(),
                               by=care.w.dispatcher)
        from heart.dispatch.schemas import ClearResponse

        dispatch.clear_response(session=session, response_id=response_id, at=utcnow(), now=utcnow(),
                                by=care.w.dispatcher, outcome=ClearResponse(pd_backup_for_safety=False,
                                                                            ems_support=False, disposition="other"))
    assert client.get(f"/api/neighbors/{here_id}").status_code == 404


def test_an_analyst_sees_no_personal_field_anywhere(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    analyst = as_role(client, make_user, Role.ANALYST)
    for path in ("/follow-ups", f"/follow-ups/{follow_up.id}", f"/neighbors/{follow_up.neighbor_id}",
                 "/api/follow-ups", f"/api/follow-ups/{follow_up.id}", f"/api/neighbors/{follow_up.neighbor_id}",
                 f"/api/neighbors/{follow_up.neighbor_id}/reads"):
        answer = client.get(path)
        assert answer.status_code == 403 and NAME not in answer.text, path
    dashboard = client.get("/metrics")
    assert dashboard.status_code == 200 and "Care navigation" in dashboard.text
    for personal in (NAME, "Rosalind", PHONE, "weekday mornings", "shelter bed"):
        assert personal not in dashboard.text
    assert reads(sessions, reader_id=analyst.user_id) == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(NeighborRead)) == 0
