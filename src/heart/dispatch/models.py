"""Responses: one unit's assignment to one call, with its status timeline and outcomes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, UTCDateTime


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        # A unit can be on at most one live response: the database refuses a second one.
        Index(
            "uq_responses_active_unit",
            "unit_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL AND cancelled_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL AND cancelled_at IS NULL"),
        ),
        # A responder's calls are found by unit and dispatch time within their shifts (heart.auth.need_to_know).
        Index("ix_responses_unit_dispatched", "unit_id", "dispatched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    en_route_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transport_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(256))
    transported: Mapped[bool | None] = mapped_column(Boolean)
    transport_destination: Mapped[str | None] = mapped_column(String(128))
    pd_backup_for_safety: Mapped[bool | None] = mapped_column(Boolean)
    ems_support: Mapped[bool | None] = mapped_column(Boolean)
    # The crew's answer on the clear form: did the team feel safe? None when not asked (before it was asked).
    team_felt_safe: Mapped[bool | None] = mapped_column(Boolean)
    disposition: Mapped[str | None] = mapped_column(String(64))
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The last "all OK" from the crew (or a dispatcher who checked on them): safety timers count from it.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def status(self) -> str:
        """Where the response stands, read from its timestamps."""
        if self.cancelled_at is not None:
            return "cancelled"
        if self.cleared_at is not None:
            return "cleared"
        if self.transport_started_at is not None:
            return "transporting"
        if self.on_scene_at is not None:
            return "on_scene"
        if self.en_route_at is not None:
            return "en_route"
        return "dispatched"


class AlertKind:
    """What raised an alert; the board shows each with its own words."""

    SAFETY_TIMER = "safety_timer"
    BACKUP_PD = "backup_pd"
    BACKUP_EMS = "backup_ems"
    MAX_WAIT = "max_wait"
    EXCLUSION = "exclusion"
    """The call's facts changed while an unarmed team is on it: top priority, acknowledged by board and crew."""


class Alert(Base):
    """Something the board must show until a person acknowledges it (a safety timer, a backup request).

    ``key`` names the cause, so a cause raises one alert however many times it is noticed (two workers
    sweeping timers, a double tap on "request backup"). Messages are plain words without personal data.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    message: Mapped[str] = mapped_column(String(256))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # An exclusion alert also needs the crew's acknowledgement, on their phone; other alerts leave these empty.
    crew_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    crew_acknowledged_by_id: Mapped[int | None] = mapped_column(Integer)  # a user id (see migration 0003)

    @property
    def needs_crew(self) -> bool:
        """Whether the crew's acknowledgement is needed too (exclusion alerts)."""
        return self.kind == AlertKind.EXCLUSION

    @property
    def settled(self) -> bool:
        """Acknowledged by everyone who must: the board, and for an exclusion alert the crew as well."""
        return self.acknowledged_at is not None and (not self.needs_crew or self.crew_acknowledged_at is not None)


class ActionToken(Base):
    """A button press the server has already carried out: the same token again changes nothing.

    Pages put a fresh random token in every tap-able form; a retried request (double tap, flaky network)
    arrives with the same token and is answered with the current state instead of acting twice.
    """

    __tablename__ = "action_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    action: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
