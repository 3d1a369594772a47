"""Safety timers, acknowledgements, one-tap backup, check-ins and shift schedules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction
from heart.dispatch import service
from heart.dispatch.alerts import acknowledge, open_alerts, request_backup
from heart.dispatch.models import Alert, AlertKind, Response
from heart.dispatch.schemas import ClearResponse
from heart.dispatch.timers import check_in, sweep
from heart.errors import Conflict
from heart.events import Event
from heart.programs.models import Program, Staff, Unit, UnitStatus
from heart.programs.shifts import apply_schedule, schedule_shift
from tests.dispatch.scenario import World, world


def _on_scene(w: World, sessions: sessionmaker[Session], minutes_ago: float = 0) -> int:
    at = w.now - timedelta(minutes=minutes_ago)
    call_id = w.add_call(when=at)
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=at, now=w.now,
                                       by=w.dispatcher)
        service.mark_on_scene(session=session, response_id=response.id, at=at, now=w.now, by=w.dispatcher)
        return response.id


def _count(session: Session, kind: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Event).where(Event.kind == kind)) or 0)


def test_on_scene_past_its_limit_raises_one_alert_until_acknowledged_and_a_check_in_restarts_the_timer(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    response_id = _on_scene(w, sessions)
    with transaction(sessions) as session:
        assert sweep(session=session, now=w.now + timedelta(minutes=44)) == 0
    for _ in range(2):  # two sweeps (or two server processes) raise it once
        with transaction(sessions) as session:
            sweep(session=session, now=w.now + timedelta(minutes=46))
    with sessions() as session:
        alerts = open_alerts(session=session)
        assert [a.kind for a in alerts] == [AlertKind.SAFETY_TIMER]
        assert alerts[0].message == "CRT-1 on scene for 46 min without a check-in (limit 45)"
        assert _count(session, "alert.raised") == 1
    with transaction(sessions) as session:  # it stays: nothing but an acknowledgement removes it
        sweep(session=session, now=w.now + timedelta(minutes=80))
    ack_at = w.now + timedelta(minutes=81)
    for _ in range(2):
        with transaction(sessions) as session:
            acknowledge(session=session, alert_id=alerts[0].id, by=w.dispatcher, now=ack_at)
    with sessions() as session:
        assert open_alerts(session=session) == []
        assert _count(session, "alert.acknowledged") == 1
        assert session.get_one(Response, response_id).checked_in_at == ack_at  # the dispatcher checked on them
    with transaction(sessions) as session:
        assert sweep(session=session, now=ack_at + timedelta(minutes=44)) == 0
        assert sweep(session=session, now=ack_at + timedelta(minutes=45)) == 1


def test_a_crew_check_in_resets_the_timer_and_each_programs_limits_are_its_own(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    with transaction(sessions) as session:
        session.get_one(Program, w.programs["CRT"]).safety_timers = {"on_scene": 20}
    response_id = _on_scene(w, sessions, minutes_ago=15)
    with transaction(sessions) as session:
        check_in(session=session, response_id=response_id, by=w.dispatcher, now=w.now)
        check_in(session=session, response_id=response_id, by=w.dispatcher, now=w.now + timedelta(seconds=5))
    with transaction(sessions) as session:
        assert _count(session, "response.checked_in") == 1  # the second tap arrived twice
        assert sweep(session=session, now=w.now + timedelta(minutes=19)) == 0
        assert sweep(session=session, now=w.now + timedelta(minutes=20)) == 1
        assert "(limit 20)" in open_alerts(session=session)[0].message


def test_one_tap_backup_alerts_the_board_once_and_is_the_outcome_the_dashboard_counts(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    response_id = _on_scene(w, sessions)
    for _ in range(3):
        with transaction(sessions) as session:
            request_backup(session=session, response_id=response_id, kind="pd", by=w.dispatcher, now=w.now)
    with transaction(sessions) as session:
        request_backup(session=session, response_id=response_id, kind="ems", by=w.dispatcher, now=w.now)
    with sessions() as session:
        assert sorted(a.message for a in open_alerts(session=session)) == [
            "CRT-1 asks for EMS support", "CRT-1 asks for PD backup for team safety"]
        assert _count(session, "response.backup_requested") == 2
        response = session.get_one(Response, response_id)
        assert response.pd_backup_for_safety is True and response.ems_support is True
    with transaction(sessions) as session:  # the outcome form forgot to tick the boxes: the request stands
        service.clear_response(session=session, response_id=response_id, at=w.now, now=w.now, by=w.dispatcher,
                               outcome=ClearResponse(pd_backup_for_safety=False, ems_support=False,
                                                     disposition="resolved on scene"))
    with sessions() as session:
        response = session.get_one(Response, response_id)
        assert response.pd_backup_for_safety is True and response.ems_support is True
        cleared = session.scalars(select(Event).where(Event.kind == "response.cleared")).one()
        assert cleared.after is not None and cleared.after["pd_backup_for_safety"] is True
    with pytest.raises(Conflict, match="has ended"), transaction(sessions) as session:
        request_backup(session=session, response_id=response_id, kind="pd", by=w.dispatcher, now=w.now)


def test_a_call_past_its_maximum_wait_raises_the_prompt_once(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    call_id = w.add_call(when=w.now - timedelta(minutes=25))
    for _ in range(2):
        with transaction(sessions) as session:
            sweep(session=session, now=w.now)
    with sessions() as session:
        prompts = session.scalars(select(Alert).where(Alert.kind == AlertKind.MAX_WAIT)).all()
        assert len(prompts) == 1 and prompts[0].call_id == call_id
        assert "has waited 25 min for a CRT unit (maximum 20)" in prompts[0].message
        assert open_alerts(session=session) == []  # shown in the queue row, not in the safety strip


def test_a_booked_shift_starts_and_ends_by_itself(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    unit_id = w.add_unit("CRT", "CRT-7", on_duty=False)
    with transaction(sessions) as session:
        crew = []
        for role in session.get_one(Program, w.programs["CRT"]).crew_roles:
            staff = Staff(name=f"Crew {role}", role=role)
            session.add(staff)
            session.flush()
            crew.append((staff.id, role))
        with pytest.raises(Conflict, match="needs a full crew; missing: "):
            schedule_shift(session=session, unit_id=unit_id, crew=crew[:1], starts_at=w.now + timedelta(hours=1),
                           ends_at=w.now + timedelta(hours=9), now=w.now, actor_id=None)
        schedule_shift(session=session, unit_id=unit_id, crew=crew, starts_at=w.now + timedelta(hours=1),
                       ends_at=w.now + timedelta(hours=9), now=w.now, actor_id=None)
        with pytest.raises(Conflict, match="already has a shift"):
            schedule_shift(session=session, unit_id=unit_id, crew=crew, starts_at=w.now + timedelta(hours=8),
                           ends_at=w.now + timedelta(hours=10), now=w.now, actor_id=None)
    for hours, expected in ((0.5, UnitStatus.OFF_DUTY), (1, UnitStatus.AVAILABLE), (8.9, UnitStatus.AVAILABLE),
                            (9, UnitStatus.OFF_DUTY)):
        with transaction(sessions) as session:
            apply_schedule(session=session, now=w.now + timedelta(hours=hours))
        with sessions() as session:
            assert session.get_one(Unit, unit_id).status == expected, hours
    with sessions() as session:
        kinds = session.scalars(select(Event.kind).where(Event.subject_type == "unit", Event.subject_id == unit_id)
                                .order_by(Event.id)).all()
        assert kinds == ["unit.created", "shift.scheduled", "unit.on_duty", "unit.off_duty"]
