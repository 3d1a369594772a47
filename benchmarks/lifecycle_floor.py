"""The floor of the call lifecycle: bare FastAPI routes doing the same writes as HEART, in plain SQLAlchemy Core.

``benchmarks/lifecycle.py`` serves this app with uvicorn on the same database, the same worker count and the same
engine settings (``heart.db.make_engine``: SQLite's pragmas and BEGIN IMMEDIATE), and drives it with the same
clients, so that the server CPU a request costs here is what the writes themselves cost through FastAPI: what
HEART's lifecycle is measured against.

Each route signs the request in (one select of the session and its user by the cookie's hash; the CSRF header
compared) and writes, in one transaction, the rows HEART writes for that step — the call with its incident number,
the triage decision (with the policy version stored once), the conditional claim of the unit and its response,
each status on the response and the unit, the clear with the call resolved and the encounter opened — and the same
events (inserted together, one statement per request). It does none of HEART's checks beyond the unit's
conditional claim: no policy is evaluated (the decision is CRT, as the benchmark's calls are), no exclusion guard,
no order of steps. What HEART does beyond this is what its guards, its reads and its ORM cost.

    HEART_FLOOR_DATABASE_URL=… uvicorn --app-dir benchmarks lifecycle_floor:app
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import UTC, datetime
from typing import Any

from fastapi import Body, FastAPI, HTTPException, Request
from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import heart.models  # noqa: F401  (every table registered)
from heart.auth.models import LoginSession, User
from heart.calls.models import Call, IncidentSequence
from heart.db import make_engine
from heart.dispatch.models import Response
from heart.encounters.models import Encounter
from heart.events import Event
from heart.programs.models import Unit
from heart.triage.models import PolicyVersion, TriageDecision

URL = os.environ["HEART_FLOOR_DATABASE_URL"]
engine = make_engine(URL, synchronous="NORMAL" if os.environ.get("HEART_SQLITE_SYNCHRONOUS") == "NORMAL" else "FULL")
app = FastAPI()
calls, events, responses, units = Call.__table__, Event.__table__, Response.__table__, Unit.__table__
POLICY = ("floor", 1)
_stored_policy: set[tuple[str, int]] = set()


def signed_in(connection: Connection, request: Request) -> int:
    """The user id behind the session cookie (live session, active account), with the CSRF header checked."""
    token = request.cookies.get("heart_session", "")
    row = connection.execute(
        select(User.id, LoginSession.csrf_token).join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.token_hash == hashlib.sha256(token.encode()).hexdigest(),
               LoginSession.expires_at > datetime.now(UTC), User.active.is_(True))).first()
    if row is None:
        raise HTTPException(401)
    if not hmac.compare_digest(request.headers.get("x-csrf-token", ""), row.csrf_token):
        raise HTTPException(403)
    return int(row.id)


def dialect_insert(connection: Connection) -> Any:
    return sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert


def announce(connection: Connection, call_id: int) -> None:
    """PostgreSQL: tell the listening boards, in the same transaction, as HEART does (one NOTIFY per transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("select pg_notify('heart_events', :payload)"), {"payload": f'{{"c":[{call_id}]}}'})


def event(kind: str, subject_type: str, subject_id: int, call_id: int, at: datetime, actor_id: int | None,
          after: dict[str, Any] | None = None, before: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": kind, "subject_type": subject_type, "subject_id": subject_id, "call_id": call_id, "at": at,
            "actor_id": actor_id, "before": before, "after": after}


@app.post("/api/calls", status_code=201)
def create_call(request: Request, body: dict[str, Any] = Body()) -> dict[str, Any]:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user_id = signed_in(connection, request)
        claim = (update(IncidentSequence).where(IncidentSequence.year == now.year)
                 .values(last=IncidentSequence.last + 1).returning(IncidentSequence.last))
        seq = connection.scalar(claim)
        if seq is None:  # the year's first call (two at once: one inserts, both claim)
            connection.execute(dialect_insert(connection)(IncidentSequence.__table__).values(year=now.year, last=0)
                               .on_conflict_do_nothing(index_elements=["year"]))
            seq = connection.scalar(claim)
        number = f"{now.year}-{seq:06d}"
        call_id = connection.scalar(insert(calls).values(
            incident_number=number, source="api", received_at=now, nature_code=body["nature_code"],
            incident_type="welfare_check", category="welfare", priority=body["priority"],
            screening=body["screening"], status="open", created_by_id=user_id).returning(calls.c.id))
        assert call_id is not None
        announce(connection, call_id)
        connection.execute(insert(events), [event("call.received", "call", call_id, call_id, now, user_id, {
            "source": "api", "incident_number": number, "nature_code": body["nature_code"],
            "incident_type": "welfare_check", "priority": body["priority"], "screening": body["screening"]})])
    return {"id": call_id, "incident_number": number, "status": "open"}


@app.post("/api/calls/{call_id}/triage", status_code=201)
def triage(call_id: int, request: Request) -> dict[str, Any]:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user_id = signed_in(connection, request)
        if POLICY not in _stored_policy:
            connection.execute(dialect_insert(connection)(PolicyVersion.__table__).values(
                policy_id=POLICY[0], version=POLICY[1], sha256="0" * 64, document="", loaded_at=now)
                .on_conflict_do_nothing(index_elements=["policy_id", "version"]))
            _stored_policy.add(POLICY)
        decision_id = connection.scalar(insert(TriageDecision.__table__).values(
            call_id=call_id, policy_id=POLICY[0], policy_version=POLICY[1], pathway="CRT", recommended_pathway="CRT",
            eligible_pathway="CRT", reasons=[{"rule": "floor", "text": "every exclusion answered no"}],
            unanswered=[], decided_at=now).returning(TriageDecision.id))
        assert decision_id is not None
        connection.execute(update(calls).where(calls.c.id == call_id).values(pathway="CRT", status="triaged"))
        announce(connection, call_id)
        connection.execute(insert(events), [event("triage.decided", "triage_decision", decision_id, call_id, now,
                                                  user_id, {"pathway": "CRT", "status": "triaged"},
                                                  {"pathway": None, "status": "open"})])
    return {"id": decision_id, "pathway": "CRT"}


@app.post("/api/calls/{call_id}/responses", status_code=201)
def assign(call_id: int, request: Request, body: dict[str, Any] = Body()) -> dict[str, Any]:
    now = datetime.now(UTC)
    unit_id = int(body["unit_id"])
    with engine.begin() as connection:
        user_id = signed_in(connection, request)
        claimed = connection.execute(update(units).where(units.c.id == unit_id, units.c.status == "available")
                                     .values(status="dispatched", status_changed_at=now)
                                     .returning(units.c.call_sign, units.c.program_id)).first()
        if claimed is None:
            raise HTTPException(409)
        response_id = connection.scalar(insert(responses).values(
            call_id=call_id, unit_id=unit_id, program_id=claimed.program_id, dispatched_at=now,
            dispatched_by_id=user_id).returning(responses.c.id))
        assert response_id is not None
        connection.execute(update(calls).where(calls.c.id == call_id).values(status="assigned"))
        announce(connection, call_id)
        connection.execute(insert(events), [event(
            "response.dispatched", "response", response_id, call_id, now, user_id,
            {"unit_id": unit_id, "call_sign": claimed.call_sign, "unit_status": "dispatched", "additional": False},
            {"unit_status": "available", "call_status": "triaged"})])
    return {"id": response_id, "call_id": call_id, "unit_id": unit_id}


def _step(response_id: int, request: Request, column: str, unit_status: str, kind: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user_id = signed_in(connection, request)
        row = connection.execute(update(responses).where(responses.c.id == response_id)
                                 .values({column: now}).returning(responses.c.call_id, responses.c.unit_id)).first()
        if row is None:
            raise HTTPException(404)
        connection.execute(update(units).where(units.c.id == row.unit_id)
                           .values(status=unit_status, status_changed_at=now))
        announce(connection, row.call_id)
        connection.execute(insert(events), [event(kind, "response", response_id, row.call_id, now, user_id,
                                                  {"unit_status": unit_status})])
    return {"id": response_id, "call_id": row.call_id}


@app.post("/api/responses/{response_id}/en-route")
def en_route(response_id: int, request: Request) -> dict[str, Any]:
    return _step(response_id, request, "en_route_at", "en_route", "response.en_route")


@app.post("/api/responses/{response_id}/on-scene")
def on_scene(response_id: int, request: Request) -> dict[str, Any]:
    return _step(response_id, request, "on_scene_at", "on_scene", "response.on_scene")


@app.post("/api/responses/{response_id}/clear")
def clear(response_id: int, request: Request, body: dict[str, Any] = Body()) -> dict[str, Any]:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        user_id = signed_in(connection, request)
        row = connection.execute(update(responses).where(responses.c.id == response_id).values(
            cleared_at=now, transported=False, pd_backup_for_safety=body["pd_backup_for_safety"],
            ems_support=body["ems_support"], disposition=body["disposition"])
            .returning(responses.c.call_id, responses.c.unit_id, responses.c.program_id)).first()
        if row is None:
            raise HTTPException(404)
        connection.execute(update(units).where(units.c.id == row.unit_id)
                           .values(status="available", status_changed_at=now))
        connection.execute(update(calls).where(calls.c.id == row.call_id).values(status="resolved", closed_at=now))
        encounter_id = connection.scalar(insert(Encounter.__table__).values(
            call_id=row.call_id, response_id=response_id, program_id=row.program_id, needs=[], services=[],
            consent_to_follow_up=False, created_at=now, created_by_id=user_id).returning(Encounter.id))
        assert encounter_id is not None
        announce(connection, row.call_id)
        connection.execute(insert(events), [
            event("response.cleared", "response", response_id, row.call_id, now, user_id,
                  {"transported": False, "pd_backup_for_safety": body["pd_backup_for_safety"],
                   "ems_support": body["ems_support"], "team_felt_safe": None, "disposition": body["disposition"]}),
            event("call.resolved", "call", row.call_id, row.call_id, now, None, {"status": "resolved"},
                  {"status": "assigned"}),
            event("encounter.opened", "encounter", encounter_id, row.call_id, now, user_id,
                  {"needs": [], "services": [], "consent_to_follow_up": False})])
    return {"id": response_id, "call_id": row.call_id}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}

