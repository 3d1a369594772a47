"""The desk over the JSON API: notes, messages, out of service, and the search with its paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction
from heart.dispatch import service
from tests.conftest import login
from tests.dispatch.scenario import NORTH, world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_notes_and_messages_through_the_api(client: TestClient, make_user: Callable[..., object],
                                            sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(address="12 Main St")
    with transaction(sessions) as session:
        service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                            by=w.dispatcher)
    dispatcher = make_user(Role.DISPATCHER)
    crew = make_user(Role.RESPONDER, unit_id=w.units["CRT-1"])
    analyst = make_user(Role.ANALYST)
    login(client, dispatcher.username)  # type: ignore[attr-defined]
    note = client.post(f"/api/calls/{call_id}/notes", json={"text": "Dog in the yard", "client_token": "note-0001"})
    again = client.post(f"/api/calls/{call_id}/notes", json={"text": "Dog in the yard", "client_token": "note-0001"})
    assert note.status_code == again.status_code == 201 and note.json()["id"] == again.json()["id"]
    long = client.post(f"/api/calls/{call_id}/notes", json={"text": "x" * 2001})
    assert long.status_code == 422 and "at most 2000" in long.text
    to_unit = client.post(f"/api/calls/{call_id}/messages", json={"text": "Side gate", "unit_id": w.units["CRT-1"]})
    assert to_unit.status_code == 201 and to_unit.json()["from_unit"] is False
    client.cookies.clear()
    login(client, crew.username)  # type: ignore[attr-defined]
    reply = client.post(f"/api/calls/{call_id}/messages", json={"text": "Copy, 3 min out"})
    assert reply.status_code == 201 and reply.json()["from_unit"] is True
    assert [n["text"] for n in client.get(f"/api/calls/{call_id}/notes").json()] == [
        "Dog in the yard", "Side gate", "Copy, 3 min out"]
    timeline = client.get(f"/api/calls/{call_id}/events").json()
    assert [e["kind"] for e in timeline].count("call.message_sent") == 2
    assert "Copy, 3 min out" not in str(timeline)
    client.cookies.clear()
    login(client, analyst.username)  # type: ignore[attr-defined]
    assert client.get(f"/api/calls/{call_id}/notes").status_code == 403


def test_out_of_service_through_the_api(signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("CRT", "CRT-2")
    call_id = w.add_call()
    client = signed_in(Role.DISPATCHER)
    assert client.post(f"/api/calls/{call_id}/responses", json={"unit_id": w.units["CRT-1"]}).status_code == 201
    refused = client.post(f"/api/units/{w.units['CRT-1']}/out-of-service", json={"reason": "flat tyre"})
    assert refused.status_code == 409 and "on a call" in refused.json()["detail"]
    out = client.post(f"/api/units/{w.units['CRT-2']}/out-of-service", json={"reason": "meal"})
    assert out.status_code == 200 and out.json()["status"] == "out_of_service"
    assert out.json()["status_reason"] == "meal"
    assert client.post(f"/api/units/{w.units['CRT-2']}/in-service").json()["status"] == "available"
    assert client.post(f"/api/units/{w.units['CRT-2']}/in-service").status_code == 409


def test_search_by_number_address_date_and_status_with_pages(signed_in: Callable[..., TestClient],
                                                             sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    ids = [w.add_call(at=NORTH, address=f"{n} Main Street" if n % 2 else f"{n} Elm Road",
                      when=w.now - timedelta(days=n)) for n in range(1, 8)]
    client = signed_in(Role.DISPATCHER)
    main = client.get("/api/calls", params={"address": "main st", "limit": 2})
    assert main.headers["X-Total-Count"] == "4" and len(main.json()) == 2
    assert [c["address"] for c in main.json()] == ["1 Main Street", "3 Main Street"]
    second = client.get("/api/calls", params={"address": "MAIN", "limit": 2, "offset": 2}).json()
    assert [c["address"] for c in second] == ["5 Main Street", "7 Main Street"]
    number = client.get("/api/calls", params={"number": client.get(f"/api/calls/{ids[2]}").json()["incident_number"]})
    assert [c["id"] for c in number.json()] == [ids[2]]
    window = client.get("/api/calls", params={"received_from": (w.now - timedelta(days=3, hours=1)).isoformat(),
                                              "received_to": (w.now - timedelta(days=1, hours=1)).isoformat()})
    assert sorted(c["id"] for c in window.json()) == sorted(ids[1:3])
    assert client.get("/api/calls", params={"status": "resolved"}).json() == []
    page = client.get("/calls", params={"address": "road"})
    assert page.status_code == 200 and "3 calls found" in page.text and "2 Elm Road" in page.text
    bad = client.get("/calls", params={"from": "yesterday"})
    assert bad.status_code == 422 and "not a date" in bad.text
