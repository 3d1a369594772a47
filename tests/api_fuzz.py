"""Schemathesis over every operation of HEART's OpenAPI document, signed in as each role.

Used by ``tests/test_api_fuzz.py`` (a bounded pass in CI) and ``benchmarks/fuzz.py`` (the long pass). The app
runs in-process (ASGI); the database is real (SQLite file or PostgreSQL). A small world is seeded through the
real services first, so that generated ids (Hypothesis favours small integers) reach real calls, responses,
units, encounters, narrative entries and alerts instead of answering 404 every time.

A server error is any 5xx answer or any exception escaping the app; each is recorded with the operation, the
role, where it was raised and a reproducer, and the run goes on, so one pass reports every class it finds.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.auth.permissions import PERMISSIONS
from heart.auth.service import create_user, open_session
from heart.db import transaction, utcnow
from heart.deps import CSRF_HEADER, SESSION_COOKIE
from heart.dispatch import alerts
from heart.dispatch import service as dispatch_service
from heart.dispatch.schemas import CancelResponse, ClearResponse
from heart.encounters.service import append_narrative, encounters_for_call
from heart.triage.policy import Policy
from heart.triage.service import triage_call
from tests import factories

ROLES: tuple[Role, ...] = tuple(Role)
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A signed-in session of one role: the cookie and the CSRF token every write carries."""

    role: Role
    token: str
    csrf_token: str
    user_id: int


@dataclass(frozen=True, slots=True)
class ServerError:
    """One case the server failed: what was sent, by whom, and where it broke (no request values logged)."""

    operation: str
    role: str
    mode: str
    status: int
    where: str
    reproducer: str

    @property
    def key(self) -> tuple[str, str]:
        """A failure class: the operation and the place in the code (or the status when nothing was raised)."""
        return self.operation, self.where


@dataclass
class FuzzReport:
    """Operations covered, cases sent, answers by status, and every server error."""

    operations: list[str] = field(default_factory=list)
    in_document: list[str] = field(default_factory=list)
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[ServerError] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of this process (all its threads): the run's cost, whatever else the machine is doing."""

    def classes(self) -> dict[tuple[str, str], list[ServerError]]:
        grouped: dict[tuple[str, str], list[ServerError]] = {}
        for error in self.errors:
            grouped.setdefault(error.key, []).append(error)
        return grouped

    def summary(self) -> str:
        lines = [f"{len(self.operations)} operations, {self.cases:,} cases in {self.seconds:.1f} s "
                 f"({self.cpu_seconds:.1f} s CPU); "
                 f"answers {dict(sorted(self.statuses.items()))}; {len(self.errors)} server errors"]
        for (operation, where), found in sorted(self.classes().items()):
            lines.append(f"  {len(found):>4} × {operation} at {where}\n         e.g. {found[0].role}: "
                         f"{found[0].reproducer[:600]}")
        return "\n".join(lines)


# --- a small world to aim at ------------------------------------------------------------------------------------

def seed_world(sessions: sessionmaker[Session], policy: Policy) -> dict[Role, Credentials]:
    """Programs, units on duty, calls in every state, a response of each kind, narrative and an alert;
    one signed-in user per role (the responder on the first unit)."""
    now = utcnow()
    earlier = now - timedelta(minutes=30)
    with transaction(sessions) as session:
        programs = {code: factories.program(session, code, now=earlier) for code in ("CRT", "COR", "CCD")}
        units = [factories.unit(session, programs["CRT"], f"CRT-{n}", now=earlier) for n in (1, 2, 3, 4)]
        factories.unit(session, programs["COR"], "COR-1", now=earlier)
        dispatcher = create_user(session=session, username="seed-dispatcher", password="x" * 12,
                                 role=Role.DISPATCHER, now=earlier)
        calls = [factories.call(session, now=earlier, external_id=f"SEED-{n}", lat=36.0, lon=-78.9)
                 for n in range(1, 9)]
        for call in calls:
            triage_call(session=session, call_id=call.id, now=earlier, actor_id=None, policy=policy)
        dispatched = [dispatch_service.assign_unit(session=session, call_id=calls[n].id, unit_id=units[n].id,
                                                   at=earlier, now=now, by=dispatcher) for n in range(4)]
        for response in dispatched[1:]:
            dispatch_service.mark_on_scene(session=session, response_id=response.id, at=earlier, now=now,
                                           by=dispatcher)
        dispatch_service.clear_response(
            session=session, response_id=dispatched[2].id, at=now, now=now, by=dispatcher,
            outcome=ClearResponse(pd_backup_for_safety=False, ems_support=False, disposition="resolved",
                                  narrative="seeded narrative"))
        dispatch_service.cancel_response(session=session, response_id=dispatched[0].id, at=now, now=now,
                                         by=dispatcher, data=CancelResponse(reason="seeded"))
        alerts.request_backup(session=session, response_id=dispatched[1].id, kind="ems", by=dispatcher, now=now)
        encounter = encounters_for_call(session=session, call_id=calls[2].id)[0]
        append_narrative(session=session, encounter_id=encounter.id, text="second entry", client_token="seed-2",
                         at=now, actor_id=None)
        signed: dict[Role, Credentials] = {}
        for role in ROLES:
            user = create_user(session=session, username=f"fuzz-{role.value}", password="x" * 12, role=role,
                               now=now, unit_id=units[1].id if role == Role.RESPONDER else None)
            opened = open_session(session=session, user=user, now=now, hours=12)
            signed[role] = Credentials(role, opened.token, opened.csrf_token, user.id)
    return signed


# --- the run -----------------------------------------------------------------------------------------------------

def load_schema(app: FastAPI) -> Any:
    """The app's own OpenAPI document, as Schemathesis reads it in-process."""
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def operations_of(schema: Any) -> list[Any]:
    """Every operation of the document (a broken one fails loudly rather than being skipped)."""
    return [result.ok() for result in schema.get_all_operations()]


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def _permission_of(app: FastAPI, operation: Any) -> frozenset[Role] | None:
    """The roles that may use the operation (None for a public one), read from the route table."""
    from fastapi.routing import APIRoute

    from heart.deps import RoleGuard
    from heart.main import _all_routes

    for route in _all_routes(app):
        if isinstance(route, APIRoute) and route.path == operation.path and operation.method.upper() in route.methods:
            for dependency in route.dependant.dependencies:
                if isinstance(dependency.call, RoleGuard):
                    return PERMISSIONS[dependency.call.family]
            return None
    raise LookupError(f"no route for {_label(operation)}")


def _where(error: BaseException) -> str:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/heart/" in frame.filename]
    frame = frames[-1] if frames else traceback.extract_tb(error.__traceback__)[-1]
    driver = getattr(error, "orig", None)  # SQLAlchemy wraps the driver's error: name both (DataError: which?)
    kind = f"{type(error).__name__}/{type(driver).__name__}" if driver is not None else type(error).__name__
    return f"{kind} at {Path(frame.filename).name}:{frame.lineno} ({frame.name})"


def _reproducer(case: Any) -> str:
    try:
        return str(case.as_curl_command(headers={"Cookie": "…", CSRF_HEADER: "…"}))
    except Exception:  # a reproducer is a nicety; never let it hide the failure
        return f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"


@contextmanager
def _clients(app: FastAPI, signed: dict[Role, Credentials]) -> Iterator[dict[Role | None, Any]]:
    clients: dict[Role | None, Any] = {None: asgi.get_client(app)}
    for role, credentials in signed.items():
        client = asgi.get_client(app)
        client.cookies.set(SESSION_COOKIE, credentials.token)
        client.headers[CSRF_HEADER] = credentials.csrf_token
        clients[role] = client
    try:
        for client in clients.values():
            client.__enter__()
        yield clients
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)
        asgi.shutdown_lifespans()


def fuzz(
    app: FastAPI,
    signed: dict[Role, Credentials],
    *,
    examples: int,
    refused_examples: int = 1,
    modes: Sequence[GenerationMode] = MODES,
    only: Iterable[str] | None = None,
    random_seed: int = 0,
) -> FuzzReport:
    """Send ``examples`` cases per operation and generation mode, each signed in as one of the roles that may
    use the operation (drawn anew for every case), and ``refused_examples`` per role that may not and for an
    anonymous client (they must be told 403 / 401, never 500)."""
    report = FuzzReport()
    schema = load_schema(app)
    wanted = set(only) if only is not None else None
    started, cpu_started = time.perf_counter(), time.process_time()
    with _clients(app, signed) as clients:
        for operation in operations_of(schema):
            label = _label(operation)
            report.in_document.append(label)
            if wanted is not None and label not in wanted:
                continue
            report.operations.append(label)
            allowed = _permission_of(app, operation)
            may: tuple[Role | None, ...] = (*ROLES, None) if allowed is None else tuple(r for r in ROLES
                                                                                        if r in allowed)
            for mode in modes:
                _run(report, app, signed, operation, mode, clients, may, examples, random_seed)
            refused = () if allowed is None else (*(r for r in ROLES if r not in allowed), None)
            for role in refused:
                _run(report, app, signed, operation, GenerationMode.POSITIVE, clients, (role,), refused_examples,
                     random_seed)
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = time.process_time() - cpu_started
    return report


def _relogin(app: FastAPI, credentials: Credentials, client: Any) -> None:
    """The fuzzer signed a role out (POST /api/auth/logout): sign it in again so the run goes on."""
    from heart.auth.models import User

    with transaction(app.state.sessionmaker) as session:
        opened = open_session(session=session, user=session.get_one(User, credentials.user_id), now=utcnow(),
                              hours=12)
    client.cookies.set(SESSION_COOKIE, opened.token)
    client.headers[CSRF_HEADER] = opened.csrf_token


def _run(report: FuzzReport, app: FastAPI, signed: dict[Role, Credentials], operation: Any, mode: GenerationMode,
         clients: dict[Role | None, Any], roles: Sequence[Role | None], count: int, random_seed: int) -> None:
    label = _label(operation)

    def send(role: Role | None, case: Any) -> None:
        who = role.value if role else "anonymous"
        report.cases += 1
        try:
            response = case.call(session=clients[role])
        except Exception as error:  # an exception escaping the app is exactly what we look for
            report.statuses[500] += 1
            report.errors.append(ServerError(label, who, mode.value, 500, _where(error), _reproducer(case)))
            return
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.errors.append(ServerError(label, who, mode.value, response.status_code,
                                             f"HTTP {response.status_code}", _reproducer(case)))
        if label == "POST /api/auth/logout" and response.status_code == 204 and role is not None:
            _relogin(app, signed[role], clients[role])

    try:
        strategy = operation.as_strategy(generation_mode=mode)
    except Exception:  # e.g. nothing to make invalid in an operation without parameters
        return
    test = settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))(given(role=st.sampled_from(roles), case=strategy)(send))
    try:
        seed(random_seed)(test)()
    except Unsatisfiable:  # generation gave up: no case of this mode exists for the operation
        return
