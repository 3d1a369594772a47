"""A CAD incident number names one call: blank is refused, a repeat is a 409, and a race makes one call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.models import Call
from heart.calls.schemas import CallCreate
from heart.calls.service import DuplicateCall, create_call
from heart.db import make_engine, make_sessionmaker, utcnow
from tests.conftest import wait_until_blocked


def _calls(sessions: sessionmaker[Session], external_id: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Call).where(Call.external_id == external_id))
                   or 0)


def test_a_blank_cad_number_is_422_and_a_repeated_one_409_naming_it(signed_in: Callable[..., TestClient]) -> None:
    client = signed_in(Role.CALL_TAKER)
    for blank in ("", "   "):
        answer = client.post("/api/calls", json={"external_id": blank})
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "external_id"]
    assert client.post("/api/calls", json={"external_id": "CAD-7"}).status_code == 201
    again = client.post("/api/calls", json={"external_id": "CAD-7"})
    assert again.status_code == 409
    assert again.json() == {"detail": "a call with CAD number CAD-7 already exists", "field": "external_id"}
    # Calls without a CAD number never collide.
    assert [client.post("/api/calls", json={}).status_code for _ in range(2)] == [201, 201]


def test_the_same_cad_number_sent_eight_times_at_once_makes_one_call(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    client = signed_in(Role.CALL_TAKER)
    start = threading.Barrier(8)

    def send(_: int) -> int:
        start.wait()
        return client.post("/api/calls", json={"external_id": "RACE-1", "nature_code": "CHECK WELFARE"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(send, range(8)))
    assert statuses == [201] + [409] * 7
    assert _calls(sessions, "RACE-1") == 1


def test_a_duplicate_inserted_while_the_first_is_still_uncommitted_is_a_conflict(postgres_url: str) -> None:
    """The race exactly: both requests pass the look-up, the second INSERT waits for the first and then fails."""
    engine = make_engine(postgres_url)
    sessions = make_sessionmaker(engine)
    try:
        first = sessions()
        create_call(session=first, data=CallCreate(external_id="RACE-2"), now=utcnow(), actor_id=None)
        outcome: list[BaseException | None] = []

        def second() -> None:
            with sessions() as session:
                try:
                    create_call(session=session, data=CallCreate(external_id="RACE-2"), now=utcnow(), actor_id=None)
                    session.commit()
                    outcome.append(None)
                except DuplicateCall as error:
                    outcome.append(error)

        thread = threading.Thread(target=second)
        thread.start()
        wait_until_blocked(engine, "INSERT%")  # the second INSERT is blocked behind the first
        first.commit()
        first.close()
        thread.join(timeout=10)
        assert len(outcome) == 1 and isinstance(outcome[0], DuplicateCall)
        assert outcome[0].field == "external_id"
        assert _calls(sessions, "RACE-2") == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_an_eido_racing_a_call_taker_for_the_same_incident_updates_one_call(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session]
) -> None:
    from tests.calls.eido.documents import eido

    client = signed_in(Role.DISPATCHER)
    document = eido()
    external_id = "a56e556d871:psap.durhamnc.gov"
    start = threading.Barrier(6)

    def send(n: int) -> int:
        start.wait()
        if n % 2:
            return client.post("/api/eido", json=document).status_code
        return client.post("/api/calls", json={"external_id": external_id}).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(send, range(6)))
    assert all(status in (200, 201, 409) for status in statuses), statuses
    assert statuses.count(201) == 1
    assert _calls(sessions, external_id) == 1
