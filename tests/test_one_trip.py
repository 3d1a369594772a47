"""``OneTrip`` routes answer, then commit, in the endpoint's own worker thread: what a client sees must be what the
database holds, as with FastAPI's own order (endpoint, answer, commit, send)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from heart.calls.models import IncidentSequence
from heart.deps import OneTrip, SessionDep


class Counted(BaseModel):
    year: int
    last: int


def app_with(sessions: sessionmaker[Session]) -> FastAPI:
    router = APIRouter(route_class=OneTrip)

    @router.post("/years/{year}", status_code=201)
    def add_year(year: int, db: SessionDep) -> Counted:
        row = IncidentSequence(year=year, last=7)
        db.add(row)
        db.flush()
        return Counted(year=row.year, last=row.last)

    @router.post("/years/{year}/twice", status_code=201)
    def add_year_twice(year: int, db: SessionDep) -> Counted:
        db.add(IncidentSequence(year=year, last=1))
        db.add(IncidentSequence(year=year, last=2))  # refused by the primary key, at the commit's flush
        return Counted(year=year, last=2)

    @router.post("/years/{year}/own-answer", status_code=201)
    def own_answer(year: int, db: SessionDep) -> Counted:
        db.add(IncidentSequence(year=year, last=3))
        return JSONResponse({"chosen": "by the route"}, status_code=202)  # type: ignore[return-value]

    app = FastAPI()
    app.state.sessionmaker = app.state.read_sessionmaker = sessions
    app.include_router(router)
    return app


def saved(sessions: sessionmaker[Session], year: int) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(IncidentSequence.last).where(IncidentSequence.year == year)))


def test_the_answer_arrives_with_its_status_and_its_write_committed(sessions: sessionmaker[Session]) -> None:
    with TestClient(app_with(sessions)) as client:
        answer = client.post("/years/1901")
    assert answer.status_code == 201
    assert answer.json() == {"year": 1901, "last": 7}
    assert answer.headers["content-type"] == "application/json"
    assert saved(sessions, 1901) == [7]


def test_a_commit_that_fails_sends_its_error_never_the_answer(sessions: sessionmaker[Session]) -> None:
    with TestClient(app_with(sessions), raise_server_exceptions=False) as client:
        answer = client.post("/years/1902/twice")
    assert answer.status_code == 500
    assert "1902" not in answer.text
    assert saved(sessions, 1902) == []


def test_a_commit_that_fails_raises_where_the_app_handles_errors(sessions: sessionmaker[Session]) -> None:
    with TestClient(app_with(sessions)) as client, pytest.raises(IntegrityError):
        client.post("/years/1903/twice")
    assert saved(sessions, 1903) == []


def test_a_response_the_route_makes_itself_goes_out_as_it_is_and_its_write_commits(
        sessions: sessionmaker[Session]) -> None:
    with TestClient(app_with(sessions)) as client:
        answer = client.post("/years/1904/own-answer")
    assert answer.status_code == 202
    assert answer.json() == {"chosen": "by the route"}
    assert saved(sessions, 1904) == [3]
