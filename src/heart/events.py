"""The event log: every state change appends one row (who, when, what, before/after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from heart.db import Base, JSONType, UTCDateTime

REASON_GIVEN = "(reason given)"
"""What an event says where a person wrote a free-text reason: the text stays in its record, once."""


def reason_given(text: str | None) -> str | None:
    """An event's stand-in for a free-text reason: REASON_GIVEN when one was written, else None."""
    return REASON_GIVEN if text and text.strip() else None


class Event(Base):
    """One state change. Append-only: nothing updates or deletes these rows."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column()
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id"),)


def record_event(
    *,
    session: Session,
    kind: str,
    subject_type: str,
    subject_id: int,
    at: datetime,
    actor_id: int | None,
    call_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Event:
    """Append one event in the caller's transaction; the caller must have flushed the subject."""
    event = Event(
        at=at,
        actor_id=actor_id,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        call_id=call_id,
        before=_jsonable(before),
        after=_jsonable(after),
    )
    session.add(event)
    return event


def call_timeline(*, session: Session, call_id: int, where: ColumnElement[bool] | None = None) -> list[Event]:
    """Every event of one call (that meets ``where``: what the reader may see), oldest first."""
    query = select(Event).where(Event.call_id == call_id).order_by(Event.at, Event.id)
    return list(session.scalars(query if where is None else query.where(where)))


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in values.items()}
