"""Encounters with neighbors and their append-only narrative."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, JSONType, UTCDateTime


class Encounter(Base):
    __tablename__ = "encounters"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    needs: Mapped[list[str]] = mapped_column(JSONType, default=list)
    services: Mapped[list[str]] = mapped_column(JSONType, default=list)
    consent_to_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class NarrativeEntry(Base):
    """Narrative is appended and struck, never edited or deleted."""

    __tablename__ = "narrative_entries"
    __table_args__ = (UniqueConstraint("encounter_id", "client_token", name="uq_narrative_entries_client_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The client's idempotency token: a double-submitted entry is written once.
    client_token: Mapped[str] = mapped_column(String(64))
    struck_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    struck_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    strike_reason: Mapped[str | None] = mapped_column(String(256))
