"""Shift schedules: a crew booked on a unit for a future window; the unit goes on and off duty by itself.

A unit is available only on a shift with every crew role its program requires (checked when the shift is
booked); each start and end is an event like a manual one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from heart.errors import Conflict, InvalidInput
from heart.events import record_event
from heart.programs.models import Program, Shift, ShiftMember, Staff, Unit, UnitStatus
from heart.programs.service import check_crew, get_program, get_unit, go_on_duty


@dataclass(frozen=True, slots=True)
class ShiftView:
    """A shift with its crew's names and roles, for the admin screen."""

    shift: Shift
    crew: list[tuple[str, str]]


def schedule_shift(
    *, session: Session, unit_id: int, crew: Sequence[tuple[int, str]], starts_at: datetime, ends_at: datetime,
    now: datetime, actor_id: int | None,
) -> Shift:
    """Book a crew on a unit; a shift that starts now (or already has) puts the unit on duty at once."""
    if starts_at <= now:
        return go_on_duty(session=session, unit_id=unit_id, crew=crew, ends_at=ends_at, now=now, actor_id=actor_id)
    unit = get_unit(session=session, unit_id=unit_id)
    program = get_program(session=session, program_id=unit.program_id)
    if ends_at <= starts_at:
        raise InvalidInput("the shift must end after it starts", field="ends_at")
    check_crew(session=session, unit=unit, program=program, crew=crew)
    overlapping = session.scalar(select(Shift.id).where(Shift.unit_id == unit.id, Shift.starts_at < ends_at,
                                                        Shift.ends_at > starts_at))
    if overlapping is not None:
        raise Conflict(f"{unit.call_sign} already has a shift in that window")
    shift = Shift(unit_id=unit.id, starts_at=starts_at, ends_at=ends_at)
    session.add(shift)
    session.flush()
    session.add_all(ShiftMember(shift_id=shift.id, staff_id=staff_id, role=role) for staff_id, role in crew)
    record_event(session=session, kind="shift.scheduled", subject_type="unit", subject_id=unit.id, at=now,
                 actor_id=actor_id, after={"shift_id": shift.id, "starts_at": starts_at, "ends_at": ends_at,
                                           "roles": sorted(role for _, role in crew)})
    return shift


def apply_schedule(*, session: Session, now: datetime) -> tuple[int, int]:
    """Start the shifts that are due and end the ones that are over: (units on duty, units off duty).

    A unit still on a call when its shift ends stays until it clears, and goes off duty at the next sweep.
    """
    covering = exists().where(Shift.unit_id == Unit.id, Shift.starts_at <= now, Shift.ends_at > now)
    started = 0
    for unit in session.scalars(select(Unit).where(Unit.status == UnitStatus.OFF_DUTY, covering)):
        shift = session.scalars(select(Shift).where(Shift.unit_id == unit.id, Shift.starts_at <= now,
                                                    Shift.ends_at > now)).first()
        claimed = session.execute(update(Unit).where(Unit.id == unit.id, Unit.status == UnitStatus.OFF_DUTY)
                                  .values(status=UnitStatus.AVAILABLE, status_changed_at=now,
                                          lat=unit.home_lat, lon=unit.home_lon, position_at=now)
                                  ).rowcount  # type: ignore[attr-defined]
        if claimed == 1 and shift is not None:
            started += 1
            record_event(session=session, kind="unit.on_duty", subject_type="unit", subject_id=unit.id, at=now,
                         actor_id=None, before={"status": "off_duty"},
                         after={"status": "available", "shift_id": shift.id, "ends_at": shift.ends_at})
    ended = 0
    idle = (UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE)  # out of service ends with the shift too
    for unit in session.scalars(select(Unit).where(Unit.status.in_(idle), ~covering)):
        was = unit.status
        claimed = session.execute(update(Unit).where(Unit.id == unit.id, Unit.status == was)
                                  .values(status=UnitStatus.OFF_DUTY, status_changed_at=now, status_reason=None)
                                  ).rowcount  # type: ignore[attr-defined]
        if claimed == 1:
            ended += 1
            record_event(session=session, kind="unit.off_duty", subject_type="unit", subject_id=unit.id, at=now,
                         actor_id=None, before={"status": was.value},
                         after={"status": "off_duty", "reason": "shift ended"})
    return started, ended


def shifts_of(*, session: Session, now: datetime, program_id: int | None = None) -> dict[int, list[ShiftView]]:
    """Current and future shifts per unit id, soonest first, with their crews."""
    query = (select(Shift).join(Unit, Unit.id == Shift.unit_id).where(Shift.ends_at > now)
             .order_by(Shift.starts_at))
    if program_id is not None:
        query = query.where(Unit.program_id == program_id)
    shifts = list(session.scalars(query))
    members = session.execute(
        select(ShiftMember.shift_id, Staff.name, ShiftMember.role).join(Staff, Staff.id == ShiftMember.staff_id)
        .where(ShiftMember.shift_id.in_([s.id for s in shifts])).order_by(ShiftMember.id)
    ).all()
    crews: dict[int, list[tuple[str, str]]] = {}
    for shift_id, name, role in members:
        crews.setdefault(shift_id, []).append((name, role))
    result: dict[int, list[ShiftView]] = {}
    for shift in shifts:
        result.setdefault(shift.unit_id, []).append(ShiftView(shift, crews.get(shift.id, [])))
    return result


def set_safety_timers(*, session: Session, code: str, timers: dict[str, int], now: datetime,
                      actor_id: int | None) -> Program:
    """Change a program's safety-timer minutes (an event records before and after)."""
    program = get_program(session=session, code=code)
    before = dict(program.safety_timers or {})
    if before != timers:
        program.safety_timers = dict(timers)
        record_event(session=session, kind="program.safety_timers", subject_type="program", subject_id=program.id,
                     at=now, actor_id=actor_id, before=before, after=dict(timers))
    return program
