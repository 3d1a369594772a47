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
