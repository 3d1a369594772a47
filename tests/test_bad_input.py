"""Bad input gets a clear answer that names the field, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.models import Call


def _locs(answer: object) -> list[list[object]]:
    return [error["loc"] for error in answer.json()["detail"]]  # type: ignore[attr-defined]


def test_wrong_types_and_unknown_fields_name_the_field(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.CALL_TAKER)
    answer = client.post("/api/calls", json={"priority": "urgent", "lat": "north", "screening": {"weapon": "maybe"},
                                             "colour": "red"})
    assert answer.status_code == 422
    locs = _locs(answer)
    assert ["body", "priority"] in locs and ["body", "lat"] in locs
    assert ["body", "screening", "weapon"] in locs and ["body", "colour"] in locs
    assert "maybe" not in answer.text  # the submitted value is never echoed back
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0


def test_missing_fields_are_named(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.DISPATCHER)
    assert _locs(client.post("/api/calls/1/responses", json={})) == [["body", "unit_id"]]
    cleared = client.post("/api/responses/1/clear", json={})
    assert {tuple(loc) for loc in _locs(cleared)} == {("body", "pd_backup_for_safety"), ("body", "ems_support"),
                                                      ("body", "disposition")}
    assert _locs(client.post("/api/calls/abc/responses", json={"unit_id": 1})) == [["path", "call_id"]]


def test_unknown_ids_are_404_with_the_field(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.DISPATCHER)
    missing_call = client.post("/api/calls/424242/responses", json={"unit_id": 1})
    assert missing_call.status_code == 404
    assert missing_call.json() == {"detail": "call 424242 does not exist", "field": "call_id"}
    created = client.post("/api/calls", json={"nature_code": "CHECK WELFARE"}).json()
    missing_unit = client.post(f"/api/calls/{created['id']}/responses", json={"unit_id": 777})
    assert missing_unit.status_code == 404 and missing_unit.json()["field"] == "unit_id"
    assert client.post("/api/responses/31337/on-scene", json={}).json()["field"] == "response_id"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_future_received_time_is_refused_and_a_repeated_cad_number_is_a_conflict(
    signed_in: Callable[..., TestClient],
) -> None:
    client = signed_in(Role.CALL_TAKER)
    future = client.post("/api/calls", json={"received_at": "2999-01-01T00:00:00Z"})
    assert future.status_code == 422 and _locs(future) == [["body", "received_at"]]
    naive = client.post("/api/calls", json={"received_at": "2026-01-01T00:00:00"})
    assert naive.status_code == 422  # a time without its zone is ambiguous
    assert client.post("/api/calls", json={"external_id": "CAD-1"}).status_code == 201
    again = client.post("/api/calls", json={"external_id": "CAD-1"})
    assert again.status_code == 409 and "CAD-1" in again.json()["detail"]


# --- the classes Schemathesis found (issue 10): each answers 4xx naming the field, on both databases ----------

BEYOND = 2**31  # one past the largest id PostgreSQL's integer holds
HUGE = 10**30  # past any integer SQLite can bind


def test_ids_and_offsets_beyond_the_integer_range_are_422_naming_them(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.SUPERVISOR)
    for path in (f"/api/calls/{BEYOND}", f"/api/calls/{HUGE}/events", f"/api/responses/{HUGE}",
                 f"/api/encounters/{BEYOND}", "/api/calls/0"):
        answer = client.get(path)
        assert answer.status_code == 422, path
        assert _locs(answer)[0][0] == "path", path
    assert _locs(client.get(f"/api/calls?offset={HUGE}")) == [["query", "offset"]]
    assert _locs(client.post("/api/calls/1/responses", json={"unit_id": HUGE})) == [["body", "unit_id"]]
    assert _locs(client.post(f"/api/encounters/1/narrative/{BEYOND}/strike", json={"reason": "dup"})) == [
        ["path", "entry_id"]]
    # The largest id that fits is simply not there.
    assert client.get(f"/api/calls/{BEYOND - 1}").status_code == 404


def test_a_nul_character_anywhere_is_422_naming_where_and_nothing_is_saved(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.SUPERVISOR)
    assert _locs(client.post("/api/calls", json={"summary": "Jane\u0000Roe"})) == [["body", "summary"]]
    assert _locs(client.post("/api/calls", json={"screening": {"weapon\u0000": "no"}})) == [["body", "screening"]]
    assert _locs(client.post("/api/calls", json={"external_id": "\u0000"})) == [["body", "external_id"]]
    assert _locs(client.get("/api/units", params={"program": "CRT\u0000"}))[0] == ["query", "program"]
    assert _locs(client.post("/api/auth/login", json={"username": "a\u0000", "password": "x"})) == [
        ["body", "username"]]
    # A page's form, too (the call-taker's screen posts a form, not JSON).
    form = client.post("/calls/new", data={"summary": "Jane\u0000Roe", "nature_code": "CHECK WELFARE"})
    assert form.status_code == 422 and _locs(form) == [["body", "summary"]]
    assert "Jane" not in form.text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0


def test_a_nul_character_in_an_eido_is_422_naming_the_component(signed_in: Callable[..., TestClient]) -> None:
    from tests.calls.eido.documents import eido

    client = signed_in(Role.CALL_TAKER)
    document = eido()
    document["notesComponent"][0]["notesActionComments"] = "talking to \u0000 himself"
    answer = client.post("/api/eido", json=document)
    assert answer.status_code == 422
    assert _locs(answer) == [["body", "notesComponent", 0, "notesActionComments"]]
    assert "himself" not in answer.text


def test_every_write_refuses_nul_whatever_path_it_comes_by(sessions: sessionmaker[Session]) -> None:
    """Pages, the command line and imports write through the same flush: it refuses NUL on both databases."""
    from heart.errors import InvalidInput
    from heart.programs.models import Staff

    with pytest.raises(InvalidInput) as refused, sessions() as session:
        session.add(Staff(name="Jane\x00Roe", role="peer support specialist"))
        session.flush()
    assert refused.value.field == "name" and "NUL" in str(refused.value) and "Jane" not in str(refused.value)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Staff)) == 0


def test_an_unknown_policy_is_404_listing_the_known_ones_and_a_path_is_no_name(
    signed_in: Callable[..., TestClient],
) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = client.post("/api/calls", json={"nature_code": "CHECK WELFARE"}).json()["id"]
    for name in ("nope", "../policies/durham", "/etc/passwd", "durham.yaml", "durham.v1"):
        answer = client.post(f"/api/calls/{call_id}/triage", json={"policy": name})
        assert answer.status_code == 404, name
        assert answer.json()["field"] == "policy" and "(known: durham)" in answer.json()["detail"], name
        assert name not in answer.json()["detail"]  # the value sent is never echoed back
    assert client.post(f"/api/calls/{call_id}/triage", json={"policy": "durham"}).status_code == 201
