"""Test data made through the real services, so tests exercise the same paths as the product."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from heart.calls.models import Call
from heart.calls.schemas import CallCreate
from heart.calls.service import create_call
from heart.crosswalk.guard import unarmed_team_types
from heart.programs.models import Program, Staff, Unit
from heart.programs.schemas import ProgramConfig
from heart.programs.service import create_unit, go_on_duty, upsert_program

ALWAYS = {"daily": [("00:00", "24:00")]}
CREWS = {
    "CRT": ["licensed clinician", "peer support specialist", "EMT"],
    "COR": ["clinician", "CIT-trained police officer"],
    "CCD": ["licensed clinician"],
}
DURHAM_POLICY = Path(__file__).resolve().parents[1] / "cities" / "durham" / "policies" / "durham.yaml"
UNARMED_TEAM_TYPES = unarmed_team_types()
"""The incident types the shipped policies send an unarmed team to (read from policies/, as the guard reads them)."""
SAFE_SCREENING = {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}


def program(session: Session, code: str = "CRT", *, hours: dict[str, list[tuple[str, str]]] | None = None,
            now: datetime) -> Program:
    """A program open around the clock unless ``hours`` says otherwise."""
    config = ProgramConfig(code=code, name=f"{code} program", kind="phone" if code == "CCD" else "field",
                           hours=hours or ALWAYS, crew_roles=CREWS.get(code, []))
    created, _ = upsert_program(session=session, config=config, now=now, actor_id=None)
    return created


def unit(session: Session, program_: Program, call_sign: str, *, now: datetime, on_duty: bool = True,
         home: tuple[float, float] = (35.99, -78.90)) -> Unit:
    """A unit, by default on duty with a complete crew for twelve hours."""
    made = create_unit(session=session, call_sign=call_sign, program=program_, home_lat=home[0], home_lon=home[1],
                       now=now, actor_id=None)
    if on_duty:
        crew = []
        for role in program_.crew_roles:
            staff = Staff(name=f"{call_sign} {role}", role=role, program_id=program_.id)
            session.add(staff)
            session.flush()
            crew.append((staff.id, role))
        go_on_duty(session=session, unit_id=made.id, crew=crew, ends_at=now + timedelta(hours=12), now=now,
                   actor_id=None)
    return made


def call(session: Session, *, now: datetime, nature_code: str = "CHECK WELFARE", priority: str = "3",
         screening: dict[str, str] | None = None, received_at: datetime | None = None, **fields: object) -> Call:
    """A call received now (or at ``received_at``), answered safe for CRT unless told otherwise."""
    data = CallCreate.model_validate({"nature_code": nature_code, "priority": priority,
                                      "screening": SAFE_SCREENING if screening is None else screening,
                                      "received_at": received_at, **fields})
    return create_call(session=session, data=data, now=now, actor_id=None)


DURHAM_PROGRAMS = DURHAM_POLICY.parents[1] / "programs.yaml"
HOURS = ('{daily: [["07:00", "23:00"]]}', '{daily: [["10:00", "22:00"]]}', '{daily: [["06:00", "21:00"]]}')


def write_all_day_policy(folder: Path) -> Path:
    """The Durham policy (its version plus 100), in ``folder``, deciding with Durham's programs where CCD, CRT and
    Co-Response are open all day (``programs.yaml`` beside ``folder``: point HEART_PROGRAMS_FILE at it, or use
    ``all_day_env``)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = DURHAM_POLICY.read_text(encoding="utf-8")
    version = int(re.search(r"\nversion: (\d+)\n", text).group(1))  # type: ignore[union-attr]
    text = text.replace(f"\nversion: {version}\n", f"\nversion: {version + 100}\n")
    path = folder / "durham.yaml"
    path.write_text(text, encoding="utf-8")
    programs = DURHAM_PROGRAMS.read_text(encoding="utf-8")
    for hours in HOURS:
        assert f"hours: {hours}" in programs, f"Durham's programs no longer have hours {hours}"
        programs = programs.replace(f"hours: {hours}", 'hours: {daily: [["00:00", "24:00"]]}')
    (folder.parent / "programs.yaml").write_text(programs, encoding="utf-8")
    return path


def write_programs(path: Path, hours: dict[str, str], *, source: Path = DURHAM_PROGRAMS) -> Path:
    """A copy of Durham's programs file with other hours for some programs ({"CRT": "00:00-24:00"})."""
    text = source.read_text(encoding="utf-8")
    for code, window in hours.items():
        start = text.index(f"  - code: {code}\n")
        line = text.index("    hours: ", start)
        end = text.index("\n", line)
        begin, finish = window.split("-")
        text = text[:line] + f'    hours: {{daily: [["{begin}", "{finish}"]]}}' + text[end:]
    path.write_text(text, encoding="utf-8")
    return path


def all_day_env(policy: Path) -> dict[str, str]:
    """The settings that make ``write_all_day_policy``'s files the ones in force."""
    return {"HEART_POLICIES_DIR": str(policy.parent),
            "HEART_PROGRAMS_FILE": str(policy.parent.parent / "programs.yaml")}
