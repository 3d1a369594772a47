"""A program's staff: which users are on it, with their crew role there.

Membership is what need to know reads for a members-only program (only its staff see its cases and their
neighbors), and what a contact method needing a crew role checks (a first examination by a certified first
examiner). An administrator grants and withdraws it; each change is an event naming the user and the role.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.errors import InvalidInput, NotFound
from heart.events import record_event
from heart.programs.models import Program, ProgramAccess, ProgramKind, ProgramMember
from heart.programs.service import get_program


def add_member(*, session: Session, program_code: str, user_id: int, role: str | None, at: datetime,
               actor_id: int | None) -> ProgramMember:
    """Put a user on a program's staff (with one of its crew roles, or none); adding again changes only the role."""
    program = get_program(session=session, code=program_code)
    if session.get(User, user_id) is None:
        raise NotFound("user", user_id, field="user_id")
    if role is not None and role not in program.crew_roles:
        raise InvalidInput(f"{program.code} has no crew role {role!r}; its roles are "
                           f"{', '.join(program.crew_roles) or 'none'}", field="role")
    member = session.scalar(select(ProgramMember).where(ProgramMember.program_id == program.id,
                                                        ProgramMember.user_id == user_id))
    if member is not None:
        if member.role != role:
            before, member.role = member.role, role
            record_event(session=session, kind="program.member_changed", subject_type="program", subject_id=program.id,
                         at=at, actor_id=actor_id, before={"user_id": user_id, "role": before},
                         after={"user_id": user_id, "role": role})
        return member
    member = ProgramMember(program_id=program.id, user_id=user_id, role=role, added_at=at, added_by_id=actor_id)
    session.add(member)
    session.flush()
    record_event(session=session, kind="program.member_added", subject_type="program", subject_id=program.id, at=at,
                 actor_id=actor_id, after={"user_id": user_id, "role": role})
    return member


def remove_member(*, session: Session, program_code: str, user_id: int, at: datetime, actor_id: int | None) -> bool:
    """Take a user off a program's staff; True when they were on it."""
    program = get_program(session=session, code=program_code)
    removed = session.execute(delete(ProgramMember).where(ProgramMember.program_id == program.id,
                                                          ProgramMember.user_id == user_id)).rowcount  # type: ignore[attr-defined]
    if removed:
        record_event(session=session, kind="program.member_removed", subject_type="program", subject_id=program.id,
                     at=at, actor_id=actor_id, before={"user_id": user_id})
    return bool(removed)


def members_of(*, session: Session, program_code: str) -> list[tuple[ProgramMember, User]]:
    program = get_program(session=session, code=program_code)
    return list(session.execute(select(ProgramMember, User).join(User, User.id == ProgramMember.user_id)
                                .where(ProgramMember.program_id == program.id).order_by(User.username)).all())


def holds_role(*, session: Session, user: User, program_id: int | None, role: str) -> bool:
    """Whether ``user`` is on the program's staff with ``role``."""
    return session.scalar(select(ProgramMember.id).where(ProgramMember.program_id == program_id,
                                                         ProgramMember.user_id == user.id,
                                                         ProgramMember.role == role)) is not None


def is_member(*, session: Session, user: User, program_id: int | None) -> bool:
    return session.scalar(select(ProgramMember.id).where(ProgramMember.program_id == program_id,
                                                         ProgramMember.user_id == user.id)) is not None


def program_code_of(*, session: Session, program_id: int | None) -> str | None:
    return session.scalar(select(Program.code).where(Program.id == program_id)) if program_id else None


def case_program_names(*, session: Session, viewer: User) -> dict[str, str]:
    """Code → name of the case programs whose cases ``viewer`` may see: the open ones and those they staff."""
    staffed = select(ProgramMember.program_id).where(ProgramMember.user_id == viewer.id)
    rows = session.execute(select(Program.code, Program.name).where(
        Program.kind == ProgramKind.CASE,
        (Program.access == ProgramAccess.OPEN) | Program.id.in_(staffed)).order_by(Program.code))
    return {code: name for code, name in rows}
