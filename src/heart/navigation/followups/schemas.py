"""Follow-up API shapes: the warm handoff, a navigator's actions, and what the queue and a follow-up show."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from heart.inputs import Input
from heart.navigation.followups.models import ReferralStatus
from heart.neighbors.schemas import NeighborDetails, NeighborPublic

Token = Field(min_length=8, max_length=64, description="a random token; the same action sent twice is done once")


class Handoff(NeighborDetails):
    """A responder's or CCD clinician's warm handoff: who the neighbor is, the best way and time to reach them, and
    what the navigator should know. Kept only with the neighbor's consent to follow-up."""

    note: str | None = Field(default=None, max_length=4000,
                             description="for the navigator (kept as the follow-up's first note)")

    @field_validator("note", mode="before")
    @classmethod
    def _trim_note(cls, value: object) -> object:
        return value.strip() or None if isinstance(value, str) else value


class PhoneHandoff(Input):
    """A CCD clinician's handoff after resolving a call by phone, with the neighbor's consent."""

    consent_to_follow_up: bool = Field(description="the neighbor agreed to be followed up (required: true)")
    needs: list[str] = Field(default_factory=list, max_length=20)
    handoff: Handoff = Field(default_factory=Handoff)


class AttemptCreate(Input):
    method: str = Field(min_length=1, max_length=32)
    result: str = Field(min_length=1, max_length=32)
    at: AwareDatetime | None = Field(default=None, description="when it was made; defaults to now")
    client_token: str = Token


class NoteCreate(Input):
    text: str = Field(min_length=1, max_length=20000)
    client_token: str = Token


class NoteStrike(Input):
    reason: str = Field(min_length=1, max_length=256)


class NeedCreate(Input):
    need: str = Field(min_length=1, max_length=64)


class ReferralCreate(Input):
    need: str = Field(min_length=1, max_length=64)
    service_id: str = Field(min_length=1, max_length=36, description="an HSDS service id of the directory")
    consent_to_share: bool = Field(default=False, description="the neighbor agrees now that their details are shared "
                                                              "with the service's organization")
    at: AwareDatetime | None = None
    client_token: str = Token


class ReferralMove(Input):
    status: ReferralStatus
    at: AwareDatetime | None = None


class FollowUpClose(Input):
    outcome: str = Field(min_length=1, max_length=32)
    at: AwareDatetime | None = None
    facility: str | None = Field(default=None, max_length=64,
                                 description="for an outcome that requires one: a facility of the program's list")
    plan: str | None = Field(default=None, max_length=20000,
                             description="for an outcome that requires one: the plan, in words (kept in the record)")


class CaseOpen(Input):
    """A case of a program whose cases begin from a referral or a petition (never from a 911 call)."""

    intake: str = Field(min_length=1, max_length=32, description="where it came from: one of the program's intake "
                                                                 "sources")
    reference: str | None = Field(default=None, max_length=256, description="who referred, their reference (a "
                                  "petition or custody-order number); kept in the case, never in events")
    neighbor: Handoff = Field(description="who the case is for, how to reach them, and a first note")
    needs: list[str] = Field(default_factory=list, max_length=20)
    consent_to_follow_up: bool = Field(default=False, description="the person agreed to be contacted (required by a "
                                                                   "program whose cases stand on consent)")
    client_token: str = Token

    @field_validator("reference", mode="before")
    @classmethod
    def _trim_reference(cls, value: object) -> object:
        return value.strip() or None if isinstance(value, str) else value


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    method: str
    result: str
    reached: bool
    by_id: int | None


class NotePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author_id: int | None
    text: str
    created_at: datetime
    struck_at: datetime | None
    strike_reason: str | None


class FollowUpNeedPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    need: str
    source: str
    noted_at: datetime


class ReferralPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    follow_up_id: int
    need: str
    service_id: str
    service_name: str
    organization_id: str
    organization_name: str
    status: ReferralStatus
    made_at: datetime
    accepted_at: datetime | None
    completed_at: datetime | None
    declined_at: datetime | None
    no_response_at: datetime | None


class FollowUpPublic(BaseModel):
    """A follow-up as the queue lists it (its neighbor's name is a read of their record, and logged)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    status: str
    neighbor_id: int
    neighbor_name: str
    program: str = Field(description="the case program (CN, or a pilot's code)")
    encounter_id: int | None = Field(description="the encounter whose handoff opened it (None: opened from a "
                                                 "referral or a petition)")
    call_id: int | None
    intake: str | None = Field(default=None, description="a case opened from a referral or a petition: its source")
    opened_at: datetime
    due_at: datetime
    overdue: bool
    attempts: int
    needs: list[str]
    outcome: str | None
    outcome_facility: str | None = None
    closed_at: datetime | None
    supervisor_alerted_at: datetime | None
    alert_acknowledged_at: datetime | None


class FollowUpDetail(FollowUpPublic):
    neighbor: NeighborPublic
    intake_reference: str | None = None
    outcome_plan: str | None = None
    contact_attempts: list[AttemptPublic]
    notes: list[NotePublic]
    referrals: list[ReferralPublic]


class QueuePublic(BaseModel):
    """Open follow-ups: awaiting first contact by due time (overdue first), then those in contact."""

    awaiting_contact: list[FollowUpPublic]
    in_contact: list[FollowUpPublic]
    alerts: list[FollowUpPublic] = Field(description="due follow-ups nobody touched, not yet acknowledged")
    recently_closed: list[FollowUpPublic]
