"""A resident's request for the department at a community event, a sign-up to the volunteer interest list, and the
forms' rate-limit tally.

Names, e-mail addresses, phone numbers and what a resident wrote are personal data: they live in these rows only
(never in events, logs, URLs or public pages) and are erased ``engagement_retention_days`` after the request
closed (``service.purge_contact_details``); the row stays, with its dates and status, so the queue's history
still counts. The database refuses a purged row that still holds any of them.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, UTCDateTime


class RequestStatus(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    SCHEDULED = "scheduled"
    DECLINED = "declined"
    DONE = "done"


NEXT_STATUS: dict[RequestStatus, tuple[RequestStatus, ...]] = {
    RequestStatus.NEW: (RequestStatus.CONTACTED, RequestStatus.DECLINED),
    RequestStatus.CONTACTED: (RequestStatus.SCHEDULED, RequestStatus.DECLINED, RequestStatus.DONE),
    RequestStatus.SCHEDULED: (RequestStatus.DONE, RequestStatus.DECLINED),
    RequestStatus.DECLINED: (),
    RequestStatus.DONE: (),
}
"""Where a request may go from each status (new → contacted → scheduled / declined / done)."""
CLOSED = frozenset({RequestStatus.DECLINED, RequestStatus.DONE})


def _status_enum() -> Enum:
    return Enum(RequestStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e],
                name="requeststatus")


_PURGED_EMPTY = "purged_at IS NULL OR (name IS NULL AND email IS NULL AND phone IS NULL AND message IS NULL)"


class _Worked:
    """What staff change: the status, when, by whom; and when the contact details were erased."""

    status: Mapped[RequestStatus] = mapped_column(_status_enum(), default=RequestStatus.NEW)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # personal data (erased by the purge)
    name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)


class EngagementRequest(_Worked, Base):
    """A request for the department at a community event."""

    __tablename__ = "engagement_requests"
    __table_args__ = (
        CheckConstraint(_PURGED_EMPTY.replace("message IS NULL)", "message IS NULL AND organization IS NULL "
                                              "AND place IS NULL)"), name="purged_has_no_contact"),
        Index("ix_engagement_requests_status", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_date: Mapped[date] = mapped_column(Date)
    audience: Mapped[int | None] = mapped_column(Integer)
    organization: Mapped[str | None] = mapped_column(String(160))  # personal: it can name the resident
    place: Mapped[str | None] = mapped_column(String(200))  # personal: often a home address


class InterestSignup(_Worked, Base):
    """A resident on the volunteer interest list."""

    __tablename__ = "interest_signups"
    __table_args__ = (
        CheckConstraint(_PURGED_EMPTY, name="purged_has_no_contact"),
        Index("ix_interest_signups_status", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    interests: Mapped[str] = mapped_column(String(200), default="")  # the city's interest keys, comma-separated


class PublicFormAttempt(Base):
    """One form sent from one client (a keyed hash of its address, never the address): the rate limit counts these
    in the last hour, in the database so that every server process agrees. Kept a day."""

    __tablename__ = "public_form_attempts"
    __table_args__ = (Index("ix_public_form_attempts_client", "client_key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_key: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
