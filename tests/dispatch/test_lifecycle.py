"""The whole call lifecycle through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.dispatch.models import Response
from heart.encounters.models import Encounter
from heart.events import Event
from heart.programs.models import Unit
from tests import factories

pytestmark = pytest.mark.usefixtures("all_day_policy")
CLEAR = {"pd_backup_for_safety": False, "ems_support": False, "disposition": "resolved on scene"}


def _crt_with_units(sessions: sessionmaker[Session], *call_signs: str, on_duty: bool = True) -> dict[str, int]:
    now = utcnow()
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=now)
        return {sign: factories.unit(session, crt, sign, now=now, on_duty=on_duty).id for sign in call_signs}


def _triaged_call(client: TestClient, **overrides: object) -> int:
    body = {"nature_code": "CHECK WELFARE", "priority": "3", "screening": factories.SAFE_SCREENING, **overrides}
    created = client.post("/api/calls", json=body)
    assert created.status_code == 201, created.text
    decided = client.post(f"/api/calls/{created.json()['id']}/triage", json={})
    assert decided.status_code == 201, decided.text
    return int(created.json()["id"])


def test_a_call_goes_from_intake_to_cleared_with_outcomes_and_an_encounter(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    client = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(client)
    assert client.get(f"/api/calls/{call_id}").json()["pathway"] == "CRT"

    sent = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-1"]})
    assert sent.status_code == 201, sent.text
    response_id = sent.json()["id"]
    assert client.get("/api/units").json()[0]["status"] == "dispatched"

    for step, unit_status in (("en-route", "en_route"), ("on-scene", "on_scene"), ("transport", "transporting")):
        moved = client.post(f"/api/responses/{response_id}/{step}", json={})
        assert moved.status_code == 200, moved.text
        assert client.get("/api/units").json()[0]["status"] == unit_status

    cleared = client.post(f"/api/responses/{response_id}/clear",
                          json={**CLEAR, "needs": ["housing"], "consent_to_follow_up": True})
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert body["status"] == "cleared"
    assert body["transported"] is True  # a transport was started, so it counts as transported
    assert client.get("/api/units").json()[0]["status"] == "available"
    assert client.get(f"/api/calls/{call_id}").json()["status"] == "resolved"

    kinds = [e["kind"] for e in client.get(f"/api/calls/{call_id}/events").json()]
    assert kinds == ["call.received", "triage.decided", "response.dispatched", "response.en_route",
                     "response.on_scene", "response.transporting", "response.cleared", "call.resolved",
                     "encounter.opened", "neighbor.linked", "follow_up.opened"]  # consent: the handoff
    with sessions() as session:
        encounter = session.scalars(select(Encounter).where(Encounter.call_id == call_id)).one()
        assert encounter.needs == ["housing"] and encounter.consent_to_follow_up


def test_clearing_a_unit_that_never_arrived_is_refused_with_a_reason(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    client = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(client)
    response_id = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-1"]}).json()["id"]

    refused = client.post(f"/api/responses/{response_id}/clear", json=CLEAR)
    assert refused.status_code == 409
    assert "never arrived on scene" in refused.json()["detail"]
    assert client.post(f"/api/responses/{response_id}/transport", json={}).status_code == 409
    assert client.get(f"/api/responses/{response_id}").json()["status"] == "dispatched"


def test_an_off_duty_unit_cannot_be_sent(signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]) -> None:
    units = _crt_with_units(sessions, "CRT-9", on_duty=False)
    client = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(client)
    refused = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-9"]})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "CRT-9 is off duty and cannot be sent"


def test_a_unit_already_on_a_call_cannot_be_sent_again(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    client = signed_in(Role.DISPATCHER)
    first, second = _triaged_call(client), _triaged_call(client)
    assert client.post(f"/api/calls/{first}/responses", json={"unit_id": units["CRT-1"]}).status_code == 201
    refused = client.post(f"/api/calls/{second}/responses", json={"unit_id": units["CRT-1"]})
    assert refused.status_code == 409
    assert "already on another call" in refused.json()["detail"]


def test_a_timestamp_before_the_previous_step_is_refused(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    client = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(client)
    sent = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-1"]}).json()
    earlier = (utcnow() - timedelta(minutes=30)).isoformat()
    refused = client.post(f"/api/responses/{sent['id']}/en-route", json={"at": earlier})
    assert refused.status_code == 409
    assert "is before the response's previous step" in refused.json()["detail"]
    future = (utcnow() + timedelta(hours=1)).isoformat()
    assert client.post(f"/api/responses/{sent['id']}/en-route", json={"at": future}).status_code == 422


def test_a_call_routed_to_police_cannot_get_an_unarmed_team(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    client = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(client, nature_code="SUICIDAL SUBJECT",
                            screening={**factories.SAFE_SCREENING, "weapon": "yes"})
    assert client.get(f"/api/calls/{call_id}").json()["pathway"] != "CRT"
    refused = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-1"]})
    assert refused.status_code == 409
    assert "is routed to" in refused.json()["detail"]
    # Nor may a person override a weapon call to the unarmed team.
    override = client.post(f"/api/calls/{call_id}/triage/override", json={"pathway": "CRT", "reason": "asked to"})
    assert override.status_code == 409
    assert "weapon" in override.json()["detail"]


def test_an_override_needs_a_reason_and_is_shown_on_the_call(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = _triaged_call(client)
    missing = client.post(f"/api/calls/{call_id}/triage/override", json={"pathway": "PD"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "reason"]
    done = client.post(f"/api/calls/{call_id}/triage/override",
                       json={"pathway": "PD", "reason": "caller reports shots fired nearby"})
    assert done.status_code == 201
    assert done.json()["override_reason"] == "caller reports shots fired nearby"
    assert done.json()["recommended_pathway"] == "CRT"
    decisions = client.get(f"/api/calls/{call_id}/decisions").json()
    assert [d["pathway"] for d in decisions] == ["CRT", "PD"]
    assert "triage.overridden" in [e["kind"] for e in client.get(f"/api/calls/{call_id}/events").json()]


def test_cancel_before_arrival_frees_the_unit_and_is_recorded(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    client = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(client)
    response_id = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-1"]}).json()["id"]
    client.post(f"/api/responses/{response_id}/en-route", json={})
    cancelled = client.post(f"/api/responses/{response_id}/cancel",
                            json={"reason": "caller says the person left", "call_still_needs_response": False})
    assert cancelled.status_code == 200
    assert cancelled.json()["cancel_reason"] == "caller says the person left"
    assert client.get("/api/units").json()[0]["status"] == "available"
    assert client.get(f"/api/calls/{call_id}").json()["status"] == "cancelled"
    # Cancelling after arrival is refused: a unit on scene clears.
    second = _triaged_call(client)
    rid = client.post(f"/api/calls/{second}/responses", json={"unit_id": units["CRT-1"]}).json()["id"]
    client.post(f"/api/responses/{rid}/on-scene", json={})
    refused = client.post(f"/api/responses/{rid}/cancel", json={"reason": "x"})
    assert refused.status_code == 409 and "clear it instead" in refused.json()["detail"]


def test_a_repeated_tap_changes_nothing(signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    client = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(client)
    response_id = client.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-1"]}).json()["id"]
    first = client.post(f"/api/responses/{response_id}/on-scene", json={}).json()
    again = client.post(f"/api/responses/{response_id}/on-scene", json={}).json()
    assert again["on_scene_at"] == first["on_scene_at"]
    client.post(f"/api/responses/{response_id}/clear", json=CLEAR)
    client.post(f"/api/responses/{response_id}/clear", json={**CLEAR, "disposition": "other"})
    with sessions() as session:
        kinds = session.scalars(select(Event.kind).where(Event.call_id == call_id)).all()
        assert kinds.count("response.on_scene") == 1 and kinds.count("response.cleared") == 1
        assert session.scalar(select(Response.disposition)) == "resolved on scene"
        assert session.scalar(select(func.count()).select_from(Encounter)) == 1
        assert session.scalar(select(Unit.status)).value == "available"


def test_a_responder_sees_and_moves_only_their_own_units_calls(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session], client: TestClient
) -> None:
    units = _crt_with_units(sessions, "CRT-1", "CRT-2")
    dispatcher = signed_in(Role.DISPATCHER)
    mine, theirs = _triaged_call(dispatcher), _triaged_call(dispatcher)
    my_response = dispatcher.post(f"/api/calls/{mine}/responses", json={"unit_id": units["CRT-1"]}).json()["id"]
    their_response = dispatcher.post(f"/api/calls/{theirs}/responses", json={"unit_id": units["CRT-2"]}).json()["id"]

    responder = signed_in(Role.RESPONDER, unit_id=units["CRT-1"])
    assert [c["id"] for c in responder.get("/api/calls").json()] == [mine]
    assert responder.get(f"/api/calls/{theirs}").status_code == 404
    assert responder.post(f"/api/responses/{my_response}/en-route", json={}).status_code == 200
    assert responder.post(f"/api/responses/{their_response}/en-route", json={}).status_code in (403, 404)
    assert responder.get(f"/api/responses/{their_response}").status_code == 404


def test_narrative_is_appended_once_per_token_and_struck_not_deleted(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    units = _crt_with_units(sessions, "CRT-1")
    dispatcher = signed_in(Role.DISPATCHER)
    call_id = _triaged_call(dispatcher)
    rid = dispatcher.post(f"/api/calls/{call_id}/responses", json={"unit_id": units["CRT-1"]}).json()["id"]
    dispatcher.post(f"/api/responses/{rid}/on-scene", json={})
    dispatcher.post(f"/api/responses/{rid}/clear", json=CLEAR)
    with sessions() as session:
        encounter_id = session.scalars(select(Encounter.id)).one()

    responder = signed_in(Role.RESPONDER, unit_id=units["CRT-1"])
    entry = {"text": "Neighbor accepted a ride to the shelter.", "client_token": "tap-0001"}
    first = responder.post(f"/api/encounters/{encounter_id}/narrative", json=entry)
    again = responder.post(f"/api/encounters/{encounter_id}/narrative", json=entry)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    struck = responder.post(f"/api/encounters/{encounter_id}/narrative/{first.json()['id']}/strike",
                            json={"reason": "wrong neighbor"})
    assert struck.status_code == 200
    narrative = responder.get(f"/api/encounters/{encounter_id}").json()["narrative"]
    assert len(narrative) == 1 and narrative[0]["struck_at"] is not None
    assert narrative[0]["text"] == entry["text"]
