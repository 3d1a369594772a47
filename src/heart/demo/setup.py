"""The demo program's configuration (the city's ``programs.yaml``), crews and logins."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heart.auth.models import Role, User
from heart.auth.service import create_user
from heart.city.folder import city_part
from heart.demo.calibration import calibration
from heart.programs.models import Program, Staff, Unit, UnitStatus
from heart.programs.service import go_on_duty, is_open, load_programs, read_programs_file

FIRST_NAMES = ["Avery", "Jordan", "Morgan", "Riley", "Casey", "Taylor", "Quinn", "Reese", "Harper", "Rowan",
               "Emerson", "Sage", "Dakota", "Hayden", "Skyler", "Parker", "Kendall", "Logan", "Jamie", "Cameron"]
LAST_NAMES = ["Alston", "Barnes", "Carver", "Dunn", "Ellis", "Fowler", "Greene", "Hines", "Ivey", "Jeffries",
              "Kearney", "Lyons", "McCoy", "Norris", "Owens", "Pettiford", "Rhodes", "Spruill", "Tate", "Vick"]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    role: str
    password: str
    note: str = ""


def database_is_empty(session: Session) -> bool:
    """True when no program and no account exist yet."""
    return not session.scalar(select(func.count()).select_from(Program)) and not session.scalar(
        select(func.count()).select_from(User))


def load_demo_configuration(*, session: Session, now: datetime, rng: random.Random) -> None:
    """Programs and units from the city's programs file, and a named crew for every unit."""
    load_programs(session=session, config=read_programs_file(city_part("programs")), now=now, actor_id=None)
    for unit in session.scalars(select(Unit).order_by(Unit.call_sign)):
        program = session.get_one(Program, unit.program_id)
        for role in program.crew_roles:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            session.add(Staff(name=name, role=role, program_id=program.id))
    session.flush()


def start_open_shifts(*, session: Session, now: datetime) -> int:
    """Put every unit whose program is open now on duty with its crew, until the program closes."""
    started = 0
    for unit in session.scalars(select(Unit).where(Unit.status == UnitStatus.OFF_DUTY).order_by(Unit.call_sign)):
        program = session.get_one(Program, unit.program_id)
        if not is_open(program, now):
            continue
        ends_at = now
        while is_open(program, ends_at) and ends_at < now + timedelta(hours=24):
            ends_at += timedelta(minutes=15)
        taken = {m for m in session.scalars(select(Staff.id).where(Staff.program_id == program.id))}
        crew = []
        for role in program.crew_roles:
            staff_id = session.scalar(select(Staff.id).where(Staff.program_id == program.id, Staff.role == role,
                                                             Staff.id.in_(taken)).order_by(Staff.id))
            if staff_id is None:
                break
            taken.discard(staff_id)
            crew.append((staff_id, role))
        if len(crew) == len(program.crew_roles):
            go_on_duty(session=session, unit_id=unit.id, crew=crew, ends_at=ends_at, now=now, actor_id=None)
            started += 1
    return started


def create_demo_logins(*, session: Session, now: datetime) -> list[DemoLogin]:
    """One account per role with a fresh random password; the responder rides on the city's demo unit (CRT-1)."""
    call_sign = calibration().demo.responder_unit
    unit = session.scalar(select(Unit.id).where(Unit.call_sign == call_sign))
    logins = []
    for role in Role:
        username = role.value.replace("-", "")
        password = secrets.token_urlsafe(12)
        unit_id = unit if role == Role.RESPONDER else None
        create_user(session=session, username=username, password=password, role=role, now=now,
                    display_name=f"Demo {role.value}", unit_id=unit_id)
        logins.append(DemoLogin(username, role.value, password, f"unit {call_sign}" if unit_id else ""))
    return logins


def write_logins(path: Path, logins: list[DemoLogin]) -> None:
    """Keep the demo passwords beside the database, readable only by this user, to print at each start."""
    path.write_text("".join(f"{x.username}\t{x.role}\t{x.password}\t{x.note}\n" for x in logins), encoding="utf-8")
    path.chmod(0o600)


def read_logins(path: Path) -> list[DemoLogin]:
    if not path.exists():
        return []
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [DemoLogin(*row[:4]) for row in rows]
