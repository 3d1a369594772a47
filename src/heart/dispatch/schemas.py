"""Response (assignment) API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from heart.inputs import Input, RowId
from heart.navigation.followups.schemas import Handoff
from heart.programs.models import UnitStatus


class AssignUnit(Input):
    model_config = ConfigDict(extra="forbid")

    unit_id: RowId
    at: AwareDatetime | None = Field(default=None, description="when the unit was sent; defaults to now")
    additional: bool = Field(default=False, description="send it although the call already has a unit on it "
                                                        "(\"add a unit\"); otherwise a second unit is refused")


class FallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: str | None = Field(default=None, description="the reason being confirmed; needed when the call waited "
                                                          "past the maximum wait while units were free "
                                                          "(not_dispatched_in_time)")


class StatusUpdate(Input):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = Field(default=None, description="when it happened; defaults to now")


class TransportStart(StatusUpdate):
    destination: str | None = Field(default=None, max_length=128)


class ClearResponse(Input):
    """Outcomes recorded when a unit clears; these feed the program dashboard."""

    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = None
    transported: bool | None = Field(default=None, description="defaults to whether a transport was started")
    transport_destination: str | None = Field(default=None, max_length=128)
    pd_backup_for_safety: bool
    ems_support: bool
    team_felt_safe: bool | None = Field(
        default=None, description="the crew's answer: did the team feel safe? (null: not asked; the phone form asks)")
    disposition: str = Field(min_length=1, max_length=64)
    needs: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    consent_to_follow_up: bool = False
    narrative: str | None = Field(default=None, max_length=20000)
    handoff: Handoff | None = Field(default=None, description="the warm handoff to Care Navigation (kept only with "
                                                              "consent to follow-up): who, how and when to reach them")


class CancelResponse(Input):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = None
    reason: str = Field(min_length=1, max_length=256)
    call_still_needs_response: bool = Field(
        default=True, description="false when the call itself is no longer needed (e.g. caller withdrew)"
    )


class ResponsePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int
    unit_id: int
    program_id: int
    status: str
    dispatched_at: datetime
    en_route_at: datetime | None
    on_scene_at: datetime | None
    transport_started_at: datetime | None
    cleared_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    transported: bool | None
    transport_destination: str | None
    pd_backup_for_safety: bool | None
    ems_support: bool | None
    team_felt_safe: bool | None = None
    disposition: str | None


class RecommendationPublic(BaseModel):
    """An available unit and its estimated time to the scene (null when a position is unknown)."""

    model_config = ConfigDict(from_attributes=True)

    unit_id: int
    call_sign: str
    minutes: float | None
    distance_km: float | None


class QueuedCallPublic(BaseModel):
    call_id: int
    pathway: str
    waiting_since: datetime
    waited_minutes: float
    max_wait_minutes: int
    over_max_wait: bool


class Escalate(Input):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=200, description="why a visit is needed (plain words)")


class BackupRequest(Input):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["pd", "ems"] = Field(description="pd: police for team safety; ems: medical support")


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    message: str
    call_id: int | None
    response_id: int | None
    unit_id: int | None
    raised_at: datetime
    acknowledged_at: datetime | None
    crew_acknowledged_at: datetime | None = None


class OutOfServiceRequest(Input):
    """Why a unit is out of service (a recorded reason, shown to the board)."""

    reason: str = Field(min_length=1, max_length=256)


class ServiceStatusPublic(BaseModel):
    """A unit's status as the board sees it, with the reason it is out of service."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    call_sign: str
    status: UnitStatus
    status_reason: str | None
    status_changed_at: datetime | None
