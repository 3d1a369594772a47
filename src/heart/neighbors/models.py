"""Neighbors: the people HEART serves. Personal data, restricted by role and need to know; every read is logged.

A ``Neighbor`` row is one record of a person as an encounter or a CCD contact wrote it. Record linkage
(``heart.neighbors.linkage``) may later find two records to be one person: the record kept stays, the other
points to it through ``merged_into_id`` — nothing is deleted, so every follow-up, consent and read stays where it
was written.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, JSONType, UTCDateTime


class Neighbor(Base):
    __tablename__ = "neighbors"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(80))
    last_name: Mapped[str | None] = mapped_column(String(80))
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)  # other names they go by
    date_of_birth: Mapped[date | None] = mapped_column(Date())
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(256))
    language: Mapped[str | None] = mapped_column(String(64))
    contact_method: Mapped[str | None] = mapped_column(String(32))  # a key of the city's contact methods
    contact_times: Mapped[str | None] = mapped_column(String(256))  # when they are best reached, in their words
    pronouns: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("neighbors.id"), index=True)
    # A record made for a members-only program's case (a survivor of violence): seen by that program's staff alone,
    # and never linked with other records.
    restricted_to_program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"), index=True)

    @property
    def kept_id(self) -> int:
        """The record this one stands for: itself, or the record it was merged into."""
        return self.merged_into_id or self.id

    @property
    def display_name(self) -> str:
        """The name to show: first and last name, else an alias, else the record number."""
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or (self.aliases[0] if self.aliases else f"Neighbor {self.id}")


class NeighborLink(Base):
    """A neighbor named on a call, and the encounter that recorded them (need to know reads through these)."""

    __tablename__ = "neighbor_links"
    __table_args__ = (UniqueConstraint("neighbor_id", "call_id", name="uq_neighbor_links_neighbor_call"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Consent(Base):
    """A neighbor's consent to one purpose (follow-up; sharing with one named provider), withdrawable.

    Given once and never edited: withdrawing sets ``withdrawn_at``; consenting again is a new row.
    """

    __tablename__ = "neighbor_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # a key of the city's consent purposes
    # For a purpose that names a provider: its name, and its HSDS organization id when it is in the directory.
    provider_name: Mapped[str | None] = mapped_column(String(256))
    provider_organization_id: Mapped[str | None] = mapped_column(String(36))
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))  # where it was given, if there
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class NeighborRead(Base):
    """The access log: one row per read of a neighbor's record — who, when, and why (the screen or purpose).

    Its own append-only table rather than the event log: a read changes no state, and the event log wakes every
    live screen on each row (``heart.realtime``). Never a personal value here.
    """

    __tablename__ = "neighbor_reads"
    __table_args__ = (Index("ix_neighbor_reads_neighbor_at", "neighbor_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(String(64))
