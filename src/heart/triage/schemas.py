"""Triage API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from heart.inputs import Input

Pathway = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Z][A-Z0-9_]*$",
                                description="a program code of the city (checked against its programs)")]


class ReasonPublic(BaseModel):
    rule: str
    text: str


class DecisionPublic(BaseModel):
    """A triage decision: where the call goes, under which policy version, and why."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int
    policy_id: str
    policy_version: int
    pathway: str
    recommended_pathway: str
    reasons: list[ReasonPublic]
    unanswered: list[str]
    fallback: str | None
    decided_at: datetime
    decided_by_id: int | None
    override_reason: str | None


class TriageRequest(Input):
    model_config = ConfigDict(extra="forbid")

    policy: str | None = Field(default=None, min_length=1, max_length=64,
                               description="a policy's name (see `heart triage policies`); the default when omitted")


class OverrideRequest(Input):
    model_config = ConfigDict(extra="forbid")

    pathway: Pathway
    reason: str = Field(min_length=3, max_length=1000, description="why the person chose another pathway")
