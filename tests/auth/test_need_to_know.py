"""Need to know: a responder reads their unit's current call and the calls of their own shifts, on every path
(calls list and page, call, responses, response, encounter, timeline, the phone), and nothing of the unit's
other history. The SQL rule is checked against the rule in words over random schedules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from heart.auth import need_to_know
from heart.auth.models import Role, User
from heart.auth.service import create_user
from heart.calls.models import Call, CallSource, CallStatus
from heart.db import transaction, utcnow
from heart.dispatch.models import Response
from heart.encounters.models import Encounter
from heart.encounters.service import append_narrative
from heart.events import record_event
from heart.programs.models import Shift, ShiftMember, Staff, Unit
from tests import factories
from tests.conftest import PASSWORD, login


@dataclass
class Schedule:
    """Two units, three crew members, past and present shifts, and a call per response."""

    now: datetime
    units: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)
    responses: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    encounters: dict[str, int] = field(default_factory=dict)


def _shift(session: Session, unit_id: int, starts: datetime, hours: float, crew: list[int]) -> None:
    shift = Shift(unit_id=unit_id, starts_at=starts, ends_at=starts + timedelta(hours=hours))
    session.add(shift)
    session.flush()
    session.add_all(ShiftMember(shift_id=shift.id, staff_id=staff_id, role="crew") for staff_id in crew)


def _call(session: Session, at: datetime) -> int:
    call = Call(source=CallSource.E911, received_at=at, nature_code="CHECK WELFARE", status=CallStatus.ASSIGNED,
                screening={}, summary="a neighbor's story")
    session.add(call)
    session.flush()
    record_event(session=session, kind="call.received", subject_type="call", subject_id=call.id, call_id=call.id,
                 at=at, actor_id=None)
    return call.id


def _response(session: Session, world: Schedule, name: str, unit: str, call_id: int, dispatched: datetime,
              cleared: datetime | None, program_id: int) -> None:
    response = Response(call_id=call_id, unit_id=world.units[unit], program_id=program_id, dispatched_at=dispatched,
                        cleared_at=cleared, disposition="resolved on scene" if cleared else None)
    session.add(response)
    session.flush()
    world.responses[name] = response.id
    record_event(session=session, kind="response.dispatched", subject_type="response", subject_id=response.id,
                 call_id=call_id, at=dispatched, actor_id=None)
    if cleared is not None:
        encounter = Encounter(call_id=call_id, response_id=response.id, program_id=program_id, needs=["housing"],
                              services=[], consent_to_follow_up=False, created_at=cleared)
        session.add(encounter)
        session.flush()
        world.encounters[name] = encounter.id
        record_event(session=session, kind="encounter.opened", subject_type="encounter", subject_id=encounter.id,
                     call_id=call_id, at=cleared, actor_id=None)
        append_narrative(session=session, encounter_id=encounter.id, text=f"narrative of {name}",
                         client_token=f"token-{name}", at=cleared, actor_id=None)


@pytest.fixture
def schedule(sessions: sessionmaker[Session]) -> Schedule:
    now = utcnow()
    world = Schedule(now)
    day = timedelta(days=1)
    with transaction(sessions) as session:
        program = factories.program(session, "CRT", now=now)
        for sign in ("CRT-1", "CRT-2"):
            world.units[sign] = factories.unit(session, program, sign, now=now, on_duty=False).id
        for name in ("A", "B", "C"):
            staff = Staff(name=f"Staff {name}", role="crew", program_id=program.id)
            session.add(staff)
            session.flush()
            world.staff[name] = staff.id
        a, b, c = world.staff["A"], world.staff["B"], world.staff["C"]
        u1, u2 = world.units["CRT-1"], world.units["CRT-2"]
        _shift(session, u1, now - 3 * day, 8, [a, c])  # A's and C's shift three days ago
        _shift(session, u1, now - 2 * day, 8, [b, c])  # B's and C's, two days ago
        _shift(session, u2, now - 30 * timedelta(hours=1), 8, [a])  # A rode CRT-2 yesterday
        _shift(session, u1, now - timedelta(hours=2), 8, [a, b])  # CRT-1 now: A and B
        _shift(session, u2, now - timedelta(hours=2), 8, [c])  # CRT-2 now: C
        hour = timedelta(hours=1)
        plan = [("old-A", "CRT-1", now - 3 * day + hour, now - 3 * day + 2 * hour),
                ("old-B", "CRT-1", now - 2 * day + hour, now - 2 * day + 2 * hour),
                ("yesterday-A-on-CRT-2", "CRT-2", now - 25 * hour, now - 24 * hour),
                ("now-cleared", "CRT-1", now - hour, now - hour / 2),
                ("live", "CRT-1", now - hour / 6, None)]
        for name, unit, dispatched, cleared in plan:
            world.calls[name] = _call(session, dispatched - timedelta(minutes=3))
            _response(session, world, name, unit, world.calls[name], dispatched, cleared, program.id)
        # CRT-2 co-responds to CRT-1's live call: the call is CRT-1's to see, CRT-2's response is not
        _response(session, world, "live-CRT-2", "CRT-2", world.calls["live"], now - hour / 6, None, program.id)
    return world


def _responder(sessions: sessionmaker[Session], name: str, unit_id: int | None, staff_id: int | None) -> str:
    with transaction(sessions) as session:
        create_user(session=session, username=name, password=PASSWORD, role=Role.RESPONDER, now=utcnow(),
                    unit_id=unit_id, staff_id=staff_id)
    return name


# who: (unit, staff) → the responses they may read
EXPECTED = {
    "A": ("CRT-1", "A", {"old-A", "yesterday-A-on-CRT-2", "now-cleared", "live"}),
    "B": ("CRT-1", "B", {"old-B", "now-cleared", "live"}),
    "C": ("CRT-2", "C", {"old-A", "old-B", "live-CRT-2"}),
    "phone": ("CRT-1", None, {"now-cleared", "live"}),  # a unit's shared phone: the shift in progress
    "nobody": (None, None, set()),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_a_responder_reads_the_current_call_and_their_own_shifts_on_every_path(
    who: str, schedule: Schedule, sessions: sessionmaker[Session], client: TestClient,
) -> None:
    unit, staff, visible = EXPECTED[who]
    username = _responder(sessions, f"responder-{who}", schedule.units.get(unit or ""), schedule.staff.get(
        staff or ""))
    responder = login(client, username)
    calls = {name for name, call_id in schedule.calls.items()
             if any(schedule.calls.get(r) == call_id or (r == "live-CRT-2" and name == "live") for r in visible)}
    by_id = {call_id: name for name, call_id in schedule.calls.items()}

    assert {by_id[c["id"]] for c in responder.get("/api/calls").json()} == calls
    listed = responder.get("/calls", headers={"accept": "text/html"}).text
    for name, call_id in schedule.calls.items():
        readable = name in calls
        assert responder.get(f"/api/calls/{call_id}").status_code == (200 if readable else 404), name
        assert responder.get(f"/api/calls/{call_id}/events").status_code == (200 if readable else 404), name
        assert responder.get(f"/calls/{call_id}", headers={"accept": "text/html"}).status_code == (
            200 if readable else 404), name
        assert (f'href="/calls/{call_id}"' in listed) == readable, name
        if readable:
            responses = {r["id"] for r in responder.get(f"/api/calls/{call_id}/responses").json()}
            assert responses == {schedule.responses[r] for r in visible if r in _on_call(schedule, call_id)}
    for name, response_id in schedule.responses.items():
        assert responder.get(f"/api/responses/{response_id}").status_code == (200 if name in visible else 404), name
    for name, encounter_id in schedule.encounters.items():
        assert responder.get(f"/api/encounters/{encounter_id}").status_code == (
            200 if name in visible else 404), name


def _on_call(schedule: Schedule, call_id: int) -> set[str]:
    return {name for name in schedule.responses
            if schedule.calls.get(name) == call_id or (name == "live-CRT-2" and call_id == schedule.calls["live"])}


def test_a_shared_call_shows_a_responder_only_their_own_units_part_of_its_timeline(
    schedule: Schedule, sessions: sessionmaker[Session], client: TestClient,
) -> None:
    responder = login(client, _responder(sessions, "responder-a", schedule.units["CRT-1"], schedule.staff["A"]))
    timeline = responder.get(f"/api/calls/{schedule.calls['live']}/events").json()
    subjects = {(e["subject_type"], e["subject_id"]) for e in timeline}
    assert ("response", schedule.responses["live"]) in subjects
    assert ("response", schedule.responses["live-CRT-2"]) not in subjects
    assert ("call", schedule.calls["live"]) in subjects
    dispatcher = login(client, _staff_login(sessions))
    everything = dispatcher.get(f"/api/calls/{schedule.calls['live']}/events").json()
    assert ("response", schedule.responses["live-CRT-2"]) in {(e["subject_type"], e["subject_id"]) for e in everything}


def _staff_login(sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        create_user(session=session, username="dispatcher-x", password=PASSWORD, role=Role.DISPATCHER, now=utcnow())
    return "dispatcher-x"


def test_the_phone_lists_recent_calls_of_the_responders_own_shifts_only(
    schedule: Schedule, sessions: sessionmaker[Session], client: TestClient,
) -> None:
    # Both accounts are on CRT-1's phone; the call it cleared an hour ago was on A's shift, not on C's.
    for who, expect in (("A", True), ("C", False)):
        unit = "CRT-1"
        client.cookies.clear()
        phone = login(client, _responder(sessions, f"phone-{who}", schedule.units[unit], schedule.staff[who]))
        panel = phone.get("/responder/panel").text
        assert ("narrative of now-cleared" in panel) == expect, who


def test_a_responder_account_names_an_existing_staff_member(
    signed_in: Callable[..., TestClient], schedule: Schedule,
) -> None:
    admin = signed_in(Role.ADMIN)
    body = {"username": "rosa", "password": "a-long-password", "role": "responder",
            "unit_id": schedule.units["CRT-1"], "staff_id": schedule.staff["A"]}
    created = admin.post("/api/users", json=body)
    assert created.status_code == 201 and created.json()["staff_id"] == schedule.staff["A"]
    missing = admin.post("/api/users", json={**body, "username": "rosa2", "staff_id": 999999})
    assert missing.status_code == 404 and missing.json()["field"] == "staff_id"


# --- the SQL rule against the rule in words --------------------------------------------------------------------

HOUR = timedelta(hours=1)
shift_plans = st.lists(st.tuples(st.sampled_from([0, 1]), st.integers(-60, 10), st.integers(1, 12),
                                 st.sets(st.sampled_from([0, 1, 2]), max_size=3)), max_size=5)
response_plans = st.lists(st.tuples(st.sampled_from([0, 1]), st.integers(-60, 0), st.booleans()), max_size=8)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shifts=shift_plans, responses=response_plans, staff=st.sampled_from([None, 0, 1, 2]),
       unit=st.sampled_from([None, 0, 1]))
def test_the_rule_in_sql_is_the_rule_in_words(
    sessions: sessionmaker[Session], shifts: list[tuple[int, int, int, set[int]]],
    responses: list[tuple[int, int, bool]], staff: int | None, unit: int | None,
) -> None:
    now = utcnow().replace(microsecond=0)
    with sessions() as session:
        program = factories.program(session, f"P{abs(hash((now, len(shifts)))) % 10**6}", now=now)
        units = [Unit(call_sign=f"U{program.id}-{n}", program_id=program.id) for n in range(2)]
        people = [Staff(name=f"S{program.id}-{n}", role="crew", program_id=program.id) for n in range(3)]
        session.add_all(units + people)
        session.flush()
        made_shifts = []
        for unit_index, start, hours, crew in shifts:
            shift = Shift(unit_id=units[unit_index].id, starts_at=now + start * HOUR,
                          ends_at=now + (start + hours) * HOUR)
            session.add(shift)
            session.flush()
            session.add_all(ShiftMember(shift_id=shift.id, staff_id=people[m].id, role="crew") for m in crew)
            made_shifts.append((unit_index, shift.starts_at, shift.ends_at, crew))
        made, live_units = [], set()
        for unit_index, at, wanted_live in responses:
            live = wanted_live and unit_index not in live_units  # a unit is on one live response at most
            live_units |= {unit_index} if live else set()
            call_id = _call(session, now + at * HOUR)
            response = Response(call_id=call_id, unit_id=units[unit_index].id, program_id=program.id,
                                dispatched_at=now + at * HOUR, cleared_at=None if live else now + at * HOUR)
            session.add(response)
            session.flush()
            made.append((response.id, unit_index, response.dispatched_at, live))
        viewer = User(username="v", password_hash="x", role=Role.RESPONDER, active=True,
                      unit_id=units[unit].id if unit is not None else None,
                      staff_id=people[staff].id if staff is not None else None)

        def mine(unit_index: int, starts: datetime, ends: datetime, crew: set[int]) -> bool:
            if staff is not None:
                return staff in crew
            return unit_index == unit and starts <= now < ends

        expected = {rid for rid, unit_index, at, live in made
                    if (live and unit_index == unit) or any(
                        mine(*s) and s[0] == unit_index and s[1] <= at < s[2] for s in made_shifts)}
        found = set(session.scalars(select(Response.id).where(
            Response.program_id == program.id, need_to_know.responses_visible_to(viewer, now))))
        session.rollback()
    assert found == expected


# --- an index, not a scan ----------------------------------------------------------------------------------------

TABLES = {"calls", "responses", "shifts", "shift_members"}


def _unbounded_scans(node: dict[str, Any]) -> list[str]:
    """PostgreSQL plan nodes that read one of TABLES without an index condition (a scan of the whole table)."""
    found = []
    if node.get("Relation Name") in TABLES and not (node.get("Index Cond") or node.get("Recheck Cond")):
        found.append(f"{node['Node Type']} on {node['Relation Name']}")
    for child in node.get("Plans", []):
        found += _unbounded_scans(child)
    return found


@pytest.mark.parametrize("staff", ["A", None], ids=["own-shifts", "unit-phone"])
def test_a_responders_calls_are_found_through_indexes(
    staff: str | None, schedule: Schedule, sessions: sessionmaker[Session], database_url: str,
) -> None:
    viewer = User(username="v", password_hash="x", role=Role.RESPONDER, active=True,
                  unit_id=schedule.units["CRT-1"], staff_id=schedule.staff[staff] if staff else None)
    query = (select(Call.id).where(need_to_know.calls_visible_to(viewer, schedule.now))
             .order_by(Call.received_at.desc()).limit(100))
    with sessions() as session:
        compiled = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        if database_url.startswith("sqlite"):
            plan = [row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
            scans = [step for step in plan if step.startswith("SCAN")]
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))  # tiny tables: make the planner show its path
            plan = session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar_one()
            scans = _unbounded_scans(plan[0]["Plan"])
    assert not scans, plan
