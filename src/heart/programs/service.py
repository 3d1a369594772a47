"""Programs, units, staff and duty: configuration loading, the unit's on/off-duty transitions, and availability
(which units are free to send now, and which field programs have one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from heart.city.programs import DAYS, city_programs, load_programs_file
from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import reason_given, record_event
from heart.programs.models import Program, ProgramKind, Shift, ShiftMember, Staff, Unit, UnitStatus
from heart.programs.schemas import ProgramConfig, ProgramsFile, StaffConfig, UnitConfig


@dataclass(frozen=True, slots=True)
class LoadSummary:
    programs_added: int
    programs_updated: int
    units_added: int
    units_updated: int
    staff_added: int


def read_programs_file(path: Path | None = None) -> ProgramsFile:
    """The programs HEART runs (every kind but external), units and staff of a city's ``programs.yaml`` (the city's
    in force by default), as ``heart config load`` writes them; errors name the file, line and field."""
    city = load_programs_file(path) if path is not None else city_programs()
    programs = []
    for program in city.of_kind("field", "phone", "case"):
        values = {"code": program.code, "name": program.name, "kind": program.kind, "timezone": program.timezone,
                  "hours": {day: [list(w) for w in windows] for day, windows in program.week.items()},
                  "max_wait_minutes": program.max_wait_minutes, "crew_roles": list(program.crew_roles),
                  "safety_timers": dict(program.safety_timers) if program.safety_timers is not None else None,
                  "access": program.access}
        try:
            programs.append(ProgramConfig.model_validate(values))
        except ValidationError as error:
            first = error.errors()[0]
            raise city.document.error(("programs",), f"{program.code}: {first['msg']}") from None
    return ProgramsFile(programs=programs,
                        units=[UnitConfig.model_validate(u.model_dump()) for u in city.units],
                        staff=[StaffConfig.model_validate(s.model_dump()) for s in city.staff])


def load_programs(*, session: Session, config: ProgramsFile, now: datetime, actor_id: int | None) -> LoadSummary:
    """Create or update programs, units and staff by their codes, call signs and names (idempotent)."""
    counts = {"programs_added": 0, "programs_updated": 0, "units_added": 0, "units_updated": 0, "staff_added": 0}
    for program_config in config.programs:
        _, added = upsert_program(session=session, config=program_config, now=now, actor_id=actor_id)
        counts["programs_added" if added else "programs_updated"] += 1
    for unit_config in config.units:
        added = upsert_unit(session=session, config=unit_config, now=now, actor_id=actor_id)
        counts["units_added" if added else "units_updated"] += 1
    for staff_config in config.staff:
        exists = session.scalar(select(Staff.id).where(Staff.name == staff_config.name))
        if exists is None:
            program = get_program(session=session, code=staff_config.program) if staff_config.program else None
            program_id = program.id if program else None
            session.add(Staff(name=staff_config.name, role=staff_config.role, program_id=program_id))
            counts["staff_added"] += 1
    session.flush()
    return LoadSummary(**counts)


def upsert_program(
    *, session: Session, config: ProgramConfig, now: datetime, actor_id: int | None
) -> tuple[Program, bool]:
    """Create the program or bring it in line with ``config``; True when it was new."""
    program = session.scalar(select(Program).where(Program.code == config.code))
    values = config.model_dump()
    values["hours"] = {day: [list(window) for window in windows] for day, windows in values["hours"].items()}
    if program is None:
        program = Program(**values)
        session.add(program)
        session.flush()
        record_event(session=session, kind="program.created", subject_type="program", subject_id=program.id,
                     at=now, actor_id=actor_id, after=values)
        return program, True
    before = {key: getattr(program, key) for key in values}
    if before != values:
        for key, value in values.items():
            setattr(program, key, value)
        record_event(session=session, kind="program.updated", subject_type="program", subject_id=program.id,
                     at=now, actor_id=actor_id, before=before, after=values)
    return program, False


def upsert_unit(*, session: Session, config: UnitConfig, now: datetime, actor_id: int | None) -> bool:
    """Create the unit or update its program and home; True when it was new."""
    program = get_program(session=session, code=config.program)
    home_lat, home_lon = config.home if config.home else (None, None)
    unit = session.scalar(select(Unit).where(Unit.call_sign == config.call_sign))
    if unit is None:
        create_unit(session=session, call_sign=config.call_sign, program=program, home_lat=home_lat,
                    home_lon=home_lon, now=now, actor_id=actor_id)
        return True
    unit.program_id, unit.home_lat, unit.home_lon = program.id, home_lat, home_lon
    return False


def create_unit(
    *, session: Session, call_sign: str, program: Program, home_lat: float | None, home_lon: float | None,
    now: datetime, actor_id: int | None,
) -> Unit:
    """A new unit, off duty, parked at its home position."""
    if session.scalar(select(Unit.id).where(Unit.call_sign == call_sign)) is not None:
        raise Conflict(f"a unit with call sign {call_sign} already exists")
    unit = Unit(call_sign=call_sign, program_id=program.id, status=UnitStatus.OFF_DUTY, status_changed_at=now,
                home_lat=home_lat, home_lon=home_lon, lat=home_lat, lon=home_lon)
    session.add(unit)
    session.flush()
    record_event(session=session, kind="unit.created", subject_type="unit", subject_id=unit.id, at=now,
                 actor_id=actor_id, after={"call_sign": call_sign, "program": program.code})
    return unit


def get_program(*, session: Session, code: str | None = None, program_id: int | None = None) -> Program:
    """A program by code or id."""
    query = select(Program).where(Program.code == code) if code is not None else select(Program).where(
        Program.id == program_id)
    program = session.scalar(query)
    if program is None:
        raise NotFound("program", code if code is not None else program_id,
                       field="program_code" if code is not None else "program_id")
    return program


def get_unit(*, session: Session, unit_id: int, field: str = "unit_id") -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("unit", unit_id, field=field)
    return unit


def list_programs(*, session: Session) -> list[Program]:
    return list(session.scalars(select(Program).order_by(Program.code)))


def list_units(*, session: Session, program_code: str | None = None) -> list[Unit]:
    query = select(Unit).order_by(Unit.call_sign)
    if program_code:
        query = query.join(Program, Program.id == Unit.program_id).where(Program.code == program_code)
    return list(session.scalars(query))


def is_open(program: Program, at: datetime) -> bool:
    """Whether ``at`` falls inside one of the program's windows, in the program's own time zone."""
    local = at.astimezone(ZoneInfo(program.timezone))
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in program.hours.get(DAYS[local.weekday()], []))


def check_crew(*, session: Session, unit: Unit, program: Program, crew: Sequence[tuple[int, str]]) -> None:
    """Refuse a crew that lacks a role the program requires or names someone who is not on staff."""
    missing = set(program.crew_roles) - {role for _, role in crew}
    if missing:
        raise Conflict(f"{unit.call_sign} needs a full crew; missing: {', '.join(sorted(missing))}")
    for staff_id, _ in crew:
        if session.get(Staff, staff_id) is None:
            raise NotFound("staff member", staff_id, field="crew")


def go_on_duty(
    *, session: Session, unit_id: int, crew: Sequence[tuple[int, str]], ends_at: datetime, now: datetime,
    actor_id: int | None,
) -> Shift:
    """Start a shift: the unit becomes available only with every crew role its program requires."""
    unit = get_unit(session=session, unit_id=unit_id)
    program = get_program(session=session, program_id=unit.program_id)
    if ends_at <= now:
        raise InvalidInput("the shift must end after it starts", field="ends_at")
    check_crew(session=session, unit=unit, program=program, crew=crew)
    claimed = session.execute(
        update(Unit).where(Unit.id == unit.id, Unit.status == UnitStatus.OFF_DUTY)
        .values(status=UnitStatus.AVAILABLE, status_changed_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        raise Conflict(f"{unit.call_sign} is already on duty")
    shift = Shift(unit_id=unit.id, starts_at=now, ends_at=ends_at)
    session.add(shift)
    session.flush()
    session.add_all(ShiftMember(shift_id=shift.id, staff_id=staff_id, role=role) for staff_id, role in crew)
    record_event(session=session, kind="unit.on_duty", subject_type="unit", subject_id=unit.id, at=now,
                 actor_id=actor_id, before={"status": "off_duty"},
                 after={"status": "available", "shift_id": shift.id, "ends_at": ends_at})
    session.refresh(unit)
    return shift


def go_off_duty(*, session: Session, unit_id: int, now: datetime, actor_id: int | None) -> Unit:
    """End the unit's shift; refused while it is on a call."""
    unit = get_unit(session=session, unit_id=unit_id)
    was = unit.status if unit.status == UnitStatus.OUT_OF_SERVICE else UnitStatus.AVAILABLE
    claimed = session.execute(
        update(Unit).where(Unit.id == unit.id, Unit.status == was)
        .values(status=UnitStatus.OFF_DUTY, status_changed_at=now, status_reason=None)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        session.refresh(unit)
        if unit.status == UnitStatus.OFF_DUTY:
            raise Conflict(f"{unit.call_sign} is already off duty")
        raise Conflict(f"{unit.call_sign} is {unit.status.value.replace('_', ' ')} and cannot go off duty "
                       "until it clears its call")
    shift = session.scalar(select(Shift).where(Shift.unit_id == unit.id, Shift.starts_at <= now, Shift.ends_at > now)
                           .order_by(Shift.starts_at.desc()))
    if shift is not None:
        shift.ends_at = max(now, shift.starts_at)
    record_event(session=session, kind="unit.off_duty", subject_type="unit", subject_id=unit.id, at=now,
                 actor_id=actor_id, before={"status": was.value}, after={"status": "off_duty"})
    session.refresh(unit)
    return unit


OUT_OF_SERVICE_REASON_LENGTH = 256


def take_out_of_service(*, session: Session, unit_id: int, reason: str, now: datetime,
                        actor_id: int | None) -> Unit:
    """A free unit is not to be sent until it is back in service, for the reason given (a recorded fact).

    The guard: only a free unit is claimed (``UPDATE … WHERE status = 'available'``), so a unit on a call is refused
    here whatever the caller meant; where the city's rules let a unit on a call go out of service, the dispatch
    flow (``heart.dispatch.flows.take_out_of_service``) calls it off its call first, in the same transaction.
    """
    cleaned = reason.strip()
    if not cleaned:
        raise InvalidInput("say why the unit is out of service", field="reason")
    if len(cleaned) > OUT_OF_SERVICE_REASON_LENGTH:
        raise InvalidInput(f"the reason holds at most {OUT_OF_SERVICE_REASON_LENGTH} characters", field="reason")
    unit = get_unit(session=session, unit_id=unit_id)
    claimed = session.execute(
        update(Unit).where(Unit.id == unit.id, Unit.status == UnitStatus.AVAILABLE)
        .values(status=UnitStatus.OUT_OF_SERVICE, status_changed_at=now, status_reason=cleaned)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        session.refresh(unit)
        if unit.status == UnitStatus.OUT_OF_SERVICE:
            raise Conflict(f"{unit.call_sign} is already out of service")
        if unit.status == UnitStatus.OFF_DUTY:
            raise Conflict(f"{unit.call_sign} is off duty; only a unit on shift can be out of service")
        raise Conflict(f"{unit.call_sign} is {unit.status.value.replace('_', ' ')} on a call and cannot be set out "
                       "of service until it clears (the city's rules do not allow it on a call)")
    record_event(session=session, kind="unit.out_of_service", subject_type="unit", subject_id=unit.id, at=now,
                 actor_id=actor_id, before={"status": "available"},
                 after={"status": "out_of_service", "reason": reason_given(cleaned)})
    session.refresh(unit)
    return unit


def return_to_service(*, session: Session, unit_id: int, now: datetime, actor_id: int | None) -> Unit:
    """An out-of-service unit is free to send again."""
    unit = get_unit(session=session, unit_id=unit_id)
    claimed = session.execute(
        update(Unit).where(Unit.id == unit.id, Unit.status == UnitStatus.OUT_OF_SERVICE)
        .values(status=UnitStatus.AVAILABLE, status_changed_at=now, status_reason=None)
    ).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        session.refresh(unit)
        raise Conflict(f"{unit.call_sign} is not out of service (it is {unit.status.value.replace('_', ' ')})")
    record_event(session=session, kind="unit.in_service", subject_type="unit", subject_id=unit.id, at=now,
                 actor_id=actor_id, before={"status": "out_of_service"}, after={"status": "available"})
    session.refresh(unit)
    return unit


# --- availability -------------------------------------------------------------------------------------------

def available_units(*, session: Session, now: datetime, program_id: int | None = None) -> list[Unit]:
    """Units free to send: available, and on a shift that covers ``now`` (so with a complete crew)."""
    on_shift = exists().where(Shift.unit_id == Unit.id, Shift.starts_at <= now, Shift.ends_at > now)
    query = select(Unit).where(Unit.status == UnitStatus.AVAILABLE, on_shift).order_by(Unit.call_sign)
    if program_id is not None:
        query = query.where(Unit.program_id == program_id)
    return list(session.scalars(query))


def unit_availability(*, session: Session, now: datetime) -> dict[str, bool]:
    """For each field program in the database, whether a unit is free now (available and on shift).

    Programs not in the database (and phone programs, whose clinicians are not units) are left out: the
    triage engine then counts them as available, and only their hours apply.
    """
    free = {unit.program_id for unit in available_units(session=session, now=now)}
    programs = session.scalars(select(Program).where(Program.kind == ProgramKind.FIELD))
    return {program.code: program.id in free for program in programs}
