"""Programs, their units, staff and shifts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, JSONType, UTCDateTime


class ProgramKind(enum.StrEnum):
    FIELD = "field"
    PHONE = "phone"
    CASE = "case"


class ProgramAccess(enum.StrEnum):
    """Who sees a program's cases: everyone whose role may (open), or only the program's own staff (members)."""

    OPEN = "open"
    MEMBERS = "members"


class UnitStatus(enum.StrEnum):
    OFF_DUTY = "off_duty"
    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    OUT_OF_SERVICE = "out_of_service"  # on shift but not to be sent (a breakdown, a meal, training): with a reason


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[ProgramKind] = mapped_column(_enum(ProgramKind))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    # {"mon": [["06:00", "21:00"]], ...}; an empty list means closed that day.
    hours: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    max_wait_minutes: Mapped[int] = mapped_column(Integer, default=20)
    crew_roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Minutes a unit may stay in a status before the board raises a safety alert, e.g. {"on_scene": 45};
    # None means the defaults in heart.dispatch.timers.
    safety_timers: Mapped[dict[str, int] | None] = mapped_column(JSONType)
    access: Mapped[ProgramAccess] = mapped_column(_enum(ProgramAccess), default=ProgramAccess.OPEN)


class ProgramMember(Base):
    """A user on a program's staff, with their crew role there (a certified first examiner of the IVC unit).

    Need to know reads these: a members-only program's cases and neighbors are seen by its members alone, and a
    contact method that needs a crew role is recorded only by a member holding it. A user may belong to several
    programs (a supervisor of Care Navigation and of Survivor Care); granted and withdrawn by an administrator.
    """

    __tablename__ = "program_members"
    __table_args__ = (UniqueConstraint("program_id", "user_id", name="uq_program_members_program_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(32), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    status: Mapped[UnitStatus] = mapped_column(_enum(UnitStatus), default=UnitStatus.OFF_DUTY, index=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the unit is out of service (a recorded reason: shown to the board, events say "(reason given)").
    status_reason: Mapped[str | None] = mapped_column(String(256))
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when lat/lon were last known


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(64))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"))


class Shift(Base):
    """Puts a crew on a unit for a time window."""

    __tablename__ = "shifts"
    __table_args__ = (Index("ix_shifts_unit_starts", "unit_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShiftMember(Base):
    __tablename__ = "shift_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)  # a person's own shifts
    role: Mapped[str] = mapped_column(String(64))
