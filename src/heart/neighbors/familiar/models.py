"""Tables of familiar neighbors: what the linkage run proposed, what reviewers decided, and the flags.

A proposal is one pair of records the model scored as probably one person, with what each comparison contributed
(never the compared values: those stay in the records). A decision is a reviewer's word on a pair — the same person
(accepted: the records are merged) or not (rejected, or split apart) — and every later run keeps it. A flag marks a
neighbor served at least the city's number of times in its window; it is reviewed (approach notes, an expiry) and
changes only through the service, each change an event naming no personal value.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, JSONType, UTCDateTime


def _enum(kind: type[enum.StrEnum], length: int) -> Enum:
    return Enum(kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class ProposalStatus(enum.StrEnum):
    OPEN = "open"  # waiting for a reviewer
    MERGED = "merged"  # merged by the linkage run (sure enough); a reviewer may still split it
    ACCEPTED = "accepted"  # a reviewer said: the same person (the records were merged)
    REJECTED = "rejected"  # a reviewer said: different people


class MatchProposal(Base):
    __tablename__ = "neighbor_match_proposals"
    __table_args__ = (UniqueConstraint("left_id", "right_id", name="uq_neighbor_match_proposals_pair"),
                      Index("ix_neighbor_match_proposals_status", "status", "match_probability"))

    id: Mapped[int] = mapped_column(primary_key=True)
    left_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"))  # the smaller record id
    right_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"), index=True)
    match_weight: Mapped[float] = mapped_column(Float)
    match_probability: Mapped[float] = mapped_column(Float)
    # [{"comparison": "first_name", "level": "nickname of the same name", "weight": 5.7}, …] (Prior first)
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    model_version: Mapped[str] = mapped_column(String(32))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[ProposalStatus] = mapped_column(_enum(ProposalStatus, 16))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MatchDecision(Base):
    """A reviewer's word on two records; the newest decision on a pair is the one in force."""

    __tablename__ = "neighbor_match_decisions"
    __table_args__ = (Index("ix_neighbor_match_decisions_pair", "left_id", "right_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    left_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"))
    right_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"), index=True)
    same_person: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class FlagStatus(enum.StrEnum):
    PENDING = "pending_review"  # raised by the count; a reviewer has not written its approach notes yet
    ACTIVE = "active"  # reviewed: approach notes, a reviewer, an expiry
    EXPIRED = "expired"  # its expiry passed
    ENDED = "ended"  # a reviewer ended it, or the neighbor is no longer served that often


OPEN_FLAG_STATUSES = (FlagStatus.PENDING, FlagStatus.ACTIVE)


class FamiliarFlag(Base):
    __tablename__ = "familiar_neighbor_flags"
    __table_args__ = (
        # One open flag per neighbor, whatever two sweeps or two reviewers do at once.
        Index("uq_familiar_neighbor_flags_open", "neighbor_id", unique=True,
              sqlite_where=text("status IN ('pending_review', 'active')"),
              postgresql_where=text("status IN ('pending_review', 'active')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"), index=True)  # the record kept
    level: Mapped[int] = mapped_column(Integer)  # the highest threshold met (5, 10, 20 in Durham)
    responses: Mapped[int] = mapped_column(Integer)  # responses in the window when last counted
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[FlagStatus] = mapped_column(_enum(FlagStatus, 16))
    approach_notes: Mapped[str | None] = mapped_column(Text)  # how to approach them with care, in a reviewer's words
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FLAG_STATUSES
