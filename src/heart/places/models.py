"""The city's address points, location safety notes, and possible duplicates of a call with their decision."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, UTCDateTime


class AddressPoint(Base):
    """One address of the city (``heart addresses import``): how the city writes it, where it is, its beat.

    ``key`` is the address in standard form (``123 E MAIN ST``, heart.places.normalise): importing the same
    address again updates its point rather than adding a second one.
    """

    __tablename__ = "address_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(256), unique=True)
    address: Mapped[str] = mapped_column(String(256))
    number: Mapped[int | None] = mapped_column(Integer)
    street: Mapped[str] = mapped_column(String(200), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    beat: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(256))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LocationNote(Base):
    """A safety fact about a place (a weapon reported there on a date), shown to whoever takes or works a call
    near it — beside the screening question it concerns — as a reason to ask again, never as an answer.

    Written once; it ends at ``expires_at`` or when someone ends it early (``ended_at`` with who). Its text is free
    text: never in an event; every read is logged (heart.auth.access).
    """

    __tablename__ = "location_notes"
    __table_args__ = (Index("ix_location_notes_lat_lon", "lat", "lon"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(32))  # a key of the city's note kinds (places.yaml)
    text: Mapped[str] = mapped_column(Text)
    observed_on: Mapped[date] = mapped_column(Date())  # when what it says was seen or reported
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def in_force(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now


class DuplicateFlag(Base):
    """A new call received near an open call soon after it: a possible duplicate, until a person links the two
    (one incident) or keeps them apart. The decision, who made it and when are kept; it is made once."""

    __tablename__ = "duplicate_flags"
    __table_args__ = (UniqueConstraint("call_id", "other_call_id", name="uq_duplicate_flags_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)  # the newer call
    other_call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)  # the open call it is near
    meters: Mapped[float] = mapped_column(Float)
    minutes: Mapped[float] = mapped_column(Float)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decision: Mapped[str | None] = mapped_column(String(16))  # "linked" | "kept_apart"; None: not decided yet
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
