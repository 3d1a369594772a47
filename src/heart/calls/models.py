"""Calls for service, their screening answers, and imported CAD history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, JSONType, UTCDateTime


class CallSource(enum.StrEnum):
    E911 = "911"
    PHONE = "phone"
    ON_VIEW = "on-view"
    REFERRAL = "referral"
    WEB = "web"
    CAD = "cad"


class CallStatus(enum.StrEnum):
    OPEN = "open"  # received, not yet routed
    TRIAGED = "triaged"  # a pathway is decided, waiting for a unit or a phone clinician
    ASSIGNED = "assigned"  # at least one unit is on it
    RESOLVED = "resolved"  # cleared, resolved by phone, or handed to PD/EMS/Fire
    CANCELLED = "cancelled"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_lat_lon", "lat", "lon"),  # calls near a place (heart.places)
        # The board's search: a status within a time window, newest first.
        Index("ix_calls_status_received_at", "status", "received_at"),
        Index("uq_calls_incident_number", "incident_number", unique=True),  # an index: SQLite adds it in place
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The city's own number for the call ("2026-000123", heart.calls.numbers), given in the creating transaction.
    incident_number: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[CallSource] = mapped_column(_enum(CallSource))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    nature_code: Mapped[str | None] = mapped_column(String(128))
    incident_type: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(4))
    address: Mapped[str | None] = mapped_column(String(256))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    beat: Mapped[str | None] = mapped_column(String(32))
    # question id -> "yes" | "no" | "unknown"; a missing question is unknown, never no.
    screening: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CallStatus] = mapped_column(_enum(CallStatus), default=CallStatus.OPEN, index=True)
    pathway: Mapped[str | None] = mapped_column(String(8))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A phone clinician's note when resolving by phone: free text, kept here once (events say "(reason given)").
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # When a person first handed the call to dispatch (the board's queue holds only such calls); None until then.
    handed_to_dispatch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ImportBatch(Base):
    """One labelled load of CAD history (possibly several files)."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(64), unique=True)
    profile: Mapped[str] = mapped_column(String(64))
    profile_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class CadRecord(Base):
    """One incident of imported CAD history (how another agency answered a call)."""

    __tablename__ = "cad_records"
    __table_args__ = (UniqueConstraint("profile", "row_key", name="uq_cad_records_profile_row_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    profile: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(256))
    source_line: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(64))
    agency: Mapped[str | None] = mapped_column(String(32), index=True)
    nature_code: Mapped[str | None] = mapped_column(String(128))
    incident_type: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(8))
    call_source: Mapped[str | None] = mapped_column(String(32))
    disposition: Mapped[str | None] = mapped_column(String(64))
    beat: Mapped[str | None] = mapped_column(String(32))
    received_on: Mapped[str | None] = mapped_column(String(10))  # local date, when only a date is known
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    en_route_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IncidentSequence(Base):
    """The last incident number given in a year: the next call's number is claimed by one conditional UPDATE."""

    __tablename__ = "incident_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class NoteKind(enum.StrEnum):
    NOTE = "note"  # from the board (dispatcher, supervisor, call-taker): append-only, shown to the crew
    MESSAGE = "message"  # a short message between a unit and dispatch


class CallNote(Base):
    """A note or message on a call: free text, kept here once (its event says "(note added)"), never edited.

    Read by the roles that work the call and by the crew of a unit on it (``heart.calls.notes``).
    """

    __tablename__ = "call_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    kind: Mapped[NoteKind] = mapped_column(_enum(NoteKind))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A message's unit: the one that sent it (from_unit) or the one dispatch wrote to; None for a board note.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    from_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The page's token: the same post twice (double tap, retry) writes one note.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
