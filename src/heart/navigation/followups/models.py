"""Follow-ups and what a navigator does on them: contact attempts, notes, needs and referrals.

Attempts, notes, needs and referrals are appended, never edited or deleted (a note is struck, a referral moves
forward through its statuses, each with its time). A follow-up itself is never deleted either: it is open
(awaiting first contact, or in contact) until it closes with an outcome, which the database also insists on.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from heart.db import Base, UTCDateTime


class FollowUpStatus(enum.StrEnum):
    AWAITING_CONTACT = "awaiting_contact"  # opened; the neighbor has not been reached yet
    IN_CONTACT = "in_contact"  # reached at least once
    CLOSED = "closed"  # closed with an outcome


OPEN_STATUSES = (FollowUpStatus.AWAITING_CONTACT, FollowUpStatus.IN_CONTACT)


class ReferralStatus(enum.StrEnum):
    """A referral's closed loop: made → accepted → completed, or declined / no response."""

    MADE = "made"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    DECLINED = "declined"
    NO_RESPONSE = "no_response"


REFERRAL_STEPS: dict[ReferralStatus, tuple[ReferralStatus, ...]] = {
    ReferralStatus.MADE: (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.NO_RESPONSE),
    ReferralStatus.ACCEPTED: (ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.NO_RESPONSE),
    ReferralStatus.COMPLETED: (),
    ReferralStatus.DECLINED: (),
    ReferralStatus.NO_RESPONSE: (),
}
"""Where a referral may go from each status (a loop closes once)."""


def _enum(kind: type[enum.StrEnum], length: int) -> Enum:
    return Enum(kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("encounter_id", "neighbor_id", name="uq_follow_ups_encounter_neighbor"),
        # Closed exactly when an outcome and its time are recorded: no row is ever closed without an outcome.
        CheckConstraint("(status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL)",
                        name="closed_with_outcome"),
        # A case begins from an encounter's handoff, or from a referral or a petition (its intake source).
        CheckConstraint("encounter_id IS NOT NULL OR intake IS NOT NULL", name="opened_from_something"),
        UniqueConstraint("program_id", "intake_token", name="uq_follow_ups_intake_token"),
        Index("ix_follow_ups_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    neighbor_id: Mapped[int] = mapped_column(ForeignKey("neighbors.id"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"), index=True)  # the case program
    # The consent it stands on (None only in a program whose cases stand on something else: a petition).
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("neighbor_consents.id"))
    # A case opened from a referral or a petition: where it came from (a key of the program's intake sources), the
    # referrer's words (who referred, their reference; kept in the record, never in events) and the form's token.
    intake: Mapped[str | None] = mapped_column(String(32))
    intake_reference: Mapped[str | None] = mapped_column(String(256))
    intake_token: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[FollowUpStatus] = mapped_column(_enum(FollowUpStatus, 16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))  # a key of the city's outcomes
    outcome_facility: Mapped[str | None] = mapped_column(String(64))  # an outcome that requires a facility: which
    outcome_plan: Mapped[str | None] = mapped_column(Text)  # an outcome that requires a plan: the plan's words
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Due, untouched: the supervisors were alerted (once), and one of them acknowledged it.
    supervisor_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alert_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alert_acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def is_open(self) -> bool:
        return self.status != FollowUpStatus.CLOSED


class ContactAttempt(Base):
    __tablename__ = "contact_attempts"
    __table_args__ = (UniqueConstraint("follow_up_id", "client_token", name="uq_contact_attempts_client_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(32))
    reached: Mapped[bool] = mapped_column(Boolean)  # as the city's rules said when it was recorded
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_token: Mapped[str] = mapped_column(String(64))


class FollowUpNote(Base):
    """A navigator's note: appended, and struck (never edited or deleted)."""

    __tablename__ = "follow_up_notes"
    __table_args__ = (UniqueConstraint("follow_up_id", "client_token", name="uq_follow_up_notes_client_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_token: Mapped[str] = mapped_column(String(64))
    struck_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    struck_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    strike_reason: Mapped[str | None] = mapped_column(String(256))


class FollowUpNeed(Base):
    """A need on a follow-up (a key of the city's needs vocabulary), as the responder saw it or a navigator found it."""

    __tablename__ = "follow_up_needs"
    __table_args__ = (UniqueConstraint("follow_up_id", "need", name="uq_follow_up_needs_need"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    need: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # "handoff" (seen on the response) or "navigator"
    noted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    noted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Referral(Base):
    """A referral of the neighbor to a service of the HSDS directory, for one need, with its closed loop.

    The service is named by its HSDS id (the directory is re-imported, never by foreign key); its name and its
    organization's are kept as they were when the referral was made. Sharing the neighbor's details with the
    organization needs their consent (``consent_id``).
    """

    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("follow_up_id", "client_token", name="uq_referrals_client_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    need: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[str] = mapped_column(String(36), index=True)
    service_name: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[str] = mapped_column(String(36))
    organization_name: Mapped[str] = mapped_column(Text)
    consent_id: Mapped[int] = mapped_column(ForeignKey("neighbor_consents.id"))
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus, 16))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    no_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    client_token: Mapped[str] = mapped_column(String(64))
    # The partner's last status update applied (its FHIR Task's lastModified): an older one arriving late is stale.
    partner_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
