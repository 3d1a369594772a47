"""The board's and the responder's buttons over HTTP: one action each, idempotent, refusals in plain words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.models import Call
from heart.db import transaction
from heart.dispatch import service
from heart.dispatch.models import Response
from heart.encounters.models import Encounter, NarrativeEntry
from heart.events import Event
from tests import factories
from tests.dispatch.scenario import NORTH, World, world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _count(sessions: sessionmaker[Session], kind: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Event).where(Event.kind == kind)) or 0)


def _assigned(w: World, sessions: sessionmaker[Session], unit: str = "CRT-1") -> tuple[int, int]:
    call_id = w.add_call(address="101 City Hall Plaza", summary="Neighbor sitting in the rain, confused")
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=call_id, unit_id=w.units[unit], at=w.now,
                                       now=w.now, by=w.dispatcher)
        return call_id, response.id


def test_the_board_recommends_and_assigns_once_however_often_the_button_is_pressed(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("CRT", "CRT-2", home=NORTH)
    call_id = w.add_call(at=NORTH)
    client = signed_in(Role.DISPATCHER)
    page = client.get("/dispatch")
    assert page.status_code == 200
    assert page.text.index("Assign CRT-2") < page.text.index("Assign CRT-1")  # the nearer unit first
    form = {"unit_id": str(w.units["CRT-2"]), "token": "press-0001"}
    first = client.post(f"/dispatch/calls/{call_id}/assign", data=form)
    again = client.post(f"/dispatch/calls/{call_id}/assign", data=form)
    assert first.status_code == again.status_code == 200
    assert "CRT-2 sent to call" in first.text and "Already sent" in again.text
    assert _count(sessions, "response.dispatched") == 1
    other = w.add_call()
    refused = client.post(f"/dispatch/calls/{other}/assign", data={"unit_id": str(w.units["CRT-2"]),
                                                                    "token": "press-0002"})
    assert refused.status_code == 409 and "already on another call" in refused.text
    assert 'role="alert"' in refused.text
    assert "No call is waiting" not in client.get("/dispatch").text  # the other call still waits


@pytest.mark.usefixtures("all_day_policy")  # "CRT-1 is free" needs CRT open, whatever the hour the suite runs
def test_fallback_escalation_and_acknowledgement_from_the_board(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT", "CCD")
    w.add_unit("CRT", "CRT-1")
    waiting = w.add_call()
    phone = w.add_call(nature_code="MENTAL HEALTH CASE", screening={**factories.SAFE_SCREENING, "phone_ok": "yes"})
    client = signed_in(Role.DISPATCHER)
    assert "Escalate to CRT" in client.get("/dispatch").text
    escalated = client.post(f"/dispatch/calls/{phone}/escalate", data={"reason": "needs a visit", "token": "e-1"})
    assert escalated.status_code == 200 and "escalated to CRT" in escalated.text
    # CRT-1 is free and close: a fallback now would not be "no unit available", so it is refused.
    refused = client.post(f"/dispatch/calls/{waiting}/fallback", data={"token": "f-0"})
    assert refused.status_code == 409 and "CRT-1 is free" in refused.text
    with transaction(sessions) as session:
        service.assign_unit(session=session, call_id=phone, unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                            by=w.dispatcher)
    asked = client.post(f"/dispatch/calls/{waiting}/fallback", data={"token": "f-1"})
    assert asked.status_code == 200 and "No CRT unit was on duty and free" in asked.text
    assert "Confirm: send to PD" in asked.text and _count(sessions, "triage.fallback") == 0  # nothing yet
    handed = client.post(f"/dispatch/calls/{waiting}/fallback", data={"token": "f-1", "confirm": "no_unit_available"})
    assert handed.status_code == 200 and "handed to PD: No CRT unit was on duty and free" in handed.text
    with sessions() as session:
        assert session.get_one(Call, phone).pathway == "CRT"
        assert session.get_one(Call, waiting).pathway not in ("CRT", None)
        response_id = session.scalars(select(Response.id).where(Response.call_id == phone)).one()
    backup = client.post(f"/api/responses/{response_id}/backup", json={"kind": "pd"})
    assert backup.status_code == 201
    board = client.get("/dispatch").text
    assert "CRT-1 asks for PD backup for team safety" in board
    alert_id = backup.json()["id"]
    assert client.post(f"/dispatch/alerts/{alert_id}/acknowledge", data={"token": "a-1"}).status_code == 200
    assert "asks for PD backup" not in client.get("/dispatch").text
    assert client.get("/api/alerts").json() == []


def test_the_responder_taps_through_a_call_and_a_repeated_tap_changes_nothing(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id, response_id = _assigned(w, sessions)
    phone = signed_in(Role.RESPONDER, unit_id=w.units["CRT-1"])
    page = phone.get("/responder")
    assert "101 City Hall Plaza" in page.text and "Neighbor sitting in the rain" in page.text
    for step in ("en-route", "on-scene"):
        for _ in range(2):  # a double tap: the same token twice
            tapped = phone.post(f"/responder/responses/{response_id}/{step}", data={"token": f"tap-{step}"})
            assert tapped.status_code == 200
    assert _count(sessions, "response.en_route") == 1 and _count(sessions, "response.on_scene") == 1
    phone.post(f"/responder/responses/{response_id}/backup/ems", data={"token": "tap-ems"})
    phone.post(f"/responder/responses/{response_id}/backup/ems", data={"token": "tap-ems-2"})  # a second tap
    assert _count(sessions, "response.backup_requested") == 1
    missing = phone.post(f"/responder/responses/{response_id}/clear", data={"token": "tap-clear"})
    assert missing.status_code == 422 and "Choose a disposition" in missing.text
    outcome = {"token": "tap-clear", "disposition": "referred to services", "needs": ["housing", "food"],
               "services": ["resource referral"], "consent_to_follow_up": "true",
               "narrative": "Connected with the shelter."}
    unanswered = phone.post(f"/responder/responses/{response_id}/clear", data=outcome)
    assert unanswered.status_code == 422 and "Say whether the team felt safe" in unanswered.text
    outcome["team_felt_safe"] = "no"
    for _ in range(2):
        cleared = phone.post(f"/responder/responses/{response_id}/clear", data=outcome)
        assert cleared.status_code == 200 and "no current call" in cleared.text
    with sessions() as session:
        response = session.get_one(Response, response_id)
        assert response.disposition == "referred to services" and response.ems_support is True
        assert response.pd_backup_for_safety is False and response.team_felt_safe is False
        encounter = session.scalars(select(Encounter).where(Encounter.call_id == call_id)).one()
        assert encounter.needs == ["housing", "food"] and encounter.consent_to_follow_up
        encounter_id = encounter.id
    assert _count(sessions, "response.cleared") == 1
    entry = {"text": "Shelter confirmed a bed.", "client_token": "narrative-0001"}
    for _ in range(2):
        added = phone.post(f"/responder/encounters/{encounter_id}/narrative", data=entry)
        assert added.status_code == 200 and "Shelter confirmed a bed." in added.text
    with sessions() as session:
        texts = session.scalars(select(NarrativeEntry.text).where(NarrativeEntry.encounter_id == encounter_id)
                                .order_by(NarrativeEntry.id)).all()
        assert texts == ["Connected with the shelter.", "Shelter confirmed a bed."]
        first_entry = session.scalars(select(NarrativeEntry.id).order_by(NarrativeEntry.id)).first()
    struck = phone.post(f"/responder/encounters/{encounter_id}/narrative/{first_entry}/strike",
                        data={"reason": "wrong shelter"})
    assert struck.status_code == 200 and "struck: wrong shelter" in struck.text


def test_a_responder_cannot_move_another_units_call_nor_open_the_board(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("CRT", "CRT-2")
    _, response_id = _assigned(w, sessions, "CRT-1")
    phone = signed_in(Role.RESPONDER, unit_id=w.units["CRT-2"])
    refused = phone.post(f"/responder/responses/{response_id}/en-route", data={"token": "t-1"})
    assert refused.status_code == 403 and "their own unit" in refused.text
    assert phone.get("/dispatch", headers={"accept": "text/html"}).status_code == 403
    assert "no current call" in phone.get("/responder").text


def test_the_board_renders_the_same_text_until_something_changes(sessions: sessionmaker[Session]) -> None:
    """Unchanged fragments are not re-sent to 200 boards, and a half-typed escalation reason is not wiped."""
    from datetime import timedelta

    from heart.dispatch.board import build_board
    from heart.dispatch.fragments import board_parts

    w = world(sessions, "CRT", "CCD")
    w.add_unit("CRT", "CRT-1")
    w.add_call()
    w.add_call(nature_code="MENTAL HEALTH CASE", screening={**factories.SAFE_SCREENING, "phone_ok": "yes"})
    with sessions() as session:
        first = board_parts(build_board(session=session, now=w.now))
        later = board_parts(build_board(session=session, now=w.now + timedelta(minutes=3)))
    assert first == later
    w.add_call()
    with sessions() as session:
        changed = board_parts(build_board(session=session, now=w.now))
    assert changed["queue"] != first["queue"] and changed["phone"] == first["phone"]


def test_the_board_calls_a_unit_off_before_it_arrives_with_a_reason(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id, response_id = _assigned(w, sessions)
    client = signed_in(Role.DISPATCHER)
    board = client.get("/dispatch").text
    assert "Cancel CRT-1" in board
    no_reason = client.post(f"/dispatch/responses/{response_id}/cancel", data={"token": "cancel-0001"})
    assert no_reason.status_code == 422 and "say why" in no_reason.text
    form = {"reason": "caller says the neighbor went home", "call_still_needs_response": "yes",
            "token": "cancel-0002"}
    first = client.post(f"/dispatch/responses/{response_id}/cancel", data=form)
    again = client.post(f"/dispatch/responses/{response_id}/cancel", data=form)
    assert "CRT-1 called off; call" in first.text and "back in the queue" in first.text
    assert "Already called off" in again.text
    assert _count(sessions, "response.cancelled") == 1
    with sessions() as session:
        assert session.get_one(Call, call_id).status.value == "triaged"  # waiting for a unit again
    assert "Cancel CRT-1" not in client.get("/dispatch").text
