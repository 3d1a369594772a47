"""Users, their roles, and server-side login sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, UTCDateTime


class Role(enum.StrEnum):
    CALL_TAKER = "call-taker"
    DISPATCHER = "dispatcher"
    RESPONDER = "responder"
    NAVIGATOR = "navigator"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # The staff member this account belongs to (a responder who rides on crews): their own shifts are the
    # shifts that name this staff member. None for a shared unit phone and for roles that ride no crew.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginSession(Base):
    """A server-side session; the cookie carries a random token, the table only its hash."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoginThrottle(Base):
    """Wrong passwords counted per account and per client address, shared by every server process.

    ``key`` is ``account:<keyed hash of the username>`` (never the typed text: people type passwords into the
    username field) or ``address:<client address>``. Rows exist only for keys that failed recently.
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(96), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # No attempt with this key is checked before this time (a growing delay, then a temporary lock).
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The block whose refusals have been recorded (one event per block, not one per refused attempt).
    refusal_recorded_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
