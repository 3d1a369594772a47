"""JSON routes for programs, units, staff and duty (the admin API mirrors `heart config load`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from heart.auth.models import User
from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.errors import InvalidInput
from heart.inputs import Input, RowId
from heart.programs import members, service
from heart.programs.models import Staff
from heart.programs.schemas import (
    DutyEnd,
    DutyStart,
    ProgramCode,
    ProgramConfig,
    ProgramPublic,
    UnitCreate,
    UnitPublic,
)

router = APIRouter(prefix="/api", tags=["programs"])


class StaffCreate(Input):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    role: str = Field(min_length=1, max_length=64)
    program_code: str | None = None


class StaffPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    program_id: int | None


@router.get("/programs", dependencies=[allow("programs.read")])
def list_programs(db: SessionDep) -> list[ProgramPublic]:
    return [ProgramPublic.model_validate(p) for p in service.list_programs(session=db)]


@router.put("/programs/{code}", dependencies=[allow("programs.admin")])
def put_program(code: ProgramCode, body: ProgramConfig, db: SessionDep, user: CurrentUser, now: Now) -> ProgramPublic:
    """Create or update a program (its hours, maximum wait and required crew roles)."""
    if body.code != code:
        raise InvalidInput(f"the body's code {body.code!r} does not match the path's {code!r}", field="code")
    program, _ = service.upsert_program(session=db, config=body, now=now, actor_id=user.id)
    return ProgramPublic.model_validate(program)


class MemberSet(Input):
    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(default=None, max_length=64, description="one of the program's crew roles")


class MemberPublic(BaseModel):
    user_id: int
    username: str
    role: str | None


@router.get("/programs/{code}/members", dependencies=[allow("programs.admin")])
def list_members(code: ProgramCode, db: SessionDep) -> list[MemberPublic]:
    """The program's staff: who sees a members-only program's cases, and who holds each crew role."""
    return [MemberPublic(user_id=user.id, username=user.username, role=member.role)
            for member, user in members.members_of(session=db, program_code=code)]


@router.put("/programs/{code}/members/{user_id}", dependencies=[allow("programs.admin")])
def put_member(code: ProgramCode, user_id: RowId, body: MemberSet, db: SessionDep, user: CurrentUser,
               now: Now) -> MemberPublic:
    """Put a user on the program's staff (again: change their crew role)."""
    member = members.add_member(session=db, program_code=code, user_id=user_id, role=body.role, at=now,
                                actor_id=user.id)
    return MemberPublic(user_id=user_id, username=member_name(db, user_id), role=member.role)


@router.delete("/programs/{code}/members/{user_id}", status_code=204, dependencies=[allow("programs.admin")])
def delete_member(code: ProgramCode, user_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> None:
    """Take a user off the program's staff (their sight of its cases ends at once)."""
    members.remove_member(session=db, program_code=code, user_id=user_id, at=now, actor_id=user.id)


def member_name(db: SessionDep, user_id: int) -> str:
    found = db.get(User, user_id)
    return found.username if found else str(user_id)


@router.get("/units", dependencies=[allow("programs.read")])
def list_units(db: SessionDep, program: ProgramCode | None = None) -> list[UnitPublic]:
    return [UnitPublic.model_validate(u) for u in service.list_units(session=db, program_code=program)]


@router.post("/units", status_code=201, dependencies=[allow("programs.admin")])
def create_unit(body: UnitCreate, db: SessionDep, user: CurrentUser, now: Now) -> UnitPublic:
    program = service.get_program(session=db, code=body.program_code)
    unit = service.create_unit(session=db, call_sign=body.call_sign, program=program, home_lat=body.home_lat,
                               home_lon=body.home_lon, now=now, actor_id=user.id)
    return UnitPublic.model_validate(unit)


@router.post("/staff", status_code=201, dependencies=[allow("programs.admin")])
def create_staff(body: StaffCreate, db: SessionDep) -> StaffPublic:
    program = service.get_program(session=db, code=body.program_code) if body.program_code else None
    staff = Staff(name=body.name, role=body.role, program_id=program.id if program else None)
    db.add(staff)
    db.flush()
    return StaffPublic.model_validate(staff)


@router.post("/units/{unit_id}/on-duty", dependencies=[allow("units.duty")])
def on_duty(unit_id: RowId, body: DutyStart, db: SessionDep, user: CurrentUser, now: Now) -> UnitPublic:
    """Start a shift; the unit is available only with a complete crew."""
    service.go_on_duty(session=db, unit_id=unit_id, crew=[(m.staff_id, m.role) for m in body.crew],
                       ends_at=body.ends_at, now=body.at or now, actor_id=user.id)
    return UnitPublic.model_validate(service.get_unit(session=db, unit_id=unit_id))


@router.post("/units/{unit_id}/off-duty", dependencies=[allow("units.duty")])
def off_duty(unit_id: RowId, body: DutyEnd, db: SessionDep, user: CurrentUser, now: Now) -> UnitPublic:
    unit = service.go_off_duty(session=db, unit_id=unit_id, now=body.at or now, actor_id=user.id)
    return UnitPublic.model_validate(unit)
