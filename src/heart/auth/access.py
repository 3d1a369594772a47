"""The access log of restricted records other than a neighbor's: a call's caller (name, callback number) and a
location's safety notes. One append-only row per read — what kind of record, which one, who, when, why — in the
reader's transaction, so a read whose entry cannot be written is not served. Never a value of the record here.

A neighbor's record keeps its own log (``neighbors.NeighborRead``), written the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from heart.auth.models import User
from heart.db import Base, UTCDateTime

MAX_PURPOSE = 64
CALLER = "caller"
LOCATION_NOTE = "location_note"


class RestrictedRead(Base):
    __tablename__ = "restricted_reads"
    __table_args__ = (Index("ix_restricted_reads_kind_subject", "kind", "subject_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # CALLER or LOCATION_NOTE
    subject_id: Mapped[int] = mapped_column()
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)  # the call it was read for
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    purpose: Mapped[str] = mapped_column(String(MAX_PURPOSE))


def log_access(*, session: Session, kind: str, subject_ids: Iterable[int], reader: User, purpose: str,
               at: datetime, call_id: int | None = None) -> None:
    """Append one row per record shown to ``reader`` (one statement for a whole list)."""
    rows = [{"kind": kind, "subject_id": ident, "call_id": call_id, "reader_id": reader.id, "at": at,
             "purpose": purpose[:MAX_PURPOSE]} for ident in sorted(set(subject_ids))]
    if rows:
        session.execute(insert(RestrictedRead), rows)


def reads_of(*, session: Session, kind: str, subject_id: int, limit: int = 200) -> list[RestrictedRead]:
    """Who read the record, newest first."""
    return list(session.scalars(select(RestrictedRead)
                                .where(RestrictedRead.kind == kind, RestrictedRead.subject_id == subject_id)
                                .order_by(RestrictedRead.at.desc(), RestrictedRead.id.desc()).limit(limit)))
