"""Triage decisions and the policy versions they were made under."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, JSONType, UTCDateTime


class PolicyVersion(Base):
    """The exact text of every policy version that ever decided a call."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("policy_id", "version", name="uq_policy_versions_policy_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TriageDecision(Base):
    __tablename__ = "triage_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    policy_id: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[int] = mapped_column(Integer)
    pathway: Mapped[str] = mapped_column(String(8))
    recommended_pathway: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    unanswered: Mapped[list[str]] = mapped_column(JSONType, default=list)
    fallback: Mapped[str | None] = mapped_column(String(32))
    # What the policy recommends before hours and unit availability: the program the call is eligible for
    # (reach counts a call against it). None on decisions recorded before it was kept.
    eligible_pathway: Mapped[str | None] = mapped_column(String(8))
    # The unarmed team the call's type would have gone to but for an exclusion that held when it was decided, and the
    # ids of those exclusions (reach counts the call as eligible for that team and missed: an exclusion). Exclusions:
    # [] when none held; None when not known (decisions recorded before it was kept that migration 0013 could not
    # work out again).
    excluded_pathway: Mapped[str | None] = mapped_column(String(8))
    exclusions: Mapped[list[str] | None] = mapped_column(JSONType)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    override_reason: Mapped[str | None] = mapped_column(Text)
